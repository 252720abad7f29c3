/* Database helpers shared by worker threads and verhaalctl; all blocking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_db.h"
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
