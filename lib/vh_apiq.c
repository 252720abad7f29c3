/*
 * One-value read routes. A job carries a prepared statement text and its
 * parameters to a worker; the worker runs it on its own connection and
 * keeps the single value (JSON), or runs the query the value names through
 * COPY … TO STDOUT (CSV exports, quoted by PostgreSQL itself). Bad input
 * that only the database can judge (SQLSTATE class 22) becomes 400.
 */
#include <stdlib.h>
#include <string.h>

#include "vh_apiq.h"
#include "vh_app.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_http.h"
#include "vh_httpparse.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_xmalloc.h"

struct apiq_job {
	struct vh_http_req	*req;
	struct vh_apiq		 q;
	int			 status;
	char			*detail;
	char			*body;
	size_t			 len, cap;
};

static void
append(struct apiq_job *j, const char *s, size_t n)
{
	if (j->len + n + 1 > j->cap) {
		j->cap = (j->len + n + 1) * 2;
		j->body = vh_xreallocarray(j->body, j->cap, 1);
	}
	memcpy(j->body + j->len, s, n);
	j->len += n;
	j->body[j->len] = '\0';
}

/* Sets the status for a failed statement. */
static void
failed(struct apiq_job *j, PGresult *r, const char *msg)
{
	const char *state = r != NULL ? vh_db_sqlstate(r) : "";

	if (strncmp(state, "22", 2) == 0) {
		j->status = 400;
		j->detail = vh_xstrdup(r != NULL && PQresultErrorField(r,
		    PG_DIAG_MESSAGE_PRIMARY) != NULL ? PQresultErrorField(r,
		    PG_DIAG_MESSAGE_PRIMARY) : "bad parameter");
	} else if (strcmp(state, "23505") == 0 && j->q.conflict != NULL) {
		j->status = 409;
		j->detail = vh_xstrdup(j->q.conflict);
	} else if (strncmp(state, "23", 2) == 0) {
		j->status = 422;
		j->detail = vh_xstrdup(PQresultErrorField(r,
		    PG_DIAG_MESSAGE_PRIMARY));
	} else {
		vh_log_warnx("req=%s query: %s", vh_http_req_id(j->req), msg);
		j->status = 503;
		j->detail = vh_xstrdup("the database could not answer");
	}
}

/* COPY (query) TO STDOUT, appended to the body after a UTF-8 BOM. */
static void
copy_csv(struct apiq_job *j, PGconn *db, const char *query)
{
	char		*sql, *buf;
	PGresult	*r;
	int		 n;

	sql = vh_xasprintf("COPY (%s) TO STDOUT WITH (%s)", query,
	    j->q.csv_options != NULL ? j->q.csv_options : "FORMAT csv, HEADER");
	r = PQexec(db, sql);
	free(sql);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		failed(j, r, PQerrorMessage(db));
		PQclear(r);
		return;
	}
	PQclear(r);
	append(j, "\xef\xbb\xbf", 3);	/* Excel reads UTF-8 only with it */
	while ((n = PQgetCopyData(db, &buf, 0)) > 0) {
		append(j, buf, (size_t)n);
		PQfreemem(buf);
	}
	while ((r = PQgetResult(db)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && j->status == 0)
			failed(j, r, PQerrorMessage(db));
		PQclear(r);
	}
}

static void
apiq_work(struct vh_worker *w, void *arg)
{
	struct apiq_job	*j = arg;
	PGconn		*db;
	PGresult	*r;
	char		*err = NULL;

	if ((db = vh_worker_db(w, &err)) == NULL) {
		vh_log_warnx("req=%s %s", vh_http_req_id(j->req), err);
		free(err);
		j->status = 503;
		j->detail = vh_xstrdup("the database is unavailable");
		return;
	}
	r = PQexecParams(db, j->q.sql, j->q.nparams, NULL,
	    (const char *const *)j->q.params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		failed(j, r, PQerrorMessage(db));
		PQclear(r);
		return;
	}
	if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
		j->status = 404;
		j->detail = vh_xstrdup(j->q.not_found != NULL ? j->q.not_found :
		    "not found");
	} else if (j->q.mode == VH_APIQ_CSV)
		copy_csv(j, db, PQgetvalue(r, 0, 0));
	else
		append(j, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
	PQclear(r);
}

static void
apiq_done(void *arg)
{
	struct apiq_job	*j = arg;

	if (j->status != 0)
		vh_http_respond_problem(j->req, j->status, j->status == 404 ?
		    "not-found" : j->status == 400 ? "bad-request" :
		    j->status == 409 ? "conflict" : j->status == 422 ?
		    "invalid" : "database-unavailable", "%s", j->detail);
	else {
		if (j->q.filename != NULL)
			vh_http_add_header(j->req, "Content-Disposition",
			    "attachment; filename=\"%s\"", j->q.filename);
		vh_http_respond(j->req, j->q.ok_status != 0 ? j->q.ok_status :
		    200, j->q.content_type != NULL ? j->q.content_type :
		    "application/json", j->body != NULL ? j->body : "", j->len);
	}
	for (int i = 0; i < j->q.nparams; i++)
		free(j->q.params[i]);
	free(j->detail);
	free(j->body);
	free(j);
}

void
vh_apiq_run(struct vh_app *app, struct vh_http_req *req, struct vh_apiq *q)
{
	struct apiq_job *j = vh_xcalloc(1, sizeof *j);

	j->req = req;
	j->q = *q;
	memset(q->params, 0, sizeof q->params);
	vh_pool_submit(vh_app_pool(app), apiq_work, apiq_done, j);
}

char *
vh_apiq_arg(struct vh_http_req *req, const char *name)
{
	return (vh_http_query_get(vh_http_req_query(req), name));
}
