/*
 * tus 1.0.0 at /api/v1/uploads: creation (with upload, deferred length),
 * HEAD, PATCH, termination, expiration and checksums (sha1, sha256).
 *
 * Requests for one upload run one at a time: each upload with a request in
 * progress has a slot, whose active operation must finish before the next
 * queued one starts. A new HEAD or PATCH arriving while a PATCH still
 * receives its body closes that PATCH's connection: the old request then
 * saves the bytes it has (fdatasync, offset) and answers into the void,
 * and the new one proceeds from the saved offset. Only someone who may
 * use the upload takes over, and a PATCH only from one that reached the
 * server before it: credentials are checked on the pool, so a stale
 * PATCH can reach this file after its successor (supersedes()).
 * Body bytes go from the loop thread straight into the partial file with
 * pwrite; everything that waits (creating, opening and removing files,
 * starting writeback, loading the row, syncing, finishing) runs on the
 * worker pool.
 *
 * Across processes (several daemons on one database and data directory)
 * a PATCH holds the upload's advisory lock on a connection of its own,
 * from before it loads the row until its bytes are committed, and its
 * descriptor holds the file's lock (vh_upload.c). A PATCH or DELETE that
 * finds them held elsewhere gets 423 with Retry-After: the client asks
 * again (HEAD) once the other request has saved what it has.
 */
#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_apipart.h"
#include "vh_ctx.h"
#include "vh_unused.h"
#include "vh_blobgc.h"
#include "vh_blobstore.h"
#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_entry.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_route.h"
#include "vh_tus.h"
#include "vh_tusparse.h"
#include "vh_upload.h"
#include "vh_xmalloc.h"

#define TUS_VERSION	"1.0.0"
#define OCTET_STREAM	"application/offset+octet-stream"
/* PATCHes that hold an upload's lock (each on a connection of its own)
 * at once; more wait for one before their body is read. Kept well below
 * PostgreSQL's default max_connections (100) with the workers'. */
#define LOCKDB_MAX	48
/* Idle PATCH connections kept through a quiet reaper round; the rest go,
 * so that a burst of uploads does not hold connections the database
 * needs for other daemons and tools once it has passed. */
#define LOCKDB_KEEP	4

enum op_kind { OP_CREATE, OP_HEAD, OP_PATCH, OP_DELETE };

struct slot;

struct op {
	struct vh_ctx		*ctx;
	/* The config this request started with, to its end: workers read
	 * it, and a reload meanwhile changes nothing it sees. */
	const struct vh_config	*cfg;
	struct vh_tus		*tus;
	struct vh_http_req	*req;
	enum op_kind		 kind;
	struct vh_principal	 who;
	uint64_t		 arrival;	/* vh_route_params */
	char			 id[33];
	struct slot		*slot;
	TAILQ_ENTRY(op)		 queue;

	int64_t			 req_offset;	/* Upload-Offset */
	int64_t			 req_length;	/* Upload-Length, or -1 */
	bool			 has_body;	/* creation-with-upload */
	bool			 has_checksum;
	enum vh_tus_algo	 algo;
	uint8_t			 digest[32];
	size_t			 digest_len;
	EVP_MD_CTX		*md;

	struct vh_upload	 u;
	PGconn			*lockdb;	/* a PATCH's own, holding the lock */
	bool			 has_lockdb;	/* counted in tus->lockdb_used */
	bool			 locked;	/* lockdb holds the upload's lock */
	int			 fd;
	bool			 reading;	/* body in progress */
	bool			 complete;	/* the whole body arrived */
	int64_t			 written;
	struct vh_apipart_wb	*wb;		/* writeback, on the pool */

	/* creation with the whole upload in its body: no partial file; the
	 * writer is made on the pool (create_work) */
	bool			 whole;
	struct vh_blob_writer	*writer;
	json_t			*fields;

	struct vh_api_err	 err;		/* an error to answer */
	json_t			*entry;
};

struct slot {
	char			 id[33];
	struct op		*active;
	TAILQ_HEAD(, op)	 waiting;
	LIST_ENTRY(slot)	 entry;
};

struct vh_tus {
	LIST_HEAD(, slot)	 slots;
	/* PATCH connections, loop thread only: idle ones for reuse, and the
	 * PATCHes waiting for one (their queue entry is free meanwhile). */
	PGconn			*lockdb_idle[LOCKDB_MAX];
	int			 lockdb_nidle, lockdb_used;
	int			 lockdb_low;	/* fewest idle since last round */
	TAILQ_HEAD(, op)	 lockdb_wait;
};

static void	op_load(struct op *);
static void	op_respond(struct op *);

/* The first error wins (vh_api_err_set); detail is taken. */
static void
op_error(struct op *op, int status, const char *type, char *detail)
{
	vh_api_err_set(&op->err, status, type, detail);
}

/* Closes the file, then ends the locking session (so the lock is free
 * only once no descriptor of ours can write); worker thread, normally. */
static void
op_unlock(struct op *op)
{
	PGresult *r;

	if (op->fd != -1) {
		close(op->fd);
		op->fd = -1;
	}
	if (op->lockdb == NULL || !op->locked)
		return;
	/* Released now, by a query, not when a closed session's backend
	 * gets round to it: the next request may lock at once. */
	r = PQexec(op->lockdb, "SELECT pg_advisory_unlock_all()");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQfinish(op->lockdb);	/* and so the lock goes */
		op->lockdb = NULL;
	}
	PQclear(r);
	op->locked = false;
}

/* Gives a PATCH's connection back (loop thread) and starts a PATCH that
 * waited for one. */
static void
lockdb_put(struct op *op)
{
	struct vh_tus	*tus = op->tus;
	struct op	*next;

	if (!op->has_lockdb)
		return;
	op->has_lockdb = false;
	tus->lockdb_used--;
	if (op->lockdb != NULL && PQstatus(op->lockdb) == CONNECTION_OK &&
	    tus->lockdb_nidle < LOCKDB_MAX)
		tus->lockdb_idle[tus->lockdb_nidle++] = op->lockdb;
	else if (op->lockdb != NULL)
		PQfinish(op->lockdb);
	op->lockdb = NULL;
	if ((next = TAILQ_FIRST(&tus->lockdb_wait)) != NULL) {
		TAILQ_REMOVE(&tus->lockdb_wait, next, queue);
		op_load(next);
	}
}

/* The answer to a database failure: what it means for the client, in our
 * words; libpq's text (err, freed here) goes to the log. */
static void
op_db_error(struct op *op, const char *doing, char *err)
{
	vh_log_warnx("upload %.8s…: %s: %s", op->id[0] != '\0' ? op->id :
	    "(new)", doing, err != NULL ? err : "?");
	free(err);
	op_error(op, 503, "database-unavailable", vh_xasprintf("the database "
	    "is unavailable (%s); nothing of this request was lost beyond "
	    "Upload-Offset, try again shortly", doing));
}

/* A disk failure: logged with its path and errno text, answered without. */
static void
op_disk_error(struct op *op, int status, const char *doing, char *err)
{
	vh_log_warnx("upload %.8s…: %s: %s", op->id[0] != '\0' ? op->id :
	    "(new)", doing, err != NULL ? err : "?");
	free(err);
	op_error(op, status, "storage", vh_xasprintf("the server could not %s",
	    doing));
}

static void
op_free(struct op *op)
{
	lockdb_put(op);
	if (op->fd != -1)
		close(op->fd);
	EVP_MD_CTX_free(op->md);
	vh_apipart_writeback_free(op->wb);
	/* Its spool file goes on the pool: the loop removes no file. */
	vh_apipart_discard(op->ctx->pool, op->writer);
	json_decref(op->fields);
	vh_upload_clear(&op->u);
	json_decref(op->entry);
	vh_api_err_clear(&op->err);
	vh_config_unref(op->cfg);
	free(op);
}

static struct op *
op_new(struct vh_ctx *ctx, struct vh_http_req *req, enum op_kind kind,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	struct op *op = vh_xcalloc(1, sizeof *op);

	op->ctx = ctx;
	op->cfg = vh_config_ref(vh_ctx_config(ctx));
	op->tus = ctx->tus;
	op->req = req;
	op->kind = kind;
	op->who = *who;
	op->arrival = params->arrival;
	op->fd = -1;
	op->req_length = -1;
	return (op);
}

/* An upload made with an account is that account's (and the admins');
 * one made through a collection's link answers to its id alone. */
static bool
may_use(const struct vh_upload *u, const struct vh_principal *who)
{
	return (u->account_id == 0 || u->account_id == who->account_id ||
	    who->role == VH_ROLE_ADMIN);
}

/*
 * May newer cut off active (whose upload is loaded)? Never when it would
 * be refused anyway. A HEAD or DELETE is about the upload as it is now,
 * so it never waits for a body; a PATCH continues the upload, and one
 * that reached the router before the active one is a stale one: it waits
 * behind it, and then finds the offset moved (409) or the upload done.
 */
static bool
supersedes(const struct op *newer, const struct op *active)
{
	return (may_use(&active->u, &newer->who) && (newer->kind != OP_PATCH ||
	    newer->arrival > active->arrival));
}

/* Slots */

static struct slot *
slot_get(struct vh_tus *tus, const char *id)
{
	struct slot *s;

	LIST_FOREACH(s, &tus->slots, entry)
		if (strcmp(s->id, id) == 0)
			return (s);
	s = vh_xcalloc(1, sizeof *s);
	snprintf(s->id, sizeof s->id, "%s", id);
	TAILQ_INIT(&s->waiting);
	LIST_INSERT_HEAD(&tus->slots, s, entry);
	return (s);
}

/* Runs op now or after the requests before it; a PATCH still receiving
 * its body is cut off so that the newcomer need not wait for it. */
static void
slot_enter(struct op *op)
{
	struct slot *s = slot_get(op->tus, op->id);

	op->slot = s;
	if (s->active == NULL) {
		s->active = op;
		op_load(op);
		return;
	}
	TAILQ_INSERT_TAIL(&s->waiting, op, queue);
	if (s->active->reading && (op->kind == OP_PATCH || op->kind == OP_HEAD ||
	    op->kind == OP_DELETE) && supersedes(op, s->active)) {
		vh_log_info("req=%s takes over upload %.8s… from req=%s",
		    vh_http_req_id(op->req), op->id,
		    vh_http_req_id(s->active->req));
		vh_http_req_close(s->active->req);
	}
}

static void
slot_leave(struct op *op)
{
	struct slot	*s = op->slot;
	struct op	*next;

	if (s == NULL)
		return;
	op->slot = NULL;
	if ((next = TAILQ_FIRST(&s->waiting)) != NULL) {
		TAILQ_REMOVE(&s->waiting, next, queue);
		s->active = next;
		op_load(next);
		return;
	}
	LIST_REMOVE(s, entry);
	free(s);
}

/* Responses */

static void
http_date(int64_t t, char *buf, size_t len)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void
upload_headers(struct op *op)
{
	struct vh_http_req	*req = op->req;
	const char		*receipt;
	char			 date[64];

	vh_http_add_header(req, "Upload-Offset", "%" PRId64, op->u.offset);
	if (op->u.length >= 0)
		vh_http_add_header(req, "Upload-Length", "%" PRId64, op->u.length);
	else
		vh_http_add_header(req, "Upload-Defer-Length", "1");
	if (!op->u.completed) {
		http_date(op->u.expires, date, sizeof date);
		vh_http_add_header(req, "Upload-Expires", "%s", date);
	}
	if (op->u.entry_id != 0)
		vh_http_add_header(req, "Upload-Entry", "%" PRId64, op->u.entry_id);
	/* The resident's withdrawal code, on the request that finished the
	 * upload only: it is never stored in a form that could be shown again. */
	if ((receipt = json_string_value(json_object_get(op->entry,
	    "receipt"))) != NULL)
		vh_http_add_header(req, "Upload-Receipt", "%s", receipt);
}

static void
unlock_work(struct vh_worker *w VH_UNUSED, void *arg)
{
	op_unlock(arg);
}

static void
unlock_done(void *arg)
{
	struct op *op = arg;

	slot_leave(op);
	op_free(op);
}

static void
op_respond(struct op *op)
{
	struct vh_http_req *req = op->req;

	vh_http_add_header(req, "Tus-Resumable", TUS_VERSION);
	vh_http_add_header(req, "Cache-Control", "no-store");
	if (op->err.status != 0) {
		if (op->err.status == 409 || op->err.status == 460)
			vh_http_add_header(req, "Upload-Offset", "%" PRId64,
			    op->u.offset);
		if (op->err.status == 423)
			vh_http_add_header(req, "Retry-After", "1");
		vh_api_reply_problem(req, &op->err);
	} else if (vh_http_req_error(req) != 0 || vh_http_req_gone(req)) {
		vh_http_add_header(req, "Upload-Offset", "%" PRId64, op->u.offset);
		vh_http_respond_error(req);
	} else {
		switch (op->kind) {
		case OP_CREATE:
			vh_http_add_header(req, "Location", "/api/v1/uploads/%s",
			    op->u.id);
			upload_headers(op);
			vh_http_respond(req, 201, NULL, NULL, 0);
			break;
		case OP_HEAD:
			upload_headers(op);
			/* Until the entry holds the story: after that its text
			 * lives (and is redacted or withdrawn) there only. */
			if (!op->u.completed && op->u.metadata != NULL &&
			    op->u.metadata[0] != '\0')
				vh_http_add_header(req, "Upload-Metadata", "%s",
				    op->u.metadata);
			vh_http_respond(req, 200, NULL, NULL, 0);
			break;
		case OP_PATCH:
			upload_headers(op);
			vh_http_respond(req, 204, NULL, NULL, 0);
			break;
		case OP_DELETE:
			vh_http_respond(req, 204, NULL, NULL, 0);
			break;
		}
	}
	/* A PATCH cut off before its body still holds the upload's lock:
	 * released on the pool, before the next request for it starts. */
	if (op->locked) {
		vh_pool_submit(op->ctx->pool, unlock_work,
		    unlock_done, op);
		return;
	}
	slot_leave(op);
	op_free(op);
}

/* Saving a body: checksum, fdatasync, offset, and finishing. */

/* Turns a complete upload into its creator's entry, whoever sent the
 * last byte; worker thread. */
static int
finish(struct op *op, PGconn *db)
{
	struct vh_ctx	*ctx = op->ctx;
	char		*err = NULL;
	int		 rc;

	if ((rc = vh_entry_set_rules(db, op->cfg, &err)) == 0)
		rc = vh_upload_finish(db, ctx->blobs, &op->u,
		    &op->entry, &err);
	/* Said once: vh_upload_finish discarded the upload. */
	if (rc == VH_EINVAL)
		op_error(op, 422, "invalid-entry", err);
	else if (rc == VH_EDB)
		op_db_error(op, "finishing the upload", err);
	else if (rc != 0)
		op_disk_error(op, rc == VH_EIO && errno == ENOSPC ? 507 : 503,
		    "store the finished upload", err);
	else
		vh_log_info("req=%s upload %.8s… complete: entry %" PRId64
		    " media %" PRId64, vh_http_req_id(op->req), op->id,
		    op->u.entry_id, op->u.media_id);
	return (rc);
}

static void
save_work(struct vh_worker *w, void *arg)
{
	struct op		*op = arg;
	uint8_t			 got[EVP_MAX_MD_SIZE];
	unsigned int		 n = 0;
	PGconn			*db;
	char			*err = NULL;
	int			 rc;

	if (op->has_checksum) {
		/* A cut-off chunk cannot be verified: it is dropped. */
		if (op->complete)
			EVP_DigestFinal_ex(op->md, got, &n);
		if (!op->complete || n != op->digest_len ||
		    memcmp(got, op->digest, n) != 0) {
			if (ftruncate(op->fd, op->u.offset) == -1)
				vh_log_warn("upload %.8s…: ftruncate", op->id);
			if (op->complete)
				op_error(op, 460, "checksum-mismatch",
				    vh_xstrdup("the chunk does not match "
				    "Upload-Checksum; it was dropped"));
			op_unlock(op);
			return;
		}
	}
	/* The PATCH's own connection holds the upload's lock since before
	 * the row was loaded; a creation's upload is not known to anyone
	 * else yet. */
	if ((db = op->lockdb) == NULL && (db = vh_worker_db(w, &err)) == NULL) {
		op_db_error(op, "saving the upload", err);
		goto out;
	}
	if (op->written > 0 || (op->req_length >= 0 && op->u.length < 0)) {
		rc = vh_upload_advance(db, &op->u, op->fd, op->u.offset +
		    op->written, op->req_length, op->cfg->upload_expiry,
		    &err);
		if (rc == VH_ECONFLICT) {
			op_error(op, 409, "offset-mismatch", err);
			goto out;
		}
		if (rc == VH_EDB) {
			op_db_error(op, "saving the upload's offset", err);
			goto out;
		}
		if (rc != 0) {
			op_disk_error(op, 503, "sync the upload to disk", err);
			goto out;
		}
	}
	if (op->u.length < 0 || op->u.offset != op->u.length || op->u.completed)
		goto out;
	if (op->fd != -1) {
		close(op->fd);
		op->fd = -1;
	}
	(void)finish(op, db);
out:
	op_unlock(op);
}

static void
save_done(void *arg)
{
	op_respond(arg);
}

static void
save(struct op *op)
{
	op->reading = false;
	vh_pool_submit(op->ctx->pool, save_work, save_done, op);
}

static int
on_body(struct vh_http_req *req VH_UNUSED, const char *data, size_t len,
    void *arg)
{
	struct op	*op = arg;
	ssize_t		 n;

	while (len > 0) {
		n = pwrite(op->fd, data, len, op->u.offset + op->written);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			vh_log_warn("upload %.8s…: write", op->id);
			op_error(op, n == -1 && errno == ENOSPC ? 507 : 503,
			    "storage", vh_xstrdup("the upload could not be "
			    "written to disk; what was saved before stays"));
			save(op);	/* keeps what was written before */
			return (-1);
		}
		if (op->md != NULL)
			EVP_DigestUpdate(op->md, data, (size_t)n);
		op->written += n;
		data += n;
		len -= (size_t)n;
	}
	/* So that the fdatasync of save_work finds little left to write. */
	vh_apipart_writeback_note(op->wb, op->u.offset + op->written);
	return (0);
}

static void
on_end(struct vh_http_req *req VH_UNUSED, void *arg)
{
	struct op *op = arg;

	op->complete = true;
	save(op);
}

static void
on_abort(struct vh_http_req *req VH_UNUSED, void *arg)
{
	save(arg);
}

static void
read_body(struct op *op)
{
	const struct vh_config	*cfg = op->cfg;
	int64_t			 limit;

	limit = op->u.length >= 0 ? op->u.length :
	    op->req_length >= 0 ? op->req_length : cfg->max_upload_size;
	if (op->has_checksum) {
		op->md = EVP_MD_CTX_new();
		EVP_DigestInit_ex(op->md, op->algo == VH_TUS_SHA1 ?
		    EVP_sha1() : EVP_sha256(), NULL);
	}
	op->reading = true;
	vh_apipart_writeback_free(op->wb);
	op->wb = vh_apipart_writeback_new(op->ctx->pool, op->ctx->blobs,
	    strrchr(op->u.spool_path, '/') + 1, op->u.offset);
	vh_http_req_read_body(op->req, limit - op->u.offset, on_body, on_end,
	    on_abort, op);
}

/* Loading the upload (HEAD, PATCH, DELETE) */

static bool
empty_body(struct vh_http_req *req)
{
	return (vh_http_req_body_kind(req) == VH_BODY_NONE ||
	    vh_http_req_content_length(req) == 0);
}

/*
 * Refuses (507) a body of need bytes that would take the data directory
 * below its floor of free space (min_free_space), before any byte of it
 * is read; false when answered.
 */
static bool
room_for(struct op *op, int64_t need)
{
	const struct vh_config	*cfg = op->cfg;
	int64_t			 avail;

	if (vh_blobstore_space(op->ctx->blobs, &avail) != 0)
		return (true);		/* unknown: the writes will tell */
	if (need < 0)
		need = 0;
	if (avail - cfg->min_free_space >= need)
		return (true);
	vh_log_warnx("upload %.8s…: %" PRId64 " bytes free, %" PRId64
	    " needed above the floor of %" PRId64, op->id[0] != '\0' ?
	    op->id : "(new)", avail, need, cfg->min_free_space);
	op_error(op, 507, "insufficient-storage", vh_xasprintf("the server "
	    "has no room for %" PRId64 " more bytes right now; try again "
	    "later", need));
	return (false);
}

/* Takes the upload's lock for a PATCH (on a connection of its own, kept
 * until save_work) or a DELETE (on the worker's); false when answered. */
static bool
lock_upload(struct op *op, PGconn **db, char **err)
{
	const struct vh_config	*cfg = op->cfg;
	int			 rc;

	if (op->kind == OP_PATCH) {
		if (op->lockdb != NULL && PQstatus(op->lockdb) != CONNECTION_OK) {
			PQfinish(op->lockdb);
			op->lockdb = NULL;
		}
		if (op->lockdb == NULL && (op->lockdb = vh_db_connect(
		    cfg->database_url, cfg->db_timeout, err)) == NULL) {
			op_db_error(op, "locking the upload", *err);
			*err = NULL;
			return (false);
		}
		*db = op->lockdb;
	}
	rc = vh_upload_lock(*db, op->id, err);
	if (rc == 0 && op->kind == OP_PATCH)
		op->locked = true;
	if (rc == VH_ECONFLICT) {
		op_error(op, 423, "upload-locked", vh_xstrdup("another request "
		    "(on this or another server) is writing this upload; ask "
		    "for its offset again (HEAD) in a moment"));
		return (false);
	}
	if (rc != 0) {
		op_db_error(op, "locking the upload", *err);
		*err = NULL;
		return (false);
	}
	return (true);
}

static void
load(struct op *op, PGconn *db)
{
	struct vh_ctx		*ctx = op->ctx;
	char			*err = NULL;
	int64_t			 length, cl;
	bool			 locked = false;
	int			 rc;

	if (op->kind != OP_HEAD) {
		if (!lock_upload(op, &db, &err))
			return;
		locked = true;
	}
	rc = vh_upload_load(db, ctx->blobs, op->id, &op->u, &err);
	if (rc == VH_ENOENT || (rc == 0 && !may_use(&op->u, &op->who))) {
		op_error(op, 404, "no-such-upload", vh_xasprintf("no upload %s",
		    op->id));
		goto out;
	}
	if (rc != 0) {
		op_db_error(op, "loading the upload", err);
		goto out;
	}
	/* Complete but never finished: the process died in between. A HEAD
	 * finishes it only if no one else holds it (who will finish it). */
	if (!op->u.completed && op->u.length >= 0 &&
	    op->u.offset == op->u.length) {
		if (!locked && vh_upload_lock(db, op->id, &err) == 0)
			locked = true;
		free(err);
		err = NULL;
		if (locked && finish(op, db) != 0)
			goto out;
	}
	if (!op->u.completed && op->u.expires < (int64_t)time(NULL)) {
		op_error(op, 410, "upload-expired", vh_xasprintf("upload %s "
		    "expired", op->id));
		goto out;
	}
	switch (op->kind) {
	case OP_HEAD:
		goto out;
	case OP_DELETE:
		/* Termination forgets a finished upload too; its entry stays
		 * (withdrawal or erasure remove that). */
		if ((rc = vh_upload_delete(db, &op->u, &err)) == VH_ENOENT)
			op_error(op, 404, "no-such-upload", vh_xasprintf("no "
			    "upload %s", op->id));
		else if (rc != 0)
			op_db_error(op, "removing the upload", err);
		goto out;
	default:
		break;
	}
	if (op->u.completed) {
		/* An empty PATCH at the end changes nothing: a client whose
		 * last answer was lost may repeat it and get 204. */
		if (op->req_offset != op->u.length || !empty_body(op->req))
			op_error(op, 410, "upload-finished",
			    vh_xstrdup("the upload is already complete"));
		goto out;
	}
	if (op->req_offset != op->u.offset) {
		op_error(op, 409, "offset-mismatch", vh_xasprintf("Upload-Offset "
		    "is %" PRId64 " but the upload is at %" PRId64,
		    op->req_offset, op->u.offset));
		goto out;
	}
	if (op->req_length >= 0 && op->u.length >= 0 &&
	    op->req_length != op->u.length) {
		op_error(op, 400, "length-mismatch",
		    vh_xstrdup("Upload-Length cannot change once set"));
		goto out;
	}
	length = op->u.length >= 0 ? op->u.length : op->req_length;
	if (length >= 0 && length < op->u.offset) {
		op_error(op, 400, "bad-length",
		    vh_xstrdup("Upload-Length is below the upload's offset"));
		goto out;
	}
	cl = vh_http_req_content_length(op->req);
	if (cl >= 0 && length >= 0 && op->u.offset + cl > length) {
		op_error(op, 413, "past-upload-length", vh_xasprintf("the body "
		    "would go %" PRId64 " bytes past Upload-Length",
		    op->u.offset + cl - length));
		goto out;
	}
	if (!room_for(op, cl >= 0 ? cl : length >= 0 ? length - op->u.offset :
	    0))
		goto out;
	if ((rc = vh_upload_open(&op->u, &op->fd, &err)) == VH_ECONFLICT) {
		free(err);
		op_error(op, 423, "upload-locked", vh_xstrdup("another request "
		    "is writing this upload; ask for its offset again (HEAD) "
		    "in a moment"));
	} else if (rc != 0)
		op_disk_error(op, 503, "open the upload's partial file", err);
	else
		return;		/* the PATCH keeps its lock for the body */
out:
	if (op->locked)
		op_unlock(op);
	else if (locked)
		vh_upload_unlock(db, op->id);
}

static void
load_work(struct vh_worker *w, void *arg)
{
	struct op	*op = arg;
	PGconn		*db;
	char		*err = NULL;

	vh_upload_clear(&op->u);
	if ((db = vh_worker_db(w, &err)) == NULL) {
		op_db_error(op, "loading the upload", err);
		return;
	}
	load(op, db);
}

static void
load_done(void *arg)
{
	struct op	*op = arg, *w;

	if (op->kind == OP_PATCH && op->err.status == 0 && op->u.completed) {
		op_respond(op);		/* the empty PATCH at the end */
		return;
	}

	/* A newer request that queued while this PATCH loaded takes over at
	 * once: this one has no bytes to save yet. */
	TAILQ_FOREACH(w, &op->slot->waiting, queue)
		if (supersedes(w, op))
			break;
	if (op->kind == OP_PATCH && op->err.status == 0 && w != NULL) {
		vh_log_info("req=%s upload %.8s… taken over before its body",
		    vh_http_req_id(op->req), op->id);
		vh_http_req_close(op->req);
	}
	if (op->err.status != 0 || op->kind != OP_PATCH ||
	    vh_http_req_gone(op->req)) {
		op_respond(op);
		return;
	}
	read_body(op);
}

static void
op_load(struct op *op)
{
	struct vh_tus *tus = op->tus;

	/* A PATCH gets its connection here, on the loop thread, so that the
	 * count needs no lock; it connects on the worker if none is idle. */
	if (op->kind == OP_PATCH && !op->has_lockdb) {
		if (tus->lockdb_nidle == 0 && tus->lockdb_used >= LOCKDB_MAX) {
			TAILQ_INSERT_TAIL(&tus->lockdb_wait, op, queue);
			return;
		}
		if (tus->lockdb_nidle > 0)
			op->lockdb = tus->lockdb_idle[--tus->lockdb_nidle];
		if (tus->lockdb_low > tus->lockdb_nidle)
			tus->lockdb_low = tus->lockdb_nidle;
		op->has_lockdb = true;
		tus->lockdb_used++;
	}
	vh_pool_submit(op->ctx->pool, load_work, load_done, op);
}

/* Creation */

/* What the entry names in the database (entry_id, collection) is
 * checked before any byte, so that no complete upload is refused. */
static void
create_work(struct vh_worker *w, void *arg)
{
	struct op	*op = arg;
	struct vh_ctx	*ctx = op->ctx;
	PGconn		*db;
	char		*err = NULL;
	int		 rc;

	if (!room_for(op, op->req_length >= 0 ? op->req_length :
	    vh_http_req_content_length(op->req)))
		return;
	if ((db = vh_worker_db(w, &err)) == NULL) {
		op_db_error(op, "creating the upload", err);
		return;
	}
	if ((rc = vh_entry_check_refs(db, op->fields, &op->who, &err)) != 0) {
		if (rc == VH_EINVAL)
			op_error(op, 422, "invalid-entry", err);
		else {
			vh_log_warnx("req=%s checking an entry: %s",
			    vh_http_req_id(op->req), err);
			free(err);
			op_error(op, 503, "database-unavailable", vh_xstrdup(
			    "the entry cannot be checked right now"));
		}
		return;
	}
	/* A whole upload has only its spool file to create, here and not
	 * on the loop, last: a refused creation leaves none to remove. */
	if (op->whole) {
		if ((op->writer = vh_blob_writer_new(ctx->blobs, &err)) == NULL)
			op_disk_error(op, errno == ENOSPC ? 507 : 503, "create a "
			    "file for the upload", err);
		return;
	}
	/* The metadata waits in its row until the last byte: without
	 * keep_location it names the buurt, not the position. */
	if (!op->cfg->keep_location && (rc = vh_upload_place(db, &op->u,
	    op->fields, &err)) != 0) {
		if (rc == VH_EINVAL)
			op_error(op, 422, "invalid-entry", err);
		else
			op_db_error(op, "placing the upload", err);
		return;
	}
	if ((rc = vh_upload_create(db, ctx->blobs, &op->u, &op->who,
	    op->cfg->upload_expiry, &op->fd, &err)) == VH_EDB)
		op_db_error(op, "creating the upload", err);
	else if (rc != 0)
		op_disk_error(op, errno == ENOSPC ? 507 : 503, "create the "
		    "upload's partial file", err);
}

static void create_whole(struct op *);

static void
create_done(void *arg)
{
	struct op *op = arg;

	if (op->err.status == 0 && op->whole && !vh_http_req_gone(op->req)) {
		create_whole(op);
		return;
	}
	if (op->err.status != 0 || !op->has_body || vh_http_req_gone(op->req)) {
		op_respond(op);
		return;
	}
	/* creation-with-upload: the new upload's slot is free. */
	snprintf(op->id, sizeof op->id, "%s", op->u.id);
	op->slot = slot_get(op->tus, op->id);
	op->slot->active = op;
	read_body(op);
}

/*
 * Creation with the whole upload in its body. Nothing can be resumed
 * until the 201 names the upload, so a cut-off body is simply dropped;
 * a complete one goes through a blob writer and is stored in one step:
 * one fdatasync, one rename, one transaction, instead of a partial file
 * that is synced, recorded, and then read again.
 */
static void
whole_work(struct vh_worker *w, void *arg)
{
	struct op		*op = arg;
	struct vh_ctx		*ctx = op->ctx;
	struct vh_entry_file	 f = { .size = op->u.length };
	struct vh_tus_metadata	*md = NULL;
	const char		*why;
	PGconn			*db;
	char			*err = NULL, *name = NULL;
	int			 rc;

	rc = vh_blob_writer_commit(op->writer, f.sha256);
	op->writer = NULL;
	if (rc != 0) {
		op_error(op, errno == ENOSPC ? 507 : 503, "storage",
		    vh_xstrdup("the upload could not be stored on disk"));
		return;
	}
	/* Should the database fail from here on, the stored file is named
	 * by no row: the litter sweep (vh_blobgc_sweep) removes it. */
	if ((db = vh_worker_db(w, &err)) == NULL) {
		op_db_error(op, "storing the upload", err);
		return;
	}
	/* Checked at creation already; a failure here only drops them. */
	if (vh_tus_metadata_parse(op->u.metadata, strlen(op->u.metadata), &md,
	    &why) == 0 && vh_upload_file_fields(md, &name, &f.declared_type,
	    &err) != 0) {
		free(err);
		err = NULL;
	}
	f.filename = name;
	if ((rc = vh_entry_set_rules(db, op->cfg, &err)) == 0)
		rc = vh_upload_store_whole(db, ctx->blobs, &op->u, &op->who,
		    op->fields, &f, &op->entry, &err);
	if (rc == VH_EINVAL)
		op_error(op, 422, "invalid-entry", err);
	else if (rc == VH_ENOENT)
		op_disk_error(op, 503, "keep the stored upload", err);
	else if (rc != 0)
		op_db_error(op, "storing the upload", err);
	else
		op->u.entry_id = json_integer_value(json_object_get(op->entry,
		    "id"));
	free(name);
	vh_tus_metadata_free(md);
}

static int
whole_body(struct vh_http_req *req VH_UNUSED, const char *data, size_t len,
    void *arg)
{
	struct op *op = arg;

	/* Answering from here is safe: the server frees the request only
	 * once this callback has returned. */
	if (vh_blob_writer_write(op->writer, data, len) != 0) {
		op_error(op, errno == ENOSPC ? 507 : 503, "storage",
		    vh_xstrdup("the upload could not be written to disk"));
		op_respond(op);
		return (-1);
	}
	vh_apipart_writeback_note(op->wb, vh_blob_writer_size(op->writer));
	return (0);
}

static void
whole_end(struct vh_http_req *req VH_UNUSED, void *arg)
{
	vh_pool_submit(((struct op *)arg)->ctx->pool, whole_work,
	    save_done, arg);
}

static void
whole_abort(struct vh_http_req *req VH_UNUSED, void *arg)
{
	op_respond(arg);	/* frees the writer, and so its spool file */
}

/* The writer was made by create_work, after the checks. */
static void
create_whole(struct op *op)
{
	op->wb = vh_apipart_writeback_new(op->ctx->pool, op->ctx->blobs,
	    vh_blob_writer_name(op->writer), 0);
	vh_http_req_read_body(op->req, op->u.length, whole_body, whole_end,
	    whole_abort, op);
}

/* Request checks shared by the handlers; false when answered. */
static bool
check_version(struct vh_http_req *req)
{
	const char *v = vh_http_req_header(req, "Tus-Resumable");

	if (v != NULL && strcmp(v, TUS_VERSION) == 0)
		return (true);
	vh_http_add_header(req, "Tus-Version", TUS_VERSION);
	vh_http_add_header(req, "Tus-Resumable", TUS_VERSION);
	vh_http_respond_problem(req, 412, "tus-version",
	    "this server speaks tus %s (Tus-Resumable header)", TUS_VERSION);
	return (false);
}

static bool
parse_int_header(struct op *op, const char *name, int64_t *out)
{
	const char *v = vh_http_req_header(op->req, name);

	if (v == NULL)
		return (true);
	if (vh_parse_int64_strict(v, strlen(v), out) != 0) {
		op_error(op, 400, "bad-header", vh_xasprintf("%s must be a "
		    "non-negative whole number", name));
		return (false);
	}
	return (true);
}

static bool
has_body(struct vh_http_req *req)
{
	return (vh_http_req_body_kind(req) == VH_BODY_CHUNKED ||
	    vh_http_req_content_length(req) > 0);
}

static bool
check_body_type(struct op *op)
{
	const char *ct = vh_http_req_header(op->req, "Content-Type");

	if (ct != NULL && strcasecmp(ct, OCTET_STREAM) == 0)
		return (true);
	op_error(op, 415, "unsupported-media-type",
	    vh_xstrdup("tus bodies are Content-Type: " OCTET_STREAM));
	return (false);
}

static bool
check_checksum(struct op *op)
{
	const char	*v = vh_http_req_header(op->req, "Upload-Checksum");
	int		 rc;

	if (v == NULL)
		return (true);
	rc = vh_tus_checksum_parse(v, &op->algo, op->digest, &op->digest_len);
	if (rc != 0) {
		op_error(op, 400, "bad-checksum", vh_xstrdup(rc == VH_ENOTSUP ?
		    "Upload-Checksum: supported algorithms are sha1 and sha256" :
		    "Upload-Checksum is malformed"));
		return (false);
	}
	op->has_checksum = true;
	return (true);
}

static bool
valid_id(const char *id)
{
	size_t n = 0;

	for (; id[n] != '\0'; n++)
		if (!((id[n] >= '0' && id[n] <= '9') ||
		    (id[n] >= 'a' && id[n] <= 'f')))
			return (false);
	return (n == 32);
}

void
vh_api_tus_options(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	vh_http_add_header(req, "Tus-Version", TUS_VERSION);
	vh_http_add_header(req, "Tus-Extension", "creation,creation-with-upload,"
	    "creation-defer-length,expiration,checksum,termination");
	vh_http_add_header(req, "Tus-Max-Size", "%" PRId64,
	    vh_ctx_config(ctx)->max_upload_size);
	vh_http_add_header(req, "Tus-Checksum-Algorithm", "sha1,sha256");
	vh_http_respond(req, 204, NULL, NULL, 0);
}

void
vh_api_tus_create(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	struct op		*op;
	struct vh_tus_metadata	*md = NULL;
	json_t			*fields = NULL;
	const char		*v, *why = NULL, *type;
	char			*msg = NULL, *name = NULL;

	if (!check_version(req))
		return;
	op = op_new(ctx, req, OP_CREATE, params, who);
	if (!parse_int_header(op, "Upload-Length", &op->req_length))
		goto answer;
	v = vh_http_req_header(req, "Upload-Defer-Length");
	if (op->req_length < 0 && (v == NULL || strcmp(v, "1") != 0)) {
		op_error(op, 400, "bad-header", vh_xstrdup(v != NULL ?
		    "Upload-Defer-Length must be 1" :
		    "Upload-Length or Upload-Defer-Length: 1 is required"));
		goto answer;
	}
	if (op->req_length > op->cfg->max_upload_size) {
		op_error(op, 413, "upload-too-large", vh_xasprintf("uploads may "
		    "be at most %" PRId64 " bytes", op->cfg->max_upload_size));
		goto answer;
	}
	v = vh_http_req_header(req, "Upload-Metadata");
	if (v == NULL)
		v = "";
	/* The entry is checked now, not after the last byte. */
	if (vh_tus_metadata_parse(v, strlen(v), &md, &why) != 0) {
		op_error(op, 400, "bad-metadata", vh_xasprintf("Upload-Metadata: %s",
		    why));
		goto answer;
	}
	if ((fields = vh_entry_from_metadata(md, &msg)) != NULL &&
	    vh_entry_validate_consent(fields, who, &msg) != 0) {
		op_error(op, 422, "invalid-consent", msg);
		goto answer;
	}
	if (fields == NULL || vh_entry_validate(fields, who, &msg) != 0 ||
	    vh_upload_file_fields(md, &name, &type, &msg) != 0) {
		op_error(op, 400, "bad-metadata", msg);
		goto answer;
	}
	free(name);
	op->u.metadata = vh_xstrdup(v);
	op->u.length = op->req_length;
	if ((op->has_body = has_body(req))) {
		if (!check_body_type(op) || !check_checksum(op))
			goto answer;
		if (op->req_length >= 0 && vh_http_req_content_length(req) >
		    op->req_length) {
			op_error(op, 413, "past-upload-length",
			    vh_xstrdup("the body is longer than Upload-Length"));
			goto answer;
		}
	}
	vh_tus_metadata_free(md);
	op->fields = fields;
	op->whole = op->has_body && !op->has_checksum && op->req_length > 0 &&
	    vh_http_req_content_length(req) == op->req_length;
	vh_pool_submit(ctx->pool, create_work, create_done, op);
	return;
answer:
	vh_tus_metadata_free(md);
	json_decref(fields);
	op_respond(op);
}

static void
per_upload(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who,
    enum op_kind kind)
{
	struct op	*op;
	const char	*id = vh_route_param(params, "id");
	int64_t		 max = vh_ctx_config(ctx)->max_upload_size;

	if (!check_version(req))
		return;
	op = op_new(ctx, req, kind, params, who);
	if (id == NULL || !valid_id(id)) {
		op_error(op, 404, "no-such-upload", vh_xstrdup("no such upload"));
		op_respond(op);
		return;
	}
	snprintf(op->id, sizeof op->id, "%s", id);
	if (kind == OP_PATCH) {
		if (!check_body_type(op) || !check_checksum(op) ||
		    !parse_int_header(op, "Upload-Length", &op->req_length)) {
			op_respond(op);
			return;
		}
		op->req_offset = -1;
		if (!parse_int_header(op, "Upload-Offset", &op->req_offset) ||
		    op->req_offset < 0) {
			op_error(op, 400, "bad-header",
			    vh_xstrdup("Upload-Offset is required"));
			op_respond(op);
			return;
		}
		/* A deferred length is bound by the same limit as one given
		 * at creation: it becomes the limit of this body. */
		if (op->req_length > max) {
			op_error(op, 413, "upload-too-large", vh_xasprintf(
			    "uploads may be at most %" PRId64 " bytes", max));
			op_respond(op);
			return;
		}
	}
	slot_enter(op);
}

void
vh_api_tus_head(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	per_upload(ctx, req, params, who, OP_HEAD);
}

void
vh_api_tus_patch(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	per_upload(ctx, req, params, who, OP_PATCH);
}

void
vh_api_tus_delete(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	per_upload(ctx, req, params, who, OP_DELETE);
}

/*
 * Closes the idle PATCH connections that no PATCH took since the last
 * call, beyond LOCKDB_KEEP; the reaper calls it each round, loop thread.
 * The idle ones are a stack, so those at the bottom stayed unused.
 */
void
vh_tus_trim(struct vh_tus *tus)
{
	int close_n = tus->lockdb_low - LOCKDB_KEEP, i;

	if (close_n > 0) {
		for (i = 0; i < close_n; i++)
			PQfinish(tus->lockdb_idle[i]);
		memmove(tus->lockdb_idle, tus->lockdb_idle + close_n,
		    (size_t)(tus->lockdb_nidle - close_n) *
		    sizeof tus->lockdb_idle[0]);
		tus->lockdb_nidle -= close_n;
	}
	tus->lockdb_low = tus->lockdb_nidle;
}

struct vh_tus *
vh_tus_new(void)
{
	struct vh_tus	*tus = vh_xcalloc(1, sizeof *tus);

	LIST_INIT(&tus->slots);
	TAILQ_INIT(&tus->lockdb_wait);
	return (tus);
}

void
vh_tus_free(struct vh_tus *tus)
{
	struct slot *s;

	if (tus == NULL)
		return;
	while ((s = LIST_FIRST(&tus->slots)) != NULL) {
		LIST_REMOVE(s, entry);
		free(s);
	}
	while (tus->lockdb_nidle > 0)
		PQfinish(tus->lockdb_idle[--tus->lockdb_nidle]);
	free(tus);
}
