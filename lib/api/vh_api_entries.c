/*
 * One-request submissions: POST /api/v1/entries (field workers) and
 * POST /api/v1/collections/{slug}/uploads (residents) with a multipart
 * body holding an "entry" JSON part and any number of files. Each file
 * part streams into its own blob writer as it arrives (the part-state
 * skeleton is vh_apipart.c's; this file says what each part is and how
 * each failure reads); when the body is
 * complete a worker makes every file durable and then stores the entry and
 * its media in one transaction. Any failure removes what was written; a
 * file already in the store when the database failed is named by no row
 * and goes with the litter sweep (vh_blobgc_sweep).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vh_api.h"
#include "vh_unused.h"
#include "vh_apijob.h"
#include "vh_apipart.h"
#include "vh_ctx.h"
#include "vh_blobgc.h"
#include "vh_blobstore.h"
#include "vh_body.h"
#include "vh_dbworker.h"
#include "vh_entry.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_multipart.h"
#include "vh_pool.h"
#include "vh_xmalloc.h"

#define MAX_FILES	20
#define MAX_ENTRY_JSON	(256 * 1024)

_Static_assert(MAX_FILES <= VH_APIPART_MAX, "a submission's files fit");

struct submission {
	struct vh_ctx		*ctx;
	const struct vh_config	*cfg;	/* from the head to the reply */
	struct vh_http_req	*req;
	struct vh_principal	 who;
	struct vh_apipart_text	 entry;	/* the "entry" part's JSON */
	struct vh_apiparts	 files;
	/* set by parsing or by the worker */
	struct vh_api_err	 err;
	json_t			*fields, *result;
};

static void
submission_free(struct submission *s)
{
	vh_apipart_clear(&s->files);
	json_decref(s->fields);
	json_decref(s->result);
	free(s->entry.data);
	vh_api_err_clear(&s->err);
	vh_config_unref(s->cfg);
	free(s);
}

static void respond(void *);

/* What differs from the OpenRosa handler: which part holds the entry,
 * and the words of each failure. */
static int
part_kind(void *arg, const struct vh_multipart_part *p,
    struct vh_apipart_text **text)
{
	struct submission *s = arg;

	if (strcmp(p->name, "entry") == 0 && p->filename == NULL) {
		if (s->entry.data != NULL) {
			vh_api_err_set(&s->err, 400, "bad-multipart",
			    vh_xstrdup("more than one 'entry' part"));
			return (VH_EINVAL);
		}
		*text = &s->entry;
		return (VH_APIPART_TEXT);
	}
	/* Other form fields are not used. */
	return (p->filename == NULL ? VH_APIPART_SKIP : VH_APIPART_FILE);
}

static void
part_fail(void *arg, enum vh_apipart_why why, int status)
{
	struct submission *s = arg;

	switch (why) {
	case VH_APIPART_TOO_MANY:
		vh_api_err_set(&s->err, status, "too-many-files",
		    vh_xasprintf("at most %d files per submission", MAX_FILES));
		break;
	case VH_APIPART_TOO_LARGE:
		vh_api_err_set(&s->err, status, "entry-too-large",
		    vh_xasprintf("the entry part is larger than %d bytes",
		    MAX_ENTRY_JSON));
		break;
	case VH_APIPART_NO_FILE:
		vh_api_err_set(&s->err, status, "storage",
		    vh_xstrdup("the server could not create a file for the "
		    "upload"));
		break;
	case VH_APIPART_WRITE:
		vh_api_err_set(&s->err, status, "storage",
		    vh_xstrdup("the file could not be written to disk"));
		break;
	case VH_APIPART_MALFORMED:
		vh_api_err_set(&s->err, status, "bad-multipart",
		    vh_xstrdup("the multipart body is malformed"));
		break;
	}
}

static const struct vh_apiparts_cbs part_cbs = {
	part_kind, part_fail, respond
};

/* Also the parts' respond callback, hence the void *. */
static void
respond(void *arg)
{
	struct submission	*s = arg;
	struct vh_http_req	*req = s->req;

	if (s->err.status == 0)
		vh_http_add_header(req, "Location", "/api/v1/entries/%lld",
		    (long long)json_integer_value(json_object_get(s->result, "id")));
	vh_api_reply_json(req, &s->err, 201, s->result);
	submission_free(s);
}

/* Worker: make every file durable, then store the entry in one go. */
static void
store_work(struct vh_worker *w, void *arg)
{
	struct submission	*s = arg;
	struct vh_entry_file	 files[MAX_FILES];
	PGconn			*db;
	char			*err = NULL;
	size_t			 npinned;
	int			 rc;

	for (size_t i = 0; i < s->files.n; i++) {
		struct vh_apipart *f = &s->files.part[i];

		if (vh_apipart_commit(&s->files, i) != 0) {
			vh_api_err_set(&s->err, s->files.status, "storage",
			    vh_xstrdup("a file could not be stored on disk"));
			return;
		}
		memcpy(files[i].sha256, f->sha256, sizeof files[i].sha256);
		files[i].size = f->size;
		files[i].filename = f->filename;
		files[i].declared_type = f->ctype;
	}
	if ((db = vh_api_db(w, s->req, &s->err, "the database is unavailable;"
	    " the entry was not stored and nothing of it is kept, send it"
	    " again shortly")) == NULL)
		return;
	/* Pinned files cannot be collected while the entry is stored; a
	 * refused entry leaves unreferenced blobs to the collector, which
	 * keeps any that another entry took meanwhile. */
	for (npinned = 0; npinned < s->files.n; npinned++) {
		rc = vh_blobgc_pin(db, s->ctx->blobs,
		    files[npinned].sha256, files[npinned].size, &err);
		if (rc != 0) {
			vh_log_warnx("req=%s pinning a file: %s",
			    vh_http_req_id(s->req), err);
			free(err);
			vh_api_err_set(&s->err, 503, rc == VH_EDB ? "database-unavailable" :
			    "storage", vh_xstrdup("the entry could not be stored "
			    "and nothing of it is kept; send it again shortly"));
			goto unpin;
		}
	}
	rc = vh_entry_set_rules(db, s->cfg, &err);
	if (rc == 0)
		rc = vh_entry_store(db, s->fields, &s->who, files, s->files.n,
		    NULL, &s->result, &err);
	if (rc == VH_EINVAL)
		vh_api_err_set(&s->err, 422, "invalid-entry", err);
	else if (rc != 0)
		vh_api_err_db(&s->err, s->req, "storing entry", err, "the entry"
		    " could not be stored and nothing of it is kept; send it"
		    " again shortly");
unpin:
	while (npinned > 0)
		vh_blobgc_unpin(db, files[--npinned].sha256);
}

static void
on_end(struct vh_http_req *req VH_UNUSED, void *arg)
{
	struct submission	*s = arg;
	json_error_t		 jerr;
	char			*why = NULL;

	if (vh_apipart_finish(&s->files) != 0) {
		vh_api_err_set(&s->err, 400, "bad-multipart",
		    vh_xstrdup("the multipart body ends before its closing boundary"));
		respond(s);
		return;
	}
	if (s->entry.data == NULL) {
		vh_api_err_set(&s->err, 422, "invalid-entry",
		    vh_xstrdup("a part named 'entry' with the entry as JSON is "
		    "required"));
		respond(s);
		return;
	}
	if ((s->fields = json_loadb(s->entry.data, s->entry.len, 0, &jerr)) == NULL) {
		vh_api_err_set(&s->err, 400, "bad-json", vh_xasprintf("the entry part is not "
		    "JSON: %s (line %d)", jerr.text, jerr.line));
		respond(s);
		return;
	}
	if (vh_entry_validate_consent(s->fields, &s->who, &why) != 0) {
		vh_api_err_set(&s->err, 422, "invalid-consent", why);
		respond(s);
		return;
	}
	if (vh_entry_validate(s->fields, &s->who, &why) != 0) {
		vh_api_err_set(&s->err, 422, "invalid-entry", why);
		respond(s);
		return;
	}
	vh_pool_submit(s->ctx->pool, store_work, respond, s);
}

static void
on_abort(struct vh_http_req *req, void *arg)
{
	struct submission *s = arg;

	/* Writers are aborted (their spool files removed) by the free. */
	submission_free(s);
	vh_http_respond_error(req);
}

static void
submit(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_principal *who)
{
	struct submission	*s;
	const char		*ctype = vh_http_req_header(req, "Content-Type");
	char			*boundary = NULL;
	int64_t			 cl, avail;

	if (ctype == NULL || vh_multipart_boundary(ctype, &boundary) != 0) {
		vh_http_respond_problem(req, 415, "unsupported-media-type",
		    "send multipart/form-data with a boundary");
		return;
	}
	/* A body that cannot fit above the floor of free space is refused
	 * before it is read (fstatvfs does not wait on the disk). */
	cl = vh_http_req_content_length(req);
	if (vh_blobstore_space(ctx->blobs, &avail) == 0 &&
	    avail - vh_ctx_config(ctx)->min_free_space < (cl > 0 ? cl : 0)) {
		free(boundary);
		vh_log_warnx("req=%s %" PRId64 " bytes free, %" PRId64 " asked",
		    vh_http_req_id(req), avail, cl);
		vh_http_respond_problem(req, 507, "insufficient-storage",
		    "the server has no room for this submission right now; try "
		    "again later");
		return;
	}
	s = vh_xcalloc(1, sizeof *s);
	s->ctx = ctx;
	s->cfg = vh_config_ref(vh_ctx_config(ctx));
	s->req = req;
	s->who = *who;
	s->entry.max = MAX_ENTRY_JSON;
	if (vh_apipart_start(&s->files, ctx->pool, ctx->blobs, req, boundary,
	    MAX_FILES, &part_cbs, s) != 0) {
		free(boundary);
		vh_config_unref(s->cfg);
		free(s);
		vh_http_respond_problem(req, 400, "bad-multipart",
		    "the multipart boundary is not valid");
		return;
	}
	free(boundary);
	vh_apipart_read_body(&s->files, s->cfg->max_upload_size, on_end,
	    on_abort);
}

void
vh_api_entries_post(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	submit(ctx, req, who);
}

void
vh_api_collection_upload(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	const char *ctype = vh_http_req_header(req, "Content-Type");

	/* The same link takes one-request stories and tus creations. */
	if (ctype != NULL && strncasecmp(ctype, "multipart/", 10) == 0)
		submit(ctx, req, who);
	else
		vh_api_tus_create(ctx, req, params, who);
}
