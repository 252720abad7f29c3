#ifndef VH_DB_H
#define VH_DB_H
/* PostgreSQL connections: opening with a timeout, and small query helpers
 * for the blocking side (workers, verhaalctl). */
#include <stdint.h>

#include <libpq-fe.h>

/*
 * Opens a connection to url (a libpq connection string or URL) giving up
 * after timeout_ms. Returns NULL with *err set (caller frees) on failure.
 */
PGconn	*vh_db_connect(const char *url, int64_t timeout_ms, char **err);

/*
 * Runs sql with text parameters (NULL-able, nparams of them). Returns the
 * result when it is COMMAND_OK or TUPLES_OK (caller PQclears), else NULL
 * with *err set from the server's message (caller frees).
 */
PGresult *vh_db_exec(PGconn *, const char *sql, int nparams,
	    const char *const *params, char **err);

/* SQLSTATE of the last error of r, or "" */
const char *vh_db_sqlstate(const PGresult *);

#endif
