#ifndef VH_PERIODIC_H
#define VH_PERIODIC_H
/*
 * Periodic work: a timer on the loop thread that queues one job on the
 * worker pool and re-arms itself only when that job is done, so a run
 * never overlaps the one before it, however long it takes. The interval
 * is asked for again before each arming (a reload may change it).
 */
#include <stdint.h>

#include <event2/event.h>

#include "vh_pool.h"

struct vh_periodic;

struct vh_periodic_ops {
	const char	*name;			/* for the log: "retention" */
	/* Loop: milliseconds until the next run; <= 0 stops re-arming. */
	int64_t		(*interval_ms)(void *arg);
	/* Loop: the job of this run (owned by the run), or NULL to skip
	 * it; may be NULL itself, and the job is then arg. */
	void		*(*start)(void *arg);
	/* Worker: the run. */
	vh_pool_work_fn	 work;
	/* Loop: after the run, before re-arming; frees what start made.
	 * May be NULL. Also runs when the helper was freed meanwhile. */
	vh_pool_done_fn	 done;
};

/* Borrows base, pool, ops (static) and arg, which must outlive it.
 * Nothing runs until vh_periodic_start. */
struct vh_periodic *vh_periodic_new(struct event_base *, struct vh_pool *,
	    const struct vh_periodic_ops *, void *arg);
/* Arms the first run, interval_ms from now. */
void	vh_periodic_start(struct vh_periodic *);
/* Loop: runs now unless a run is in progress. */
void	vh_periodic_run_now(struct vh_periodic *);
/* Stops; a run in progress finishes (its done runs) and the object is
 * freed after it. NULL is a no-op. */
void	vh_periodic_free(struct vh_periodic *);

#endif
