/*
 * Multipart bodies into the blob store, written once for the
 * one-request submissions and the OpenRosa ones, and the spool-file
 * chores of every body that streams on the loop.
 *
 * The loop never creates or removes a file: creating one waits on the
 * directory and the journal, and a full device queue can hold it for
 * long (issue 9). When a file part begins, a worker creates its spool
 * file and the body is paused (vh_http_req_pause); the bytes of that
 * part already handed over (the rest of one body piece, 64 KiB at most)
 * are held until the file is open, written then, and the body resumes.
 * Appending to an open file stays on the loop (into the page cache);
 * every few MiB a pool job starts writeback, so that the final
 * fdatasync, on a worker, finds little left. A worker commits the files
 * (fsync, rename) before any row names them. A failure records the
 * status that answers it, 507 when the disk is full (the client may try
 * again once there is room) and 503 for any other, so that both
 * handlers say the same thing about the same failure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vh_apipart.h"
#include "vh_blobstore.h"
#include "vh_error.h"
#include "vh_fsutil.h"
#include "vh_http.h"
#include "vh_log.h"
#include "vh_multipart.h"
#include "vh_pool.h"
#include "vh_unused.h"
#include "vh_xmalloc.h"

/* A spool file being created for part i of set (NULL once the set is
 * cleared: the file is then removed as soon as it exists). */
struct open_job {
	struct vh_apiparts	*set;
	size_t			 i;
	struct vh_pool		*pool;
	struct vh_blobstore	*bs;
	struct vh_blob_writer	*w;
	char			*err;
	int			 errnum;
};

struct vh_apipart_wb {
	struct vh_pool		*pool;
	struct vh_blobstore	*bs;
	char			*name;
	int64_t			 started;	/* writeback started up to */
	int			 refs;		/* the owner, a job in flight */
	bool			 busy;
};

struct wb_job {
	struct vh_apipart_wb	*wb;
	int64_t			 off, len;
};

/* Writeback */

struct vh_apipart_wb *
vh_apipart_writeback_new(struct vh_pool *pool, struct vh_blobstore *bs,
    const char *name, int64_t start)
{
	struct vh_apipart_wb *wb = vh_xcalloc(1, sizeof *wb);

	wb->pool = pool;
	wb->bs = bs;
	wb->name = vh_xstrdup(name);
	wb->started = start;
	wb->refs = 1;
	return (wb);
}

static void
wb_unref(struct vh_apipart_wb *wb)
{
	if (--wb->refs > 0)
		return;
	free(wb->name);
	free(wb);
}

static void
wb_work(struct vh_worker *w VH_UNUSED, void *arg)
{
	struct wb_job *j = arg;

	/* name and bs do not change after new: safe to read here. */
	vh_blobstore_spool_writeback(j->wb->bs, j->wb->name, j->off, j->len);
}

static void
wb_done(void *arg)
{
	struct wb_job *j = arg;

	j->wb->busy = false;
	wb_unref(j->wb);
	free(j);
}

void
vh_apipart_writeback_note(struct vh_apipart_wb *wb, int64_t end)
{
	struct wb_job *j;

	/* One job at a time per file: a device queue that is full holds
	 * one worker, not one per step. */
	if (wb == NULL || wb->busy || end - wb->started <
	    VH_FSUTIL_WRITEBACK_STEP)
		return;
	j = vh_xcalloc(1, sizeof *j);
	j->wb = wb;
	j->off = wb->started;
	j->len = end - wb->started;
	wb->started = end;
	wb->busy = true;
	wb->refs++;
	vh_pool_submit(wb->pool, wb_work, wb_done, j);
}

void
vh_apipart_writeback_free(struct vh_apipart_wb *wb)
{
	if (wb != NULL)
		wb_unref(wb);
}

/* Removing a spool file */

static void
discard_work(struct vh_worker *w VH_UNUSED, void *arg)
{
	vh_blob_writer_abort(arg);
}

void
vh_apipart_discard(struct vh_pool *pool, struct vh_blob_writer *w)
{
	if (w != NULL)
		vh_pool_submit(pool, discard_work, NULL, w);
}

/* File parts */

/* Reads errno before anything else can change it. */
static int
failed(struct vh_apiparts *set)
{
	set->status = errno == ENOSPC ? 507 : 503;
	return (VH_EIO);
}

static int
part_write(struct vh_apiparts *set, struct vh_apipart *f, const char *data,
    size_t len)
{
	if (vh_blob_writer_write(f->writer, data, len) != 0)
		return (failed(set));
	vh_apipart_writeback_note(f->wb, vh_blob_writer_size(f->writer));
	return (0);
}

static void
open_work(struct vh_worker *w VH_UNUSED, void *arg)
{
	struct open_job *j = arg;

	j->w = vh_blob_writer_new(j->bs, &j->err);
	j->errnum = errno;
}

static void
open_done(void *arg)
{
	struct open_job		*j = arg;
	struct vh_apiparts	*set = j->set;
	struct vh_apipart	*f;

	if (set == NULL) {		/* the request went meanwhile */
		vh_apipart_discard(j->pool, j->w);
		free(j->err);
		free(j);
		return;
	}
	f = &set->part[j->i];
	f->job = NULL;
	set->opening--;
	if (j->w == NULL) {
		vh_log_warnx("req=%s %s", vh_http_req_id(set->req), j->err);
		if (!set->broken) {
			set->status = j->errnum == ENOSPC ? 507 : 503;
			set->cbs->fail(set->arg, VH_APIPART_NO_FILE,
			    set->status);
		}
		set->broken = true;
	} else {
		f->writer = j->w;
		f->wb = vh_apipart_writeback_new(set->pool, set->bs,
		    vh_blob_writer_name(f->writer), 0);
		if (f->held_len > 0 && !set->broken &&
		    part_write(set, f, f->held, f->held_len) != 0) {
			set->cbs->fail(set->arg, VH_APIPART_WRITE, set->status);
			set->broken = true;
		}
	}
	free(f->held);
	f->held = NULL;
	f->held_len = 0;
	free(j->err);
	free(j);
	if (set->opening > 0)
		return;
	/* Last: either may free set, or feed it again at once. */
	if (set->broken)
		set->cbs->respond(set->arg);
	else if (set->paused) {
		set->paused = false;
		vh_http_req_pause(set->req, false);
	}
}

/* A writer for part p as the next part; its file is created on the pool
 * while the body waits. */
static int
part_open(struct vh_apiparts *set, const struct vh_multipart_part *p)
{
	struct vh_apipart	*f;
	struct open_job		*j;

	if (set->n == set->max_files) {
		set->cbs->fail(set->arg, VH_APIPART_TOO_MANY, 413);
		return (VH_ETOOBIG);
	}
	f = &set->part[set->n++];
	memset(f, 0, sizeof *f);
	f->filename = vh_xstrdup(p->filename);
	f->ctype = vh_xstrdup(p->content_type != NULL ? p->content_type : "");
	j = vh_xcalloc(1, sizeof *j);
	j->set = set;
	j->i = set->n - 1;
	j->pool = set->pool;
	j->bs = set->bs;
	f->job = j;
	set->opening++;
	vh_pool_submit(set->pool, open_work, open_done, j);
	/* Takes effect when this body piece has been handled. */
	if (!set->paused) {
		set->paused = true;
		vh_http_req_pause(set->req, true);
	}
	return (0);
}

static int
file_data(struct vh_apiparts *set, const char *data, size_t len)
{
	struct vh_apipart *f = &set->part[set->n - 1];

	if (len == 0)
		return (0);
	if (f->job != NULL) {
		/* Bounded: the body is paused until the file is open. */
		f->held = vh_xreallocarray(f->held, f->held_len + len, 1);
		memcpy(f->held + f->held_len, data, len);
		f->held_len += len;
		return (0);
	}
	if (f->writer == NULL || part_write(set, f, data, len) != 0) {
		set->cbs->fail(set->arg, VH_APIPART_WRITE, set->status);
		return (VH_EIO);
	}
	return (0);
}

/* The part-state skeleton, the parser's callbacks */

static int
part_begin(void *arg, const struct vh_multipart_part *p)
{
	struct vh_apiparts	*set = arg;
	struct vh_apipart_text	*text = NULL;
	int			 kind;

	if ((kind = set->cbs->begin(set->arg, p, &text)) < 0)
		return (kind);
	set->kind = (enum vh_apipart_kind)kind;
	set->reading = true;
	switch (set->kind) {
	case VH_APIPART_TEXT:
		set->text = text;
		if (text->data == NULL)
			text->data = vh_xmalloc(1);
		text->data[0] = '\0';
		text->len = 0;
		return (0);
	case VH_APIPART_FILE:
		return (part_open(set, p));
	default:
		return (0);
	}
}

static int
part_data(void *arg, const char *data, size_t len)
{
	struct vh_apiparts	*set = arg;
	struct vh_apipart_text	*t = set->text;

	if (!set->reading)
		return (0);
	switch (set->kind) {
	case VH_APIPART_TEXT:
		if (t->cut && len > t->max - t->len)
			len = t->max - t->len;
		if (vh_apipart_append(&t->data, &t->len, t->max, data,
		    len) != 0) {
			set->cbs->fail(set->arg, VH_APIPART_TOO_LARGE, 413);
			return (VH_ETOOBIG);
		}
		return (0);
	case VH_APIPART_FILE:
		return (file_data(set, data, len));
	default:
		return (0);
	}
}

static int
part_end(void *arg)
{
	struct vh_apiparts *set = arg;

	set->reading = false;
	set->text = NULL;
	return (0);
}

static const struct vh_multipart_cbs mp_cbs = {
	part_begin, part_data, part_end
};

int
vh_apipart_start(struct vh_apiparts *set, struct vh_pool *pool,
    struct vh_blobstore *bs, struct vh_http_req *req, const char *boundary,
    size_t max_files, const struct vh_apiparts_cbs *cbs, void *arg)
{
	memset(set, 0, sizeof *set);
	if ((set->mp = vh_multipart_new(boundary, &mp_cbs, set)) == NULL)
		return (VH_EINVAL);
	set->pool = pool;
	set->bs = bs;
	set->req = req;
	set->cbs = cbs;
	set->arg = arg;
	set->max_files = max_files < VH_APIPART_MAX ? max_files :
	    VH_APIPART_MAX;
	return (0);
}

static int
body_cb(struct vh_http_req *req VH_UNUSED, const char *data, size_t len,
    void *arg)
{
	struct vh_apiparts *set = arg;

	/* Answering from here is safe: the server frees the request (and
	 * its chunked decoder) only once this callback has returned. The
	 * first error recorded wins: a callback's own comes before this. */
	if (vh_multipart_feed(set->mp, data, len) != 0) {
		set->cbs->fail(set->arg, VH_APIPART_MALFORMED, 400);
		set->cbs->respond(set->arg);
		return (-1);
	}
	return (0);
}

static void
end_cb(struct vh_http_req *req, void *arg)
{
	struct vh_apiparts *set = arg;

	set->on_end(req, set->arg);
}

static void
abort_cb(struct vh_http_req *req, void *arg)
{
	struct vh_apiparts *set = arg;

	set->on_abort(req, set->arg);
}

void
vh_apipart_read_body(struct vh_apiparts *set, int64_t max,
    void (*on_end)(struct vh_http_req *, void *),
    void (*on_abort)(struct vh_http_req *, void *))
{
	set->on_end = on_end;
	set->on_abort = on_abort;
	vh_http_req_read_body(set->req, max, body_cb, end_cb, abort_cb, set);
}

int
vh_apipart_finish(struct vh_apiparts *set)
{
	return (vh_multipart_finish(set->mp));
}

int
vh_apipart_commit(struct vh_apiparts *set, size_t i)
{
	struct vh_apipart	*f = &set->part[i];
	int			 rc;

	f->size = vh_blob_writer_size(f->writer);
	rc = vh_blob_writer_commit(f->writer, f->sha256);
	f->writer = NULL;	/* committed or aborted: gone */
	if (rc != 0)
		return (failed(set));
	f->committed = true;
	return (0);
}

void
vh_apipart_clear(struct vh_apiparts *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct vh_apipart *f = &set->part[i];

		if (f->job != NULL)
			f->job->set = NULL;	/* removed once it exists */
		vh_apipart_discard(set->pool, f->writer);
		vh_apipart_writeback_free(f->wb);
		free(f->held);
		free(f->filename);
		free(f->ctype);
	}
	vh_multipart_free(set->mp);
	memset(set, 0, sizeof *set);
}

int
vh_apipart_append(char **buf, size_t *len, size_t max, const char *data,
    size_t n)
{
	if (*len + n > max)
		return (VH_ETOOBIG);
	*buf = vh_xreallocarray(*buf, *len + n + 1, 1);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
	return (0);
}
