/*
 * Blob garbage collection under advisory locks keyed by the hash
 * (hashtextextended), so that a writer reusing identical content and the
 * collector never race: the writer holds the shared lock while it relies
 * on the file, the collector needs the exclusive one to delete it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vh_blobgc.h"
#include "vh_blobstore.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_jobq.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

#define LOCK_KEY "hashtextextended($1, 1347)"
#define ORPHAN_BATCH 500

/* A blob is in use while a media row names it as original or rendition,
 * or an OpenRosa submission as its sealed XML. */
#define UNUSED(x) " NOT EXISTS (SELECT 1 FROM media m WHERE" \
	" m.blob_sha256 = " x ") AND NOT EXISTS (SELECT 1 FROM media m WHERE" \
	" ARRAY[m.opus_sha256, m.m4a_sha256, m.peaks_sha256," \
	" m.display_sha256, m.thumb_sha256] @> ARRAY[" x "::text])" \
	" AND NOT EXISTS (SELECT 1 FROM odk_submission o WHERE" \
	" o.xml_sha256 = " x ")"

/*
 * Under a pin: the file must be in the store. The same content may have
 * been quarantined after this writer's file was found to be a duplicate
 * and before the pin: the upload still stands (the media job decides about
 * content), so the bytes come back. Quarantine waits for pins
 * (vh_blobgc_quarantine).
 */
static int
pinned_file(struct vh_blobstore *bs, const char *hex, char **err)
{
	int64_t		 have;

	if (vh_blobstore_exists(bs, hex, &have) != 0 &&
	    vh_blobstore_quarantined(bs, hex) &&
	    vh_blobstore_release(bs, hex) != 0)
		vh_log_warnx("blob %s: could not take it back from quarantine",
		    hex);
	if (vh_blobstore_exists(bs, hex, &have) != 0) {
		*err = vh_xasprintf("blob %s was collected while being stored",
		    hex);
		return (VH_ENOENT);
	}
	return (0);
}

int
vh_blobgc_pin(PGconn *db, struct vh_blobstore *bs, const char *hex,
    int64_t size, char **err)
{
	char		 sz[32];
	const char	*params[2] = { hex, sz };
	PGresult	*r;
	int		 rc;

	snprintf(sz, sizeof sz, "%lld", (long long)size);
	if ((r = vh_db_exec(db, "SELECT pg_advisory_lock_shared(" LOCK_KEY ")",
	    1, params, err)) == NULL)
		return (VH_EDB);
	PQclear(r);
	if ((rc = pinned_file(bs, hex, err)) != 0) {
		vh_blobgc_unpin(db, hex);
		return (rc);
	}
	if ((r = vh_db_exec(db, "INSERT INTO blob (sha256, size) VALUES ($1, $2)"
	    " ON CONFLICT (sha256) DO NOTHING", 2, params, err)) == NULL) {
		vh_blobgc_unpin(db, hex);
		return (VH_EDB);
	}
	PQclear(r);
	return (0);
}

int
vh_blobgc_pin_tx(PGconn *db, struct vh_blobstore *bs, const char *hex,
    char **err)
{
	const char	*params[1] = { hex };
	PGresult	*r;

	/* Released by the transaction's end, so no unlock round trip; the
	 * collector's exclusive try-lock fails until then. */
	if ((r = vh_db_exec(db, "SELECT pg_advisory_xact_lock_shared("
	    LOCK_KEY ")", 1, params, err)) == NULL)
		return (VH_EDB);
	PQclear(r);
	return (pinned_file(bs, hex, err));
}

void
vh_blobgc_unpin(PGconn *db, const char *hex)
{
	const char *params[1] = { hex };

	PQclear(PQexecParams(db, "SELECT pg_advisory_unlock_shared(" LOCK_KEY ")",
	    1, NULL, params, NULL, NULL, 0));
}

int
vh_blobgc_collect(PGconn *db, struct vh_blobstore *bs, int64_t grace_s,
    int *n, char **err)
{
	char		 grace[32];
	const char	*params[1] = { grace };
	PGresult	*r, *d;

	*n = 0;
	snprintf(grace, sizeof grace, "%lld", (long long)grace_s);
	r = vh_db_exec(db, "SELECT sha256 FROM blob b WHERE created_at <"
	    " now() - $1 * interval '1 s' AND" UNUSED("b.sha256")
	    " LIMIT 1000", 1, params, err);
	if (r == NULL)
		return (VH_EDB);
	for (int i = 0; i < PQntuples(r); i++) {
		const char *p[1] = { PQgetvalue(r, i, 0) };

		d = vh_db_exec(db, "SELECT pg_try_advisory_lock(" LOCK_KEY ")", 1,
		    p, NULL);
		if (d == NULL || strcmp(PQgetvalue(d, 0, 0), "t") != 0) {
			PQclear(d);
			continue;		/* a writer holds it */
		}
		PQclear(d);
		d = vh_db_exec(db, "DELETE FROM blob b WHERE sha256 = $1 AND"
		    UNUSED("$1"), 1, p, NULL);
		if (d != NULL && strcmp(PQcmdTuples(d), "1") == 0) {
			if (vh_blobstore_delete(bs, p[0]) != 0)
				vh_log_warnx("blob gc: %s had no file", p[0]);
			(*n)++;
		}
		PQclear(d);
		PQclear(PQexecParams(db, "SELECT pg_advisory_unlock(" LOCK_KEY ")",
		    1, NULL, p, NULL, NULL, 0));
	}
	PQclear(r);
	return (0);
}

int
vh_blobgc_remove_orphan(PGconn *db, struct vh_blobstore *bs, const char *hex,
    char **err)
{
	const char	*p[1] = { hex };
	PGresult	*r;
	int		 rc;

	if ((r = vh_db_exec(db, "SELECT pg_try_advisory_lock(" LOCK_KEY ")", 1,
	    p, err)) == NULL)
		return (VH_EDB);
	rc = strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? 0 : VH_ECONFLICT;
	PQclear(r);
	if (rc != 0)
		return (rc);
	/* Asked again under the lock: a pin may have landed since. */
	r = vh_db_exec(db, "SELECT EXISTS (SELECT 1 FROM blob WHERE sha256 = $1)"
	    " OR EXISTS (SELECT 1 FROM upload WHERE blob_sha256 = $1)", 1, p,
	    err);
	if (r == NULL)
		rc = VH_EDB;
	else if (strcmp(PQgetvalue(r, 0, 0), "t") == 0)
		rc = VH_ECONFLICT;
	else if ((rc = vh_blobstore_delete(bs, hex)) != 0)
		*err = vh_xasprintf("removing blob %s: %s", hex, vh_strerror(rc));
	PQclear(r);
	PQclear(PQexecParams(db, "SELECT pg_advisory_unlock(" LOCK_KEY ")", 1,
	    NULL, p, NULL, NULL, 0));
	return (rc);
}

/*
 * The litter sweep: what a killed process left behind, found with the
 * blob store's own iterators. A spool file is alive while a descriptor
 * holds its lock (every writer does, vh_blobstore_lock_fd) or, for the
 * media jobs' job.* files, while it is younger than the oldest running
 * job's claim; a file is only taken when it is older than age_s too.
 */
struct litter {
	PGconn			*db;
	struct vh_blobstore	*bs;
	int64_t			 now, age_s, jobs_since;
	int			 n;
	char			 batch[ORPHAN_BATCH][65];
	int			 nbatch;
	char			*err;
};

static bool
has_prefix(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return (strncmp(name, prefix, n) == 0 && name[n] == '.');
}

/* A tus file is litter when no upload row names it. */
static bool
named_by_upload(struct litter *l, const char *name)
{
	const char	*p[1] = { name };
	PGresult	*r;
	bool		 named = true;	/* unknown: keep it */

	if ((r = vh_db_exec(l->db, "SELECT EXISTS (SELECT 1 FROM upload WHERE"
	    " spool_name = $1)", 1, p, NULL)) != NULL) {
		named = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		PQclear(r);
	}
	return (named);
}

static int
litter_spool(const struct vh_blob_entry *e, void *arg)
{
	struct litter	*l = arg;
	int		 fd;

	if (!e->regular || e->path[0] == '.' || l->now - e->mtime <= l->age_s)
		return (0);
	if (has_prefix(e->path, "job")) {
		/* Written by a job that started after its file: a file older
		 * than every running job's claim is no running job's. */
		if (e->mtime >= l->jobs_since - 5)
			return (0);
		if (vh_blobstore_spool_remove(l->bs, e->path) == 0)
			l->n++;
		return (0);
	}
	if (!has_prefix(e->path, VH_BLOBSTORE_WRITER_PREFIX) &&
	    !has_prefix(e->path, "tus"))
		return (0);
	/* Held while we look, so no writer can start on it meanwhile. */
	if (vh_blobstore_spool_claim(l->bs, e->path, &fd) != 0)
		return (0);
	if ((has_prefix(e->path, VH_BLOBSTORE_WRITER_PREFIX) ||
	    !named_by_upload(l, e->path)) &&
	    vh_blobstore_spool_remove(l->bs, e->path) == 0)
		l->n++;
	close(fd);
	return (0);
}

/* Removes the blobs of the batch that no row names (under the lock of
 * vh_blobgc_remove_orphan, which asks again). */
static int
flush_orphans(struct litter *l)
{
	char		*list, *p;
	const char	*params[1];
	PGresult	*r;
	int		 rc = 0;

	if (l->nbatch == 0)
		return (0);
	list = p = vh_xmalloc((size_t)l->nbatch * 65 + 3);
	*p++ = '{';
	for (int i = 0; i < l->nbatch; i++) {
		memcpy(p, l->batch[i], 64);
		p += 64;
		*p++ = i + 1 < l->nbatch ? ',' : '}';
	}
	*p = '\0';
	params[0] = list;
	l->nbatch = 0;
	r = vh_db_exec(l->db, "SELECT h FROM unnest($1::text[]) h WHERE NOT"
	    " EXISTS (SELECT 1 FROM blob WHERE sha256 = h) AND NOT EXISTS"
	    " (SELECT 1 FROM upload WHERE blob_sha256 = h)", 1, params, &l->err);
	free(list);
	if (r == NULL)
		return (VH_EDB);
	for (int i = 0; i < PQntuples(r); i++) {
		char *err = NULL;

		if ((rc = vh_blobgc_remove_orphan(l->db, l->bs,
		    PQgetvalue(r, i, 0), &err)) == 0) {
			vh_log_info("blob gc: removed orphan blob %s",
			    PQgetvalue(r, i, 0));
			l->n++;
		} else if (rc == VH_EDB) {
			l->err = err;
			break;
		}
		rc = 0;
		free(err);
	}
	PQclear(r);
	return (rc);
}

static int
litter_blob(const struct vh_blob_entry *e, void *arg)
{
	struct litter	*l = arg;

	/* A blob is renamed into place (ctime) just before its writer pins
	 * it: younger ones may still be on their way to a row. */
	if (e->hex == NULL || !e->regular || l->now - e->ctime <= l->age_s)
		return (0);
	memcpy(l->batch[l->nbatch++], e->hex, 65);
	return (l->nbatch == ORPHAN_BATCH ? flush_orphans(l) : 0);
}

int
vh_blobgc_sweep(PGconn *db, struct vh_blobstore *bs, int64_t age_s, int *n,
    char **err)
{
	struct litter	*l;
	int64_t		 since;
	int		 rc;

	*n = 0;
	if (vh_jobq_oldest_running(db, &since, err) != 0)
		return (VH_EDB);
	l = vh_xcalloc(1, sizeof *l);
	l->db = db;
	l->bs = bs;
	l->now = (int64_t)time(NULL);
	l->age_s = age_s;
	l->jobs_since = since;
	rc = vh_blobstore_each_spool(bs, litter_spool, l);
	if (rc == 0)
		rc = vh_blobstore_each(bs, litter_blob, l);
	if (rc == 0)
		rc = flush_orphans(l);
	*n = l->n;
	if (rc != 0)
		*err = l->err != NULL ? l->err : vh_xstrdup("cannot read the "
		    "data directory");
	else
		free(l->err);
	free(l);
	return (rc);
}

int
vh_blobgc_quarantine(PGconn *db, struct vh_blobstore *bs, const char *hex,
    char **err)
{
	const char	*params[1] = { hex };
	PGresult	*r;
	bool		 locked;
	int		 rc;

	if ((r = vh_db_exec(db, "SELECT pg_try_advisory_lock(" LOCK_KEY ")", 1,
	    params, err)) == NULL)
		return (VH_EDB);
	locked = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!locked)
		return (VH_ECONFLICT);
	rc = vh_blobstore_quarantine(bs, hex);
	PQclear(PQexecParams(db, "SELECT pg_advisory_unlock(" LOCK_KEY ")", 1,
	    NULL, params, NULL, NULL, 0));
	return (rc);
}
