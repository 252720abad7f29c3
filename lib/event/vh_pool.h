#ifndef VH_POOL_H
#define VH_POOL_H
/* A fixed pool of threads for blocking work: fsync, rename, libpq queries,
 * libmagic. Jobs go in owned; their completion runs on the loop thread. */
#include <stdint.h>

#include <event2/event.h>

struct vh_pool;
struct vh_worker;

/* Runs on a worker thread; must not touch the event_base or connections. */
typedef void (*vh_pool_work_fn)(struct vh_worker *, void *arg);
/* Runs on the loop thread after the work; usually frees arg. */
typedef void (*vh_pool_done_fn)(void *arg);

/* Frees a worker's state (vh_worker_state) when its thread ends. */
typedef void (*vh_pool_state_free_fn)(void *state);

/*
 * worker_ctx (borrowed, outlives the pool) is what every worker's jobs see
 * through vh_worker_ctx(); the pool knows nothing of it. The database layer
 * keeps each worker's connection there (lib/db/vh_dbworker.h), so the pool
 * needs no libpq. Caller frees.
 */
struct vh_pool *vh_pool_new(struct event_base *, int nthreads,
	    void *worker_ctx, vh_pool_state_free_fn state_free);
/* Finishes queued work, joins the threads, runs pending completions. */
void	vh_pool_free(struct vh_pool *);

/* Queues a job; done may be NULL. arg is the caller's until done runs. */
void	vh_pool_submit(struct vh_pool *, vh_pool_work_fn, vh_pool_done_fn,
	    void *arg);
/* Jobs queued or running. Loop thread only. */
int	vh_pool_pending(const struct vh_pool *);

/* Worker thread only: the pool's worker_ctx (borrowed), and the slot of
 * state this worker owns (NULL at first; freed with state_free). */
void	*vh_worker_ctx(struct vh_worker *);
void	**vh_worker_state(struct vh_worker *);

#endif
