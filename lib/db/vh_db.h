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

/*
 * As PQexecParams (the result is never NULL; caller PQclears and checks
 * its status), but sql runs as a statement prepared on this connection:
 * parsed and planned once per connection rather than per call, which is
 * most of a short statement's server time. Prepared on first use, and
 * again on a new or reset connection. For the few fixed statements of
 * hot paths (at most VH_DB_MAXPREPARED per connection; more run
 * unprepared), never for SQL built at run time.
 */
#define VH_DB_MAXPREPARED 32
PGresult *vh_db_prepared(PGconn *, const char *sql, int nparams,
	    const char *const *params);
/* vh_db_exec, through vh_db_prepared. */
PGresult *vh_db_exec_prepared(PGconn *, const char *sql, int nparams,
	    const char *const *params, char **err);

/* SQLSTATE of the last error of r, or "" */
const char *vh_db_sqlstate(const PGresult *);

/*
 * Transactions. The function that calls vh_db_begin owns the transaction:
 * it alone commits or rolls back, and its callees only report failure.
 * begin and commit return 0, or VH_EDB with *err (a failed COMMIT has
 * rolled back); rollback never fails (a broken connection has none).
 */
int	vh_db_begin(PGconn *, char **err) __attribute__((warn_unused_result));
int	vh_db_commit(PGconn *, char **err) __attribute__((warn_unused_result));
void	vh_db_rollback(PGconn *);

/*
 * Text parameters built in place: strings are borrowed (NULL is SQL
 * NULL), integers are formatted into the struct's own buffers. Pass
 * p.n and p.v to vh_db_exec. More than VH_DB_MAXPARAMS is a bug.
 */
#define VH_DB_MAXPARAMS 16
struct vh_db_params {
	int		 n;
	const char	*v[VH_DB_MAXPARAMS];
	char		 buf[VH_DB_MAXPARAMS][24];
};
void	vh_db_params_init(struct vh_db_params *);
void	vh_db_params_str(struct vh_db_params *, const char *);
void	vh_db_params_int(struct vh_db_params *, int64_t);
/* An id or count where 0 means none: 0 is SQL NULL. */
void	vh_db_params_id(struct vh_db_params *, int64_t);

#endif
