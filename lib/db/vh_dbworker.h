#ifndef VH_DBWORKER_H
#define VH_DBWORKER_H
/*
 * Each pool worker's own PostgreSQL connection. The pool (lib/event) is
 * generic; this module is the worker_ctx and state_free it is made with:
 *
 *	dbw = vh_dbworker_new(url, timeout_ms);
 *	pool = vh_pool_new(base, n, dbw, vh_dbworker_state_free);
 *	…in a job: db = vh_worker_db(w, &err);
 */
#include <stdint.h>

#include <libpq-fe.h>

struct vh_worker;
struct vh_dbworker;

/* url may be empty: workers then connect with libpq's defaults. Caller
 * frees, after the pool that uses it. */
struct vh_dbworker *vh_dbworker_new(const char *url, int64_t timeout_ms);
void	vh_dbworker_free(struct vh_dbworker *);
/* The pool's state_free: closes a worker's connection. */
void	vh_dbworker_state_free(void *);

/*
 * The worker's own database connection, opened on first use and reopened
 * after it broke. NULL with *err set (caller frees) when it cannot connect.
 * Worker thread only.
 */
PGconn	*vh_worker_db(struct vh_worker *, char **err);

#endif
