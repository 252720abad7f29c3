/* Database helpers shared by worker threads and verhaalctl; all blocking. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_db.h"
#include "vh_error.h"
#include "vh_log.h"
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

PGresult *
vh_db_exec(PGconn *db, const char *sql, int nparams,
    const char *const *params, char **err)
{
	PGresult	*r;
	size_t		 n;

	r = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
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

	if ((r = vh_db_exec(db, "BEGIN", 0, NULL, err)) == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

int
vh_db_commit(PGconn *db, char **err)
{
	PGresult	*r;

	if ((r = vh_db_exec(db, "COMMIT", 0, NULL, err)) == NULL)
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
