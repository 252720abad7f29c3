#ifndef VH_POOL_H
#define VH_POOL_H
/* A fixed pool of threads for blocking work: fsync, rename, libpq queries,
 * libmagic. Jobs go in owned; their completion runs on the loop thread. */
#include <stdint.h>

#include <event2/event.h>
#include <libpq-fe.h>

struct vh_pool;
struct vh_worker;

/* Runs on a worker thread; must not touch the event_base or connections. */
typedef void (*vh_pool_work_fn)(struct vh_worker *, void *arg);
/* Runs on the loop thread after the work; usually frees arg. */
typedef void (*vh_pool_done_fn)(void *arg);

/* db_url may be empty: workers then have no database. Caller frees. */
struct vh_pool *vh_pool_new(struct event_base *, int nthreads,
	    const char *db_url, int64_t db_timeout_ms);
/* Finishes queued work, joins the threads, runs pending completions. */
void	vh_pool_free(struct vh_pool *);

/* Queues a job; done may be NULL. arg is the caller's until done runs. */
void	vh_pool_submit(struct vh_pool *, vh_pool_work_fn, vh_pool_done_fn,
	    void *arg);
/* Jobs queued or running. Loop thread only. */
int	vh_pool_pending(const struct vh_pool *);

/*
 * The worker's own database connection, opened on first use and reopened
 * after it broke. NULL with *err set (caller frees) when it cannot connect.
 */
PGconn	*vh_worker_db(struct vh_worker *, char **err);

#endif
