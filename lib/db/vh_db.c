/* Database helpers shared by worker threads and verhaalctl; all blocking.
 * Prepared statements are remembered per connection in libpq's instance
 * data (an event procedure frees them with the connection and forgets
 * them when it is reset), so a worker's reconnect prepares them again. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-events.h>

#include "vh_db.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_unused.h"
#include "vh_xmalloc.h"

PGconn *
vh_db_connect(const char *url, int64_t timeout_ms, char **err)
{
	const char	*keys[] = { "dbname", "connect_timeout",
			    "application_name", NULL };
	const char	*vals[4];
	char		 timeout[32];
	PGconn		*db;
	size_t		 n;

	if (url == NULL || *url == '\0') {
		if (err != NULL)
			*err = vh_xstrdup("no database configured (database_url)");
		return (NULL);
	}
	/* libpq counts whole seconds, and 1 is raised to 2. */
	snprintf(timeout, sizeof timeout, "%lld",
	    (long long)((timeout_ms + 999) / 1000));
	vals[0] = url;
	vals[1] = timeout;
	vals[2] = "verhaal";
	vals[3] = NULL;
	db = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(db) != CONNECTION_OK) {
		if (err != NULL) {
			*err = vh_xstrdup(PQerrorMessage(db));
			n = strlen(*err);
			while (n > 0 && ((*err)[n - 1] == '\n'))
				(*err)[--n] = '\0';
		}
		PQfinish(db);
		return (NULL);
	}
	PQclear(PQexec(db, "SET client_min_messages = warning"));
	return (db);
}

/* The statements prepared on one connection, by SQL text; statement i
 * is named "vh_i". */
struct prepared {
	int	 n;
	char	*sql[VH_DB_MAXPREPARED];
};

static void
prepared_forget(struct prepared *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->sql[i]);
	p->n = 0;
}

static int
prepared_event(PGEventId id, void *info, void *passthrough VH_UNUSED)
{
	PGconn		*db;
	struct prepared	*p;

	switch (id) {
	case PGEVT_CONNRESET:
		db = ((PGEventConnReset *)info)->conn;
		break;
	case PGEVT_CONNDESTROY:
		db = ((PGEventConnDestroy *)info)->conn;
		break;
	default:
		return (1);
	}
	if ((p = PQinstanceData(db, prepared_event)) == NULL)
		return (1);
	prepared_forget(p);
	if (id == PGEVT_CONNDESTROY) {
		free(p);
		PQsetInstanceData(db, prepared_event, NULL);
	}
	return (1);
}

/* The connection's list, made on first use; NULL when libpq would not
 * take the event procedure (the statement then runs unprepared). */
static struct prepared *
prepared_of(PGconn *db)
{
	struct prepared	*p;

	if ((p = PQinstanceData(db, prepared_event)) != NULL)
		return (p);
	if (!PQregisterEventProc(db, prepared_event, "vh_prepared", NULL))
		return (NULL);
	p = vh_xcalloc(1, sizeof *p);
	if (!PQsetInstanceData(db, prepared_event, p)) {
		free(p);
		return (NULL);
	}
	return (p);
}

/*
 * Makes sure sql is prepared on db: name gets its name, or "" when it
 * cannot be (run it unprepared then). NULL, or the failed Parse's result
 * (caller PQclears): that fails the statement (and an open transaction)
 * exactly as running it would have.
 */
static PGresult *
prepare(PGconn *db, const char *sql, int nparams, char name[16])
{
	struct prepared	*p;
	PGresult	*r;
	int		 i;

	name[0] = '\0';
	if ((p = prepared_of(db)) == NULL)
		return (NULL);
	for (i = 0; i < p->n; i++)
		if (strcmp(p->sql[i], sql) == 0)
			break;
	if (i == p->n && p->n == VH_DB_MAXPREPARED)
		return (NULL);
	snprintf(name, 16, "vh_%d", i);
	if (i < p->n)
		return (NULL);
	r = PQprepare(db, name, sql, nparams, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return (r);
	PQclear(r);
	p->sql[p->n++] = vh_xstrdup(sql);
	return (NULL);
}

PGresult *
vh_db_prepared(PGconn *db, const char *sql, int nparams,
    const char *const *params)
{
	PGresult	*r;
	char		 name[16];

	if ((r = prepare(db, sql, nparams, name)) != NULL)
		return (r);
	if (name[0] == '\0')
		return (PQexecParams(db, sql, nparams, NULL, params, NULL,
		    NULL, 0));
	return (PQexecPrepared(db, name, nparams, params, NULL, NULL, 0));
}

static char *
message(const char *m)
{
	char	*s = vh_xstrdup(m != NULL && *m != '\0' ? m : "no result");
	size_t	 n = strlen(s);

	while (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	return (s);
}

int
vh_db_pipeline(PGconn *db, const struct vh_db_stmt *st, int n, char **err)
{
	char		 name[VH_DB_MAXPREPARED][16];
	PGresult	*r;
	int		 i, rc = 0, sent = 0;

	/* Prepared first, outside the pipeline (once per connection), so
	 * that the pipeline holds only executions. */
	for (i = 0; i < n; i++) {
		if (i == VH_DB_MAXPREPARED)
			vh_fatal("vh_db_pipeline: more than %d statements",
			    VH_DB_MAXPREPARED);
		if ((r = prepare(db, st[i].sql, st[i].nparams,
		    name[i])) != NULL) {
			*err = message(PQresultErrorMessage(r));
			PQclear(r);
			return (VH_EDB);
		}
	}
	if (!PQenterPipelineMode(db)) {
		*err = message(PQerrorMessage(db));
		return (VH_EDB);
	}
	for (i = 0; i < n; i++, sent++) {
		int ok = name[i][0] != '\0' ?
		    PQsendQueryPrepared(db, name[i], st[i].nparams,
		    st[i].params, NULL, NULL, 0) :
		    PQsendQueryParams(db, st[i].sql, st[i].nparams, NULL,
		    st[i].params, NULL, NULL, 0);

		if (!ok)
			break;
	}
	if (!PQpipelineSync(db)) {
		*err = message(PQerrorMessage(db));
		rc = VH_EDB;
	}
	/* Each statement's result, then its NULL; then the sync's. A broken
	 * connection ends it early with NULLs. */
	for (i = 0; i < sent; i++) {
		if ((r = PQgetResult(db)) == NULL)
			break;
		switch (PQresultStatus(r)) {
		case PGRES_COMMAND_OK:
		case PGRES_TUPLES_OK:
			break;
		default:
			if (rc == 0) {
				*err = message(PQresultErrorMessage(r));
				rc = VH_EDB;
			}
		}
		PQclear(r);
		while ((r = PQgetResult(db)) != NULL)
			PQclear(r);
	}
	if (sent < n && rc == 0) {
		*err = message(PQerrorMessage(db));
		rc = VH_EDB;
	}
	while ((r = PQgetResult(db)) != NULL) {
		ExecStatusType t = PQresultStatus(r);

		PQclear(r);
		if (t == PGRES_PIPELINE_SYNC)
			break;
	}
	if (!PQexitPipelineMode(db) && rc == 0) {
		*err = message(PQerrorMessage(db));
		rc = VH_EDB;
	}
	return (rc);
}

static PGresult *
checked(PGconn *db, PGresult *r, char **err)
{
	size_t		 n;

	switch (PQresultStatus(r)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
		return (r);
	default:
		break;
	}
	if (err != NULL) {
		*err = vh_xstrdup(PQerrorMessage(db));
		n = strlen(*err);
		while (n > 0 && ((*err)[n - 1] == '\n'))
			(*err)[--n] = '\0';
	}
	PQclear(r);
	return (NULL);
}

PGresult *
vh_db_exec(PGconn *db, const char *sql, int nparams,
    const char *const *params, char **err)
{
	return (checked(db, PQexecParams(db, sql, nparams, NULL, params, NULL,
	    NULL, 0), err));
}

PGresult *
vh_db_exec_prepared(PGconn *db, const char *sql, int nparams,
    const char *const *params, char **err)
{
	return (checked(db, vh_db_prepared(db, sql, nparams, params), err));
}

const char *
vh_db_sqlstate(const PGresult *r)
{
	const char *s = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return (s != NULL ? s : "");
}

int
vh_db_begin(PGconn *db, char **err)
{
	PGresult	*r;

	if ((r = vh_db_exec_prepared(db, "BEGIN", 0, NULL, err)) == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

int
vh_db_commit(PGconn *db, char **err)
{
	PGresult	*r;

	if ((r = vh_db_exec_prepared(db, "COMMIT", 0, NULL, err)) == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

void
vh_db_rollback(PGconn *db)
{
	PQclear(PQexec(db, "ROLLBACK"));
}

void
vh_db_params_init(struct vh_db_params *p)
{
	p->n = 0;
}

static void
params_check(const struct vh_db_params *p)
{
	if (p->n >= VH_DB_MAXPARAMS)
		vh_fatal("vh_db_params: more than %d parameters",
		    VH_DB_MAXPARAMS);
}

void
vh_db_params_str(struct vh_db_params *p, const char *s)
{
	params_check(p);
	p->v[p->n++] = s;
}

void
vh_db_params_int(struct vh_db_params *p, int64_t i)
{
	params_check(p);
	snprintf(p->buf[p->n], sizeof p->buf[p->n], "%" PRId64, i);
	p->v[p->n] = p->buf[p->n];
	p->n++;
}
