/*
 * tus upload state. The row's offset is the durable offset: it only moves
 * after the file's bytes up to it were fdatasync'd, so a crash at any
 * point leaves a row that never claims more than the disk holds. Bytes
 * past it in the file are leftovers and are cut off before the next write.
 *
 * Several daemons may share the database and the data directory, so an
 * upload is serialised across processes, not only inside one: whoever
 * writes its file or finishes it holds a session advisory lock on the
 * upload (vh_upload_lock), and every descriptor that writes the file
 * holds an OFD lock on it (vh_blobstore_lock_fd). The offset is read under
 * those locks, so nothing is cut or overwritten that another writer still
 * relies on, and the file is moved into the store only by the holder.
 * Finishing is one transaction: the blob's pin and row, the entry, its
 * media row and job and the upload's completion commit together (the
 * trigger of schema/0015), so a retry after any failure finds either
 * nothing done or everything, and each upload costs one WAL flush.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "vh_base64.h"
#include "vh_blobgc.h"
#include "vh_blobstore.h"
#include "vh_db.h"
#include "vh_entry.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_text.h"
#include "vh_tusparse.h"
#include "vh_upload.h"
#include "vh_utf8.h"
#include "vh_xmalloc.h"

#define SPOOL_PREFIX "tus"
/* Its own key space next to the blob collector's (vh_blobgc.c, seed 1347). */
#define UPLOAD_LOCK "hashtextextended('upload:' || $1, 7573)"
#define FINISHING "verhaal.finishing_upload"

int
vh_upload_file_fields(const struct vh_tus_metadata *md, char **filename,
    const char **filetype, char **why)
{
	const char	*s;
	size_t		 len;

	*filename = NULL;
	*filetype = NULL;
	if ((s = vh_tus_metadata_get(md, "filename", &len)) != NULL) {
		/* Strict UTF-8 has no NUL, so the copy keeps every byte. */
		if (vh_utf8_valid((const unsigned char *)s, len) != len) {
			*why = vh_xstrdup("metadata 'filename' is not UTF-8");
			return (VH_EINVAL);
		}
		*filename = vh_xstrndup(s, len);
		if (vh_text_clean_filename(*filename, len) != 0) {
			free(*filename);
			*filename = NULL;
			*why = vh_xstrdup("metadata 'filename' may not contain "
			    "control characters");
			return (VH_EINVAL);
		}
	}
	if ((s = vh_tus_metadata_get(md, "filetype", &len)) != NULL) {
		/* A media type is printable ASCII; it is recorded, never
		 * trusted (the media job looks at the bytes). */
		for (size_t i = 0; i < len; i++) {
			if ((unsigned char)s[i] < 0x20 ||
			    (unsigned char)s[i] > 0x7e || len > 255) {
				free(*filename);
				*filename = NULL;
				*why = vh_xstrdup("metadata 'filetype' must "
				    "be a media type such as audio/ogg");
				return (VH_EINVAL);
			}
		}
		*filetype = s;
	}
	return (0);
}

void
vh_upload_clear(struct vh_upload *u)
{
	free(u->metadata);
	free(u->spool_path);
	memset(u, 0, sizeof *u);
}

static void
new_id(char id[33])
{
	static const char	hex[] = "0123456789abcdef";
	uint8_t			raw[16];

	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		vh_fatal("getrandom");
	for (int i = 0; i < 16; i++) {
		id[2 * i] = hex[raw[i] >> 4];
		id[2 * i + 1] = hex[raw[i] & 15];
	}
	id[32] = '\0';
}

static int
sync_dir_of(const char *path)
{
	char	*copy = vh_xstrdup(path);
	int	 fd, rc = 0;

	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		rc = VH_EIO;
	if (fd != -1)
		close(fd);
	free(copy);
	return (rc);
}

int
vh_upload_place(PGconn *db, struct vh_upload *u, json_t *fields,
    char **err)
{
	struct vh_tus_metadata	*md = NULL;
	const char		*why, *key, *v;
	char			*out = NULL, *b64, *tmp;
	size_t			 len;
	int			 rc;

	if (json_object_get(fields, "lat") == NULL)
		return (0);
	if ((rc = vh_entry_place(db, fields, err)) != 0)
		return (rc);
	/* Checked at creation; parsed again to write it without them. */
	if (vh_tus_metadata_parse(u->metadata, strlen(u->metadata), &md,
	    &why) != 0) {
		*err = vh_xasprintf("Upload-Metadata: %s", why);
		return (VH_EINVAL);
	}
	for (size_t i = 0; (key = vh_tus_metadata_key(md, i)) != NULL; i++) {
		if (strcmp(key, "lat") == 0 || strcmp(key, "lon") == 0 ||
		    strcmp(key, "area") == 0)
			continue;
		v = vh_tus_metadata_get(md, key, &len);
		b64 = len > 0 ? vh_base64_encode(v, len) : NULL;
		tmp = vh_xasprintf("%s%s%s%s%s", out != NULL ? out : "",
		    out != NULL ? "," : "", key, b64 != NULL ? " " : "",
		    b64 != NULL ? b64 : "");
		free(b64);
		free(out);
		out = tmp;
	}
	v = json_string_value(json_object_get(fields, "area"));
	b64 = vh_base64_encode(v, strlen(v));
	tmp = vh_xasprintf("%s%sarea %s", out != NULL ? out : "",
	    out != NULL ? "," : "", b64);
	free(b64);
	free(out);
	free(u->metadata);
	u->metadata = tmp;
	vh_tus_metadata_free(md);
	return (0);
}

int
vh_upload_create(PGconn *db, struct vh_blobstore *bs, struct vh_upload *u,
    const struct vh_principal *who, int64_t expiry_ms, int *fd, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;
	int			 rc = VH_EIO, saved;

	*fd = -1;
	new_id(u->id);
	u->spool_path = vh_blobstore_spool_path(bs, SPOOL_PREFIX);
	/* Locked before its row exists: the litter sweep leaves a file alone
	 * while its lock is held, and removes it if the process dies before
	 * the row is committed. */
	if ((*fd = open(u->spool_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0640)) == -1 || vh_blobstore_lock_fd(*fd, false) != 0 ||
	    sync_dir_of(u->spool_path) != 0) {
		*err = vh_xasprintf("creating %s: %s", u->spool_path,
		    strerror(errno));
		goto fail;
	}
	vh_db_params_init(&p);
	vh_db_params_str(&p, u->id);
	/* A deferred length (tus Upload-Defer-Length) is NULL. */
	if (u->length >= 0)
		vh_db_params_int(&p, u->length);
	else
		vh_db_params_str(&p, NULL);
	vh_db_params_str(&p, u->metadata != NULL ? u->metadata : "");
	vh_db_params_str(&p, strrchr(u->spool_path, '/') + 1);
	vh_db_params_id(&p, who->account_id);
	vh_db_params_id(&p, who->collection_id);
	vh_db_params_int(&p, expiry_ms);
	r = vh_db_exec_prepared(db,
	    "INSERT INTO upload (id, length, metadata, spool_name,"
	    " account_id, collection_id, expires_at) VALUES ($1, $2, $3, $4, $5,"
	    " $6, now() + $7 * interval '1 ms')"
	    " RETURNING extract(epoch FROM expires_at)::bigint", p.n, p.v, err);
	if (r == NULL) {
		rc = VH_EDB;
		goto fail;
	}
	u->expires = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	u->account_id = who->account_id;
	u->collection_id = who->collection_id;
	u->owner = *who;
	PQclear(r);
	return (0);
fail:
	saved = errno;
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
		unlink(u->spool_path);
	}
	errno = saved;		/* ENOSPC makes it a 507 */
	return (rc);
}

int
vh_upload_load(PGconn *db, struct vh_blobstore *bs, const char *id,
    struct vh_upload *u, char **err)
{
	const char	*params[1] = { id };
	PGresult	*r;

	memset(u, 0, sizeof *u);
	r = vh_db_exec_prepared(db,
	    "SELECT length, \"offset\", metadata, spool_name,"
	    " coalesce(u.account_id, 0), coalesce(u.collection_id, 0),"
	    " completed_at IS NOT NULL, extract(epoch FROM expires_at)::bigint,"
	    " coalesce(u.media_id, 0), coalesce(m.entry_id, 0),"
	    " coalesce(u.blob_sha256, ''), coalesce(a.role, ''),"
	    " coalesce(a.name, '')"
	    " FROM upload u LEFT JOIN media m ON m.id = u.media_id"
	    " LEFT JOIN account a ON a.id = u.account_id"
	    " WHERE u.id = $1", 1, params, err);
	if (r == NULL)
		return (VH_EDB);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return (VH_ENOENT);
	}
	snprintf(u->id, sizeof u->id, "%s", id);
	u->length = PQgetisnull(r, 0, 0) ? -1 :
	    strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	u->offset = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	u->metadata = vh_xstrdup(PQgetvalue(r, 0, 2));
	u->spool_path = vh_xasprintf("%s/spool/%s", vh_blobstore_root(bs),
	    PQgetvalue(r, 0, 3));
	u->account_id = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
	u->collection_id = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
	u->completed = strcmp(PQgetvalue(r, 0, 6), "t") == 0;
	u->expires = strtoll(PQgetvalue(r, 0, 7), NULL, 10);
	u->media_id = strtoll(PQgetvalue(r, 0, 8), NULL, 10);
	u->entry_id = strtoll(PQgetvalue(r, 0, 9), NULL, 10);
	snprintf(u->blob_sha256, sizeof u->blob_sha256, "%s",
	    PQgetvalue(r, 0, 10));
	/* The creator: whoever continues the upload, the entry is theirs. */
	u->owner.account_id = u->account_id;
	u->owner.collection_id = u->collection_id;
	if (u->account_id == 0)
		u->owner.role = VH_ROLE_RESIDENT;
	else if (vh_role_parse(PQgetvalue(r, 0, 11), &u->owner.role) != 0)
		u->owner.role = VH_ROLE_NONE;	/* the account is gone */
	snprintf(u->owner.name, sizeof u->owner.name, "%s",
	    PQgetvalue(r, 0, 12));
	PQclear(r);
	return (0);
}

int
vh_upload_lock(PGconn *db, const char *id, char **err)
{
	const char	*params[1] = { id };
	PGresult	*r;
	int		 rc;

	if ((r = vh_db_exec_prepared(db,
	    "SELECT pg_try_advisory_lock(" UPLOAD_LOCK ")",
	    1, params, err)) == NULL)
		return (VH_EDB);
	rc = strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? 0 : VH_ECONFLICT;
	PQclear(r);
	return (rc);
}

void
vh_upload_unlock(PGconn *db, const char *id)
{
	const char *params[1] = { id };

	PQclear(vh_db_prepared(db,
	    "SELECT pg_advisory_unlock(" UPLOAD_LOCK ")", 1, params));
}

/*
 * The caller holds the upload's database lock, so whoever else holds the
 * file's lock is about to let go: the previous request closed its
 * descriptor, but a sandbox child forked meanwhile has a copy of it (and
 * so of the lock) until its exec. Waits up to a second for that copy;
 * VH_ECONFLICT after it (a writer elsewhere that lost its session).
 */
static int
lock_partial(int fd)
{
	struct timespec	ts = { 0, 1000 * 1000 };
	int		rc;

	for (int waited_ms = 0;; waited_ms += (int)(ts.tv_nsec / 1000000)) {
		if ((rc = vh_blobstore_lock_fd(fd, false)) != VH_ECONFLICT ||
		    waited_ms >= 1000)
			return (rc);
		nanosleep(&ts, NULL);
		if (ts.tv_nsec < 64 * 1000 * 1000)
			ts.tv_nsec *= 2;
	}
}

int
vh_upload_open(const struct vh_upload *u, int *fd, char **err)
{
	int	rc = VH_EIO;

	/* Never O_TRUNC: the cut to the durable offset happens only once this
	 * descriptor holds the file's lock, so a writer elsewhere that still
	 * has it open (a stalled request, another daemon) loses nothing. */
	if ((*fd = open(u->spool_path, O_WRONLY | O_CLOEXEC)) == -1)
		goto fail;
	if ((rc = lock_partial(*fd)) != 0)
		goto fail;
	if (ftruncate(*fd, u->offset) == -1) {
		rc = VH_EIO;
		goto fail;
	}
	return (0);
fail:
	if (rc == VH_ECONFLICT)
		*err = vh_xasprintf("the partial file of upload %.8s… is being "
		    "written by another request", u->id);
	else
		*err = vh_xasprintf("opening the partial file of upload %.8s…: "
		    "%s", u->id, strerror(errno));
	if (*fd != -1)
		close(*fd);
	*fd = -1;
	return (rc);
}

int
vh_upload_advance(PGconn *db, struct vh_upload *u, int fd, int64_t new_offset,
    int64_t length, int64_t expiry_ms, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;

	if (fdatasync(fd) == -1) {
		*err = vh_xasprintf("fdatasync of upload %.8s…: %s", u->id,
		    strerror(errno));
		return (VH_EIO);
	}
	vh_db_params_init(&p);
	vh_db_params_str(&p, u->id);
	vh_db_params_int(&p, u->offset);
	vh_db_params_int(&p, new_offset);
	if (length >= 0)
		vh_db_params_int(&p, length);
	else
		vh_db_params_str(&p, NULL);
	vh_db_params_int(&p, expiry_ms);
	r = vh_db_exec_prepared(db, "UPDATE upload SET \"offset\" = $3,"
	    " length = coalesce(length, $4), updated_at = now(),"
	    " expires_at = now() + $5 * interval '1 ms'"
	    " WHERE id = $1 AND \"offset\" = $2 AND completed_at IS NULL",
	    p.n, p.v, err);
	if (r == NULL)
		return (VH_EDB);
	if (strcmp(PQcmdTuples(r), "1") != 0) {
		PQclear(r);
		*err = vh_xasprintf("upload %.8s… moved on meanwhile", u->id);
		return (VH_ECONFLICT);
	}
	PQclear(r);
	u->offset = new_offset;
	if (u->length < 0 && length >= 0)
		u->length = length;
	return (0);
}

/* Records the hash of a complete partial file before it moves. */
static int
note_hash(PGconn *db, struct vh_upload *u, const char *hex, char **err)
{
	const char	*params[2] = { u->id, hex };
	PGresult	*r;

	if ((r = vh_db_exec_prepared(db,
	    "UPDATE upload SET blob_sha256 = $2 WHERE id ="
	    " $1", 2, params, err)) == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

/*
 * Moves a complete upload's file into the blob store. Its hash is
 * recorded first: if the process dies after the move but before the
 * entry is committed, the next attempt finds the blob by that hash
 * instead of a partial file that is no longer there.
 */
static int
store_file(PGconn *db, struct vh_blobstore *bs, struct vh_upload *u,
    char hex[65], char **err)
{
	char	 moved[65];
	int64_t	 size;
	int	 rc;

	rc = vh_blobstore_hash_file(u->spool_path, hex, &size);
	if (rc == VH_ENOENT && u->blob_sha256[0] != '\0' &&
	    vh_blobstore_exists(bs, u->blob_sha256, &size) == 0) {
		memcpy(hex, u->blob_sha256, 65);	/* moved last time */
		return (0);
	}
	if (rc != 0) {
		*err = vh_xasprintf("upload %.8s…: its file is gone", u->id);
		return (VH_EIO);
	}
	if ((rc = note_hash(db, u, hex, err)) != 0)
		return (rc);
	rc = vh_blobstore_put_file(bs, u->spool_path, moved);
	if (rc == VH_ENOENT && vh_blobstore_exists(bs, hex, &size) == 0)
		return (0);		/* an earlier attempt moved it */
	if (rc != 0) {
		*err = vh_xasprintf("storing upload %.8s…: %s", u->id,
		    vh_strerror(rc));
		return (rc);
	}
	if (strcmp(moved, hex) != 0) {
		*err = vh_xasprintf("upload %.8s… changed while it was stored", u->id);
		return (VH_EIO);
	}
	return (0);
}

/*
 * Drops an upload that can never become an entry (its metadata was
 * checked at creation, but an entry_id named there may be gone since):
 * the client gets the reason once, and then 404, not the same 422 for as
 * long as it retries.
 */
static void
discard(PGconn *db, const struct vh_upload *u)
{
	const char	*params[1] = { u->id };
	char		*err = NULL;
	PGresult	*r;

	if ((r = vh_db_exec_prepared(db, "DELETE FROM upload WHERE id = $1 AND"
	    " completed_at IS NULL", 1, params, &err)) == NULL) {
		vh_log_warnx("upload %.8s…: discarding: %s", u->id, err);
		free(err);
		return;
	}
	PQclear(r);
	if (unlink(u->spool_path) == -1 && errno != ENOENT)
		vh_log_warn("unlink %s", u->spool_path);
}

/*
 * Opens the transaction that finishes upload id with the blob hex: the
 * blob pinned (vh_blobgc_pin_tx) and the upload named in the setting that
 * the trigger on media reads (schema/0015). Both last until the
 * transaction ends, so nothing is left to undo on the connection after
 * it, whatever happens.
 */
static int
begin_finish(PGconn *db, struct vh_blobstore *bs, const char *id,
    const char *hex, char **err)
{
	const char	*params[1] = { id };
	PGresult	*r;
	int		 rc;

	if (vh_db_begin(db, err) != 0)
		return (VH_EDB);
	if ((rc = vh_blobgc_pin_tx(db, bs, hex, err)) != 0)
		goto fail;
	if ((r = vh_db_exec_prepared(db,
	    "SELECT set_config('" FINISHING "', $1, true)",
	    1, params, err)) == NULL) {
		rc = VH_EDB;
		goto fail;
	}
	PQclear(r);
	return (0);
fail:
	vh_db_rollback(db);
	return (rc);
}

/*
 * Creates the entry of the upload begin_finish named and commits: the
 * trigger on media marks that upload complete, with this media row, or
 * fails the whole transaction when it was finished already. VH_EEXIST
 * then: the entry exists, made by an earlier attempt or another process.
 * On any failure the transaction is rolled back.
 */
static int
end_finish(PGconn *db, const json_t *fields, const struct vh_principal *who,
    const struct vh_entry_file *f, int64_t *media_id, json_t **entry,
    char **err)
{
	int	 rc;

	if ((rc = vh_entry_store_tx(db, fields, who, f, 1, media_id, entry,
	    err)) != 0) {
		vh_db_rollback(db);
		if (*err != NULL &&
		    strstr(*err, "upload already finished") != NULL) {
			free(*err);
			*err = NULL;
			return (VH_EEXIST);
		}
		return (rc);
	}
	if (vh_db_commit(db, err) != 0) {
		/* A failed COMMIT has rolled back. */
		json_decref(*entry);
		*entry = NULL;
		return (VH_EDB);
	}
	return (0);
}

/* Another attempt finished the upload first: answers as it would have. */
static int
already_finished(PGconn *db, struct vh_blobstore *bs, struct vh_upload *u,
    char **err)
{
	struct vh_upload	now;
	int			rc;

	if ((rc = vh_upload_load(db, bs, u->id, &now, err)) != 0)
		return (rc == VH_ENOENT ? VH_EDB : rc);
	if (!now.completed) {
		vh_upload_clear(&now);
		*err = vh_xasprintf("upload %.8s…: finished by no one", u->id);
		return (VH_EDB);
	}
	vh_upload_clear(u);
	*u = now;
	return (0);
}

int
vh_upload_finish(PGconn *db, struct vh_blobstore *bs, struct vh_upload *u,
    json_t **entry, char **err)
{
	struct vh_tus_metadata	*md = NULL;
	struct vh_entry_file	 f = { .size = u->length };
	const struct vh_principal *who = &u->owner;
	json_t			*fields = NULL;
	const char		*why = NULL;
	char			*name = NULL;
	int64_t			 media_id;
	int			 rc;

	*entry = NULL;
	if (vh_tus_metadata_parse(u->metadata, strlen(u->metadata), &md,
	    &why) != 0) {
		*err = vh_xasprintf("Upload-Metadata: %s", why);
		rc = VH_EINVAL;
		goto out;
	}
	if ((fields = vh_entry_from_metadata(md, err)) == NULL) {
		rc = VH_EINVAL;
		goto out;
	}
	if ((rc = vh_entry_validate(fields, who, err)) != 0)
		goto out;
	if ((rc = vh_upload_file_fields(md, &name, &f.declared_type,
	    err)) != 0)
		goto out;
	f.filename = name;
	if ((rc = store_file(db, bs, u, f.sha256, err)) != 0) {
		/* Not the client's fault, whatever the code. */
		rc = rc == VH_EINVAL ? VH_EIO : rc;
		goto out;
	}
	/* One transaction: the pin, the blob row, the entry, its media row
	 * and job, and the upload's completion, committed together. */
	if ((rc = begin_finish(db, bs, u->id, f.sha256, err)) != 0) {
		rc = rc == VH_EINVAL ? VH_EIO : rc;
		goto out;
	}
	rc = end_finish(db, fields, who, &f, &media_id, entry, err);
	if (rc == VH_EEXIST) {
		rc = already_finished(db, bs, u, err);
		goto out;
	}
	if (rc != 0)
		goto out;
	u->completed = true;
	u->media_id = media_id;
	u->entry_id = json_integer_value(json_object_get(*entry, "id"));
	free(u->metadata);
	u->metadata = vh_xstrdup("");
out:
	if (rc == VH_EINVAL)
		discard(db, u);
	free(name);
	json_decref(fields);
	vh_tus_metadata_free(md);
	return (rc);
}

int
vh_upload_store_whole(PGconn *db, struct vh_blobstore *bs, struct vh_upload *u,
    const struct vh_principal *who, const json_t *fields,
    const struct vh_entry_file *f, json_t **entry, char **err)
{
	struct vh_db_params	 p;
	int64_t			 media_id;
	PGresult		*r;
	int			 rc;

	*entry = NULL;
	new_id(u->id);
	vh_db_params_init(&p);
	vh_db_params_str(&p, u->id);
	vh_db_params_int(&p, u->length);
	vh_db_params_id(&p, who->account_id);
	vh_db_params_id(&p, who->collection_id);
	/*
	 * One transaction, so one WAL flush per upload: the pin, the upload
	 * row (unfinished, with no file; the media row's trigger finishes
	 * it), the blob row, the entry, its media row and job. Nothing of it
	 * is seen before the commit, and a failure anywhere leaves nothing:
	 * the stored file is then named by no row and swept. The entry holds
	 * the metadata, as in vh_upload_finish.
	 */
	if ((rc = begin_finish(db, bs, u->id, f->sha256, err)) != 0)
		return (rc);
	r = vh_db_exec_prepared(db,
	    "INSERT INTO upload (id, length, \"offset\", metadata,"
	    " spool_name, account_id, collection_id, expires_at) VALUES ($1, $2,"
	    " $2, '', '', $3, $4, now() + interval '1 hour')", p.n, p.v, err);
	if (r == NULL) {
		vh_db_rollback(db);
		return (VH_EDB);
	}
	PQclear(r);
	/* A new id: nobody else can have finished it. */
	if ((rc = end_finish(db, fields, who, f, &media_id, entry, err)) != 0)
		return (rc == VH_EEXIST ? VH_EDB : rc);
	u->offset = u->length;
	u->completed = true;
	u->media_id = media_id;
	return (0);
}

int
vh_upload_delete(PGconn *db, const struct vh_upload *u, char **err)
{
	const char	*params[1] = { u->id };
	PGresult	*r;

	r = vh_db_exec_prepared(db,
	    "DELETE FROM upload WHERE id = $1", 1, params, err);
	if (r == NULL)
		return (VH_EDB);
	if (strcmp(PQcmdTuples(r), "1") != 0) {
		PQclear(r);
		return (VH_ENOENT);
	}
	PQclear(r);
	/* A finished upload's file is the entry's blob now. */
	if (!u->completed && unlink(u->spool_path) == -1 && errno != ENOENT)
		vh_log_warn("unlink %s", u->spool_path);
	return (0);
}

int
vh_upload_reap(PGconn *db, struct vh_blobstore *bs, int *n, char **err)
{
	PGresult	*r;
	char		*path;

	*n = 0;
	r = vh_db_exec_prepared(db,
	    "DELETE FROM upload WHERE completed_at IS NULL AND"
	    " expires_at < now() RETURNING spool_name", 0, NULL, err);
	if (r == NULL)
		return (VH_EDB);
	for (int i = 0; i < PQntuples(r); i++) {
		(*n)++;
		if (PQgetvalue(r, i, 0)[0] == '\0')
			continue;	/* a whole upload's: no file */
		path = vh_xasprintf("%s/spool/%s", vh_blobstore_root(bs),
		    PQgetvalue(r, i, 0));
		if (unlink(path) == -1 && errno != ENOENT)
			vh_log_warn("unlink %s", path);
		free(path);
	}
	PQclear(r);
	return (0);
}
