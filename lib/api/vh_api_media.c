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

#include "vh_access.h"
#include "vh_api.h"
#include "vh_app.h"
#include "vh_audit.h"
#include "vh_blobstore.h"
#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_serve.h"
#include "vh_text.h"
#include "vh_utf8.h"
#include "vh_xmalloc.h"

struct file_job {
	struct vh_app		*app;
	struct vh_http_req	*req;
	struct vh_principal	 who;
	struct vh_audit_actor	 actor;
	char			*id, *reason;
	int			 status;
	char			*detail;
	int			 fd;
	int64_t			 size;
	char			 sha256[65];
	char			*ctype, *filename;
};

/* libpq's text (freed here) is for the log; the client gets our words. */
static char *
db_detail(const struct file_job *j, char *err)
{
	vh_log_warnx("req=%s media %s: %s", vh_http_req_id(j->req), j->id,
	    err != NULL ? err : "?");
	free(err);
	return (vh_xstrdup("the database is unavailable; try again shortly"));
}

static void
original_work(struct vh_worker *w, void *arg)
{
	struct file_job		*j = arg;
	const char		*params[1] = { j->id };
	PGconn			*db;
	PGresult		*r;
	char			*err = NULL;
	int			 rc;

	if ((db = vh_worker_db(w, &err)) == NULL) {
		j->status = 503;
		j->detail = db_detail(j, err);
		return;
	}
	if ((rc = vh_access_media(db, &j->who, j->id, NULL, &err)) != 0) {
		j->status = rc == VH_ENOENT ? 404 : 503;
		j->detail = rc == VH_ENOENT ? vh_xasprintf("no media %s", j->id) :
		    db_detail(j, err);
		return;
	}
	r = vh_db_exec(db, "SELECT m.blob_sha256, m.declared_type, m.filename"
	    " FROM media m WHERE m.id = $1::bigint"
	    /* A rejected original is sealed for good. */
	    " AND m.status <> 'rejected'", 1, params, &err);
	if (r == NULL) {
		j->status = 503;
		j->detail = db_detail(j, err);
		return;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		j->status = 404;
		j->detail = vh_xasprintf("no media %s", j->id);
		return;
	}
	if (vh_audit_record(db, &j->actor, "read", "media", j->id, j->reason,
	    &err) != 0) {
		PQclear(r);
		j->status = 503;
		j->detail = db_detail(j, err);
		return;
	}
	snprintf(j->sha256, sizeof j->sha256, "%s", PQgetvalue(r, 0, 0));
	j->filename = vh_xstrdup(PQgetvalue(r, 0, 2));
	PQclear(r);
	if (vh_blobstore_open_fd(vh_app_blobstore(j->app), j->sha256, &j->fd,
	    &j->size) != 0) {
		j->status = 404;
		j->detail = vh_xstrdup("the file is not in the store");
	}
}

static void
original_done(void *arg)
{
	struct file_job *j = arg;

	if (j->status != 0)
		vh_http_respond_problem(j->req, j->status, j->status == 404 ?
		    "not-found" : "database-unavailable", "%s", j->detail);
	else {
		vh_log_info("req=%s %s read original of media %s",
		    vh_http_req_id(j->req), j->who.name, j->id);
		/* Never trust the declared type: the original is bytes.
		 * vh_serve_file says "private, no-store" for attachments:
		 * a sealed original must not be kept in any cache. */
		vh_serve_file(j->req, j->fd, j->size, j->sha256,
		    "application/octet-stream", j->filename, "attachment");
	}
	free(j->id);
	free(j->reason);
	free(j->detail);
	free(j->filename);
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
vh_api_media_original(struct vh_app *app, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	struct file_job	*j;
	const char	*id = vh_route_param(params, "id"), *h;
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
	if (id == NULL || strspn(id, "0123456789") != strlen(id) ||
	    strlen(id) > 18) {
		free(reason);
		vh_http_respond_problem(req, 404, "not-found", "no such media");
		return;
	}
	j = vh_xcalloc(1, sizeof *j);
	j->app = app;
	j->req = req;
	j->who = *who;
	vh_audit_actor_from(&j->actor, req, who);
	j->id = vh_xstrdup(id);
	j->reason = reason;
	j->fd = -1;
	vh_pool_submit(vh_app_pool(app), original_work, original_done, j);
}
