/*
 * Periodic work, written once for every "timer → pool job → re-arm" of
 * the daemon (retention, blob collection, expired sessions). A flag says
 * a run is in flight: the timer is only armed again from the run's
 * completion, so two runs never overlap. Freeing while a run is in
 * flight only marks the object; the completion frees it, as the pool
 * still holds the run.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "vh_periodic.h"
#include "vh_xmalloc.h"

struct vh_periodic {
	struct event_base		*base;
	struct vh_pool			*pool;
	const struct vh_periodic_ops	*ops;
	void				*arg;
	struct event			*timer;
	bool				 running;
	bool				 freed;
};

struct run {
	struct vh_periodic	*p;
	void			*job;
};

static void
arm(struct vh_periodic *p)
{
	int64_t		ms = p->ops->interval_ms(p->arg);
	struct timeval	tv;

	if (ms <= 0)
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
}

static void
run_work(struct vh_worker *w, void *arg)
{
	struct run *r = arg;

	r->p->ops->work(w, r->job);
}

static void
run_done(void *arg)
{
	struct run		*r = arg;
	struct vh_periodic	*p = r->p;

	if (p->ops->done != NULL)
		p->ops->done(r->job);
	free(r);
	p->running = false;
	if (p->freed) {
		event_free(p->timer);
		free(p);
		return;
	}
	arm(p);
}

void
vh_periodic_run_now(struct vh_periodic *p)
{
	struct run	*r;
	void		*job = p->arg;

	if (p->running || p->freed)
		return;
	if (p->ops->start != NULL && (job = p->ops->start(p->arg)) == NULL) {
		arm(p);		/* skipped: try again next time */
		return;
	}
	r = vh_xcalloc(1, sizeof *r);
	r->p = p;
	r->job = job;
	p->running = true;
	vh_pool_submit(p->pool, run_work, run_done, r);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	vh_periodic_run_now(arg);
}

struct vh_periodic *
vh_periodic_new(struct event_base *base, struct vh_pool *pool,
    const struct vh_periodic_ops *ops, void *arg)
{
	struct vh_periodic *p = vh_xcalloc(1, sizeof *p);

	p->base = base;
	p->pool = pool;
	p->ops = ops;
	p->arg = arg;
	p->timer = evtimer_new(base, timer_cb, p);
	return (p);
}

void
vh_periodic_start(struct vh_periodic *p)
{
	if (!p->running && !evtimer_pending(p->timer, NULL))
		arm(p);
}

void
vh_periodic_free(struct vh_periodic *p)
{
	if (p == NULL)
		return;
	evtimer_del(p->timer);
	if (p->running) {
		p->freed = true;
		return;
	}
	event_free(p->timer);
	free(p);
}
