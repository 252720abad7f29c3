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

PGresult *
vh_db_prepared(PGconn *db, const char *sql, int nparams,
    const char *const *params)
{
	struct prepared	*p;
	PGresult	*r;
	char		 name[16];
	int		 i;

	if ((p = prepared_of(db)) == NULL)
		goto unprepared;
	for (i = 0; i < p->n; i++)
		if (strcmp(p->sql[i], sql) == 0)
			break;
	if (i == p->n) {
		if (p->n == VH_DB_MAXPREPARED)
			goto unprepared;
		snprintf(name, sizeof name, "vh_%d", i);
		/* A failed Parse fails the statement (and an open
		 * transaction) exactly as the statement itself would. */
		r = PQprepare(db, name, sql, nparams, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return (r);
		PQclear(r);
		p->sql[p->n++] = vh_xstrdup(sql);
	}
	snprintf(name, sizeof name, "vh_%d", i);
	return (PQexecPrepared(db, name, nparams, params, NULL, NULL, 0));
unprepared:
	return (PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0));
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

void
vh_db_params_id(struct vh_db_params *p, int64_t i)
{
	if (i != 0)
		vh_db_params_int(p, i);
	else
		vh_db_params_str(p, NULL);
}
