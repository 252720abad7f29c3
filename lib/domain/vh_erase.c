/*
 * Erasure. The database decides what is gone: one transaction locks the
 * entry, collects every blob its rows name (vh_entry_blobs() in schema
 * 0007 follows each foreign key to blob, so renditions added by later
 * migrations are found without this file knowing their columns), deletes
 * the entry (the rest cascades), and drops each blob row no other row
 * refers to. Only after the commit are those blobs' files unlinked: a
 * crash in between leaves files no row names (to be found by a store
 * check), never rows that point at missing files.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vh_auth.h"
#include "vh_blobstore.h"
#include "vh_db.h"
#include "vh_audit.h"
#include "vh_erase.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

/* The advisory lock key of a blob, as vh_blobgc.c takes it. */
#define LOCK_KEY "hashtextextended($1, 1347)"

static const char *reasons[] = { "withdrawn", "retention", "admin" };

const char *
vh_erase_reason_name(enum vh_erase_reason r)
{
	return ((size_t)r < sizeof reasons / sizeof reasons[0] ?
	    reasons[r] : "admin");
}

int
vh_erase_find_receipt(PGconn *db, const char *code, int64_t *id, char **err)
{
	uint8_t		 hash[32];
	char		 hash_sql[67];
	const char	*params[1] = { hash_sql };
	PGresult	*r;

	vh_auth_hash(code, hash);
	vh_auth_hash_sql(hash, hash_sql);
	if ((r = vh_db_exec(db, "SELECT entry_id FROM receipt WHERE"
	    " code_hash = $1::bytea", 1, params, err)) == NULL)
		return (VH_EDB);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return (VH_ENOENT);
	}
	*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return (0);
}

static int
count(PGresult *r)
{
	int n = atoi(PQcmdTuples(r));

	PQclear(r);
	return (n);
}

/* Unlinks a blob's file wherever the store keeps it. */
static int
remove_file(struct vh_blobstore *bs, const char *hex)
{
	char	*q;
	int	 rc, removed = 0;

	if ((rc = vh_blobstore_delete(bs, hex)) == 0)
		removed = 1;
	else if (rc != VH_ENOENT)
		vh_log_warnx("erase: could not remove blob %s: %s", hex,
		    vh_strerror(rc));
	/* A rejected original waits in quarantine/, outside the backend. */
	if (vh_blobstore_valid_hex(hex) && vh_blobstore_quarantined(bs, hex)) {
		q = vh_xasprintf("%s/quarantine/%s", vh_blobstore_root(bs), hex);
		if (unlink(q) == 0)
			removed = 1;
		else if (errno != ENOENT)
			vh_log_warn("erase: unlink %s", q);
		free(q);
	}
	return (removed);
}

/* Audit row of an erasure: withdraw, purge or delete. */
static int
record(PGconn *db, const char *id, enum vh_erase_reason why,
    const char *actor, char **err)
{
	struct vh_audit_actor a;

	vh_audit_actor_local(&a, actor);
	return (vh_audit_record(db, &a, why == VH_ERASE_WITHDRAWN ? "withdraw" :
	    why == VH_ERASE_RETENTION ? "purge" : "delete", "entry", id,
	    vh_erase_reason_name(why), err));
}

int
vh_erase_entry(PGconn *db, struct vh_blobstore *bs, int64_t id,
    enum vh_erase_reason why, const char *actor, json_t **report, char **err)
{
	char		 idbuf[32], **hashes = NULL;
	bool		*dropped = NULL, *locked = NULL;
	const char	*params[4] = { idbuf };
	PGresult	*r;
	json_t		*what = NULL;
	char		*what_s;
	int		 nblobs = 0, ngone = 0, media, uploads, consent, files = 0;
	int		 rc = VH_EDB;
	bool		 intx = false;

	*report = NULL;
	snprintf(idbuf, sizeof idbuf, "%" PRId64, id);
	/* This function began the transaction: it alone ends it, at out. */
	if (vh_db_begin(db, err) != 0)
		return (VH_EDB);
	intx = true;
	if ((r = vh_db_exec(db, "SELECT kind FROM entry WHERE id = $1 FOR UPDATE",
	    1, params, err)) == NULL)
		goto out;
	if (PQntuples(r) != 1) {
		PQclear(r);
		rc = VH_ENOENT;
		goto out;
	}
	PQclear(r);
	/* The tombstone first, while the row can still be read. */
	params[1] = vh_erase_reason_name(why);
	if ((r = vh_db_exec(db, "INSERT INTO tombstone (entry_id, kind, collection_id,"
	    " created_month, reason) SELECT id, kind, collection_id,"
	    " date_trunc('month', created_at)::date, $2 FROM entry"
	    " WHERE id = $1", 2, params, err)) == NULL)
		goto out;
	PQclear(r);
	if ((r = vh_db_exec(db, "SELECT DISTINCT h FROM vh_entry_blobs($1) h",
	    1, params, err)) == NULL)
		goto out;
	nblobs = PQntuples(r);
	hashes = vh_xcalloc((size_t)nblobs + 1, sizeof *hashes);
	dropped = vh_xcalloc((size_t)nblobs + 1, sizeof *dropped);
	locked = vh_xcalloc((size_t)nblobs + 1, sizeof *locked);
	for (int i = 0; i < nblobs; i++)
		hashes[i] = vh_xstrdup(PQgetvalue(r, i, 0));
	PQclear(r);
	/* A finished upload's row keeps its Upload-Metadata: the story. */
	if ((r = vh_db_exec(db, "DELETE FROM upload WHERE media_id IN (SELECT id FROM"
	    " media WHERE entry_id = $1)", 1, params, err)) == NULL)
		goto out;
	uploads = count(r);
	if ((r = vh_db_exec(db, "DELETE FROM consent WHERE entry_id = $1", 1, params,
	    err)) == NULL)
		goto out;
	consent = count(r);
	if ((r = vh_db_exec(db, "DELETE FROM media WHERE entry_id = $1", 1, params,
	    err)) == NULL)
		goto out;
	media = count(r);
	if ((r = vh_db_exec(db, "DELETE FROM entry WHERE id = $1", 1, params,
	    err)) == NULL)
		goto out;
	PQclear(r);
	/* Blobs another entry still uses stay; the rest lose their row now
	 * and their file after the commit. */
	for (int i = 0; i < nblobs; i++) {
		const char *p[1] = { hashes[i] };

		/* The lock writers pin a blob with (vh_blobgc.c): while an
		 * upload of the same bytes relies on the file, it stays. Held
		 * until the file is gone, past the commit. */
		if ((r = vh_db_exec(db, "SELECT pg_try_advisory_lock(" LOCK_KEY ")",
		    1, p, err)) == NULL)
			goto out;
		locked[i] = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		PQclear(r);
		if (!locked[i])
			continue;
		if ((r = vh_db_exec(db, "DELETE FROM blob WHERE sha256 = $1 AND"
		    " NOT vh_blob_in_use($1)", 1, p, err)) == NULL)
			goto out;
		if ((dropped[i] = count(r) == 1))
			ngone++;
	}
	/* Exports are built per request from these rows: no cache to clear. */
	what = json_pack("{s:I, s:i, s:i, s:i, s:i, s:i, s:b, s:s}",
	    "entry", (json_int_t)id, "media", media, "files", ngone,
	    "files_shared_kept", nblobs - ngone, "upload_records", uploads,
	    "consent_records", consent, "search_index", 1, "export_cache", "none kept");
	what_s = json_dumps(what, JSON_COMPACT | JSON_SORT_KEYS);
	params[2] = actor;
	params[3] = what_s;
	r = vh_db_exec(db, "INSERT INTO deletion_log (entry_id, reason, actor, what)"
	    " VALUES ($1, $2, $3, $4::jsonb)", 4, params, err);
	free(what_s);
	if (r == NULL)
		goto out;
	PQclear(r);
	/* The audit row in the same transaction: no erasure goes unrecorded. */
	if (record(db, idbuf, why, actor, err) != 0)
		goto out;
	/* A failed COMMIT has rolled back: nothing left to end at out. */
	intx = false;
	if (vh_db_commit(db, err) != 0)
		goto out;
	for (int i = 0; i < nblobs; i++)
		if (dropped[i])
			files += remove_file(bs, hashes[i]);
	if (files != ngone)
		vh_log_info("erase: entry %" PRId64 ": %d of %d files were "
		    "already gone", id, ngone - files, ngone);
	vh_log_info("erase: entry %" PRId64 " (%s, by %s): %d media, %d files,"
	    " %d shared files kept", id, vh_erase_reason_name(why), actor,
	    media, ngone, nblobs - ngone);
	*report = what;
	what = NULL;
	rc = 0;
out:
	/* Before the unlocks below, which an aborted transaction refuses. */
	if (intx)
		vh_db_rollback(db);
	json_decref(what);
	for (int i = 0; i < nblobs; i++) {
		const char *p[1] = { hashes[i] };

		if (locked[i])
			PQclear(PQexecParams(db, "SELECT pg_advisory_unlock("
			    LOCK_KEY ")", 1, NULL, p, NULL, NULL, 0));
		free(hashes[i]);
	}
	free(hashes);
	free(dropped);
	free(locked);
	return (rc);
}
