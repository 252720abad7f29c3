/*
 * Stored files of entries. The original upload is sealed: it keeps its
 * EXIF and unredacted audio, so only admins may read it, only with a
 * stated reason, and each read is in the audit trail before a byte is
 * served (no audit row, no read). Whether the file may be read at all is
 * the access rule's answer (vh_access_media), as for every other read.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_ctx.h"
#include "vh_audit.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_text.h"
#include "vh_utf8.h"
#include "vh_xmalloc.h"

struct file_job {
	struct vh_ctx		*ctx;
	struct vh_http_req	*req;
	struct vh_principal	 who;
	struct vh_audit_actor	 actor;
	char			*id, *reason;
	struct vh_api_err	 err;
	struct vh_api_file	 file;
};

static void
original_work(struct vh_worker *w, void *arg)
{
	struct file_job		*j = arg;
	PGconn			*db;
	PGresult		*r;
	char			*err = NULL, *norow;

	norow = vh_xasprintf("no media %s", j->id);
	r = vh_api_media_row(w, j->req, &j->err, &j->who, j->id, NULL,
	    "SELECT m.blob_sha256, m.declared_type, m.filename"
	    " FROM media m WHERE m.id = $1::bigint"
	    /* A rejected original is sealed for good. */
	    " AND m.status <> 'rejected'", norow, &db);
	free(norow);
	if (r == NULL)
		return;
	if (vh_audit_record(db, &j->actor, "read", "media", j->id, j->reason,
	    &err) != 0)
		vh_api_err_db(&j->err, j->req, "audit", err, NULL);
	else
		(void)vh_api_file_open(&j->file, j->ctx->blobs,
		    PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 2), &j->err);
	PQclear(r);
}

static void
original_done(void *arg)
{
	struct file_job *j = arg;

	if (j->err.status == 0)
		vh_log_info("req=%s %s read original of media %s",
		    vh_http_req_id(j->req), j->who.name, j->id);
	/* Never trust the declared type: the original is bytes.
	 * vh_serve_file says "private, no-store" for attachments:
	 * a sealed original must not be kept in any cache. */
	vh_api_reply_file(j->req, &j->err, &j->file,
	    "application/octet-stream", "attachment");
	vh_api_file_clear(&j->file);
	vh_api_err_clear(&j->err);
	free(j->id);
	free(j->reason);
	free(j);
}

bool
vh_api_reason_ok(const char *s)
{
	size_t	n, visible = 0;

	if (s == NULL || (n = strlen(s)) > 500)
		return (false);
	/* The audit trail keeps the reason as text: it must be UTF-8. */
	if (vh_utf8_valid((const unsigned char *)s, n) != n)
		return (false);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (false);
		if (s[i] != ' ')
			visible++;
	}
	return (visible >= 3);
}

void
vh_api_media_original(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	struct file_job	*j;
	const char	*id = vh_route_param(params, "id"), *h; /* {id:int} */
	char		*reason;

	if ((h = vh_http_req_header(req, "X-Access-Reason")) != NULL)
		reason = vh_xstrdup(h);
	else
		reason = vh_http_query_get(vh_http_req_query(req), "reason");
	if (!vh_api_reason_ok(reason)) {
		free(reason);
		vh_http_respond_problem(req, 400, "reason-required",
		    "reading a sealed original needs a stated reason "
		    "(X-Access-Reason header or ?reason=: UTF-8, 3 to 500 "
		    "bytes, no control characters)");
		return;
	}
	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->req = req;
	j->who = *who;
	vh_audit_actor_from(&j->actor, req, who);
	j->id = vh_xstrdup(id);
	j->reason = reason;
	vh_api_file_init(&j->file);
	vh_pool_submit(ctx->pool, original_work, original_done, j);
}
