/*
 * What every API job repeats, written once: the job records the first
 * error it meets in a struct vh_api_err (a later error is usually a
 * consequence of the first), a database failure is logged in libpq's
 * words and answered in ours, and the done callback on the loop thread
 * answers either the problem or the result. VH_E* codes map to HTTP
 * statuses here only; nothing below lib/api speaks HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vh_access.h"
#include "vh_body.h"
#include "vh_apijob.h"
#include "vh_blobstore.h"
#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_serve.h"
#include "vh_xmalloc.h"

#define DB_DETAIL "the database is unavailable; try again shortly"

void
vh_api_err_set(struct vh_api_err *e, int status, const char *type,
    char *detail)
{
	if (e->status != 0) {
		free(detail);
		return;
	}
	e->status = status;
	e->type = vh_xstrdup(type);
	e->detail = detail;
}

void
vh_api_err_db(struct vh_api_err *e, struct vh_http_req *req,
    const char *what, char *err, const char *detail)
{
	vh_log_warnx("req=%s %s%s%s", vh_http_req_id(req),
	    what != NULL ? what : "", what != NULL ? ": " : "",
	    err != NULL ? err : "?");
	free(err);
	vh_api_err_set(e, 503, "database-unavailable",
	    vh_xstrdup(detail != NULL ? detail : DB_DETAIL));
}

void
vh_api_err_clear(struct vh_api_err *e)
{
	free(e->type);
	free(e->detail);
	e->status = 0;
	e->type = e->detail = NULL;
}

PGconn *
vh_api_db(struct vh_worker *w, struct vh_http_req *req, struct vh_api_err *e,
    const char *detail)
{
	PGconn	*db;
	char	*err = NULL;

	if ((db = vh_worker_db(w, &err)) == NULL)
		vh_api_err_db(e, req, "database", err, detail);
	return (db);
}

int
vh_api_tx(struct vh_worker *w, struct vh_http_req *req, struct vh_api_err *e,
    const char *what, const char *detail, vh_api_change_fn *change, void *arg)
{
	PGconn	*db;
	char	*err = NULL;

	if ((db = vh_api_db(w, req, e, detail)) == NULL)
		return (VH_EDB);
	if (vh_db_begin(db, &err) != 0) {
		vh_api_err_db(e, req, what, err, detail);
		return (VH_EDB);
	}
	change(req, db, e, arg);
	if (e->status != 0)
		vh_db_rollback(db);
	else if (vh_db_commit(db, &err) != 0)
		vh_api_err_db(e, req, what, err, detail);
	return (e->status != 0 ? VH_EDB : 0);
}

PGresult *
vh_api_media_row(struct vh_worker *w, struct vh_http_req *req,
    struct vh_api_err *e, const struct vh_principal *who, const char *id,
    const char *use, const char *sql, const char *norow, PGconn **dbp)
{
	const char	*params[1] = { id };
	PGconn		*db;
	PGresult	*r;
	char		*err = NULL, what[48];
	int		 rc;

	if ((db = *dbp = vh_api_db(w, req, e, NULL)) == NULL)
		return (NULL);
	snprintf(what, sizeof what, "media %s", id);
	if ((rc = vh_access_media(db, who, id, use, &err)) != 0) {
		if (rc == VH_ENOENT)
			vh_api_err_set(e, 404, "not-found",
			    vh_xasprintf("no media %s that you may use", id));
		else
			vh_api_err_db(e, req, what, err, NULL);
		return (NULL);
	}
	if ((r = vh_db_exec(db, sql, 1, params, &err)) == NULL) {
		vh_api_err_db(e, req, what, err, NULL);
		return (NULL);
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		vh_api_err_set(e, 404, "not-found", vh_xstrdup(norow));
		return (NULL);
	}
	return (r);
}

int
vh_api_status(int rc)
{
	switch (rc) {
	case 0:
		return (200);
	case VH_EINVAL:
		return (422);
	case VH_ENOENT:
		return (404);
	case VH_EEXIST:
	case VH_ECONFLICT:
		return (409);
	case VH_ETOOBIG:
		return (413);
	case VH_ECHECKSUM:
		return (460);	/* tus: checksum mismatch */
	case VH_ENOTSUP:
		return (501);
	case VH_EDB:
	case VH_EAGAIN:
		return (503);
	default:
		return (500);
	}
}

const char *
vh_api_status_type(int status)
{
	switch (status) {
	case 400:
		return ("bad-request");
	case 404:
		return ("not-found");
	case 409:
		return ("conflict");
	case 413:
		return ("too-large");
	case 422:
		return ("invalid");
	case 501:
		return ("not-implemented");
	case 503:
		return ("database-unavailable");
	default:
		return ("internal");
	}
}

void
vh_api_file_init(struct vh_api_file *f)
{
	f->fd = -1;
	f->size = 0;
	f->sha256[0] = '\0';
	f->filename = NULL;
}

int
vh_api_file_open(struct vh_api_file *f, struct vh_blobstore *bs,
    const char *sha256, const char *filename, struct vh_api_err *e)
{
	vh_api_file_clear(f);
	snprintf(f->sha256, sizeof f->sha256, "%s", sha256);
	f->filename = vh_xstrdup(filename);
	if (vh_blobstore_open_fd(bs, f->sha256, &f->fd, &f->size) != 0) {
		f->fd = -1;
		vh_api_err_set(e, 404, "not-found",
		    vh_xstrdup("the file is not in the store"));
		return (VH_ENOENT);
	}
	return (0);
}

void
vh_api_file_clear(struct vh_api_file *f)
{
	if (f->fd != -1)
		close(f->fd);
	free(f->filename);
	vh_api_file_init(f);
}

void
vh_api_reply_problem(struct vh_http_req *req, const struct vh_api_err *e)
{
	if (e->status == 0)
		vh_http_respond_problem(req, 500, "internal", "the request "
		    "failed and the server did not say why");
	else
		vh_http_respond_problem(req, e->status, e->type, "%s",
		    e->detail);
}

void
vh_api_reply_json(struct vh_http_req *req, const struct vh_api_err *e,
    int ok_status, json_t *json)
{
	if (e->status != 0)
		vh_api_reply_problem(req, e);
	else
		vh_body_respond_json(req, ok_status, json_incref(json));
}

void
vh_api_reply_file(struct vh_http_req *req, const struct vh_api_err *e,
    struct vh_api_file *f, const char *ctype, const char *disposition)
{
	if (e->status != 0 || f->fd == -1) {
		vh_http_respond_problem(req, e->status != 0 ? e->status : 500,
		    e->type != NULL ? e->type : "internal", "%s",
		    e->detail != NULL ? e->detail : "the file was not opened");
		return;
	}
	vh_serve_file(req, f->fd, f->size, f->sha256, ctype, f->filename,
	    disposition);
	f->fd = -1;	/* the server has it now */
}
