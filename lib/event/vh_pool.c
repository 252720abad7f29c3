/*
 * The worker pool. The loop thread queues owned jobs under a mutex and a
 * condition variable; a worker runs one, then puts it on the done list and
 * writes to an eventfd, whose read event on the loop runs the completions.
 * Each worker owns its database connection, so no connection is shared.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vh_log.h"
#include "vh_unused.h"
#include "vh_metrics.h"
#include "vh_pool.h"
#include "vh_thread.h"
#include "vh_xmalloc.h"

struct job {
	vh_pool_work_fn	 work;
	vh_pool_done_fn	 done;
	void		*arg;
	struct job	*next;
	struct timespec	 queued;	/* for the wait metric */
};

struct vh_worker {
	struct vh_pool	*pool;
	pthread_t	 thread;
	void		*state;		/* the worker's own, see vh_worker_state */
	int		 index;
};

struct vh_pool {
	struct event_base *base;
	void		*worker_ctx;	/* borrowed */
	vh_pool_state_free_fn state_free;

	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	struct job	*queue, **queue_tail;
	struct job	*done, **done_tail;
	bool		 stopping;

	int		 efd;
	struct event	*ev;
	int		 pending;	/* loop thread only */

	struct vh_worker *workers;
	int		 nworkers;
	int		 idle, queued;	/* under lock */
};

static int64_t
since_us(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((now.tv_sec - t0->tv_sec) * 1000000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000);
}

static void *
worker_main(void *arg)
{
	struct vh_worker	*w = arg;
	struct vh_pool		*pool = w->pool;
	struct job		*j;
	uint64_t		 one = 1;

	vh_thread_set_role(VH_THREAD_WORKER);
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		pool->idle++;
		while (pool->queue == NULL && !pool->stopping)
			pthread_cond_wait(&pool->cond, &pool->lock);
		pool->idle--;
		if ((j = pool->queue) == NULL) {
			pthread_mutex_unlock(&pool->lock);
			break;
		}
		if ((pool->queue = j->next) == NULL)
			pool->queue_tail = &pool->queue;
		pool->queued--;
		pthread_mutex_unlock(&pool->lock);

		vh_metrics_pool_wait(since_us(&j->queued));
		j->work(w, j->arg);

		j->next = NULL;
		pthread_mutex_lock(&pool->lock);
		*pool->done_tail = j;
		pool->done_tail = &j->next;
		pthread_mutex_unlock(&pool->lock);
		if (write(pool->efd, &one, sizeof one) == -1 && errno != EAGAIN)
			vh_log_warn("pool: eventfd write");
	}
	if (w->state != NULL && pool->state_free != NULL)
		pool->state_free(w->state);
	return (NULL);
}

/* Runs the completions of finished jobs, on the loop thread. */
static void
run_done(struct vh_pool *pool)
{
	struct job	*list, *j;

	pthread_mutex_lock(&pool->lock);
	list = pool->done;
	pool->done = NULL;
	pool->done_tail = &pool->done;
	pthread_mutex_unlock(&pool->lock);

	while ((j = list) != NULL) {
		list = j->next;
		pool->pending--;
		if (j->done != NULL)
			j->done(j->arg);
		free(j);
	}
}

static void
efd_cb(evutil_socket_t fd, short what VH_UNUSED, void *arg)
{
	uint64_t	n;

	if (read(fd, &n, sizeof n) == -1 && errno != EAGAIN)
		vh_log_warn("pool: eventfd read");
	run_done(arg);
}

struct vh_pool *
vh_pool_new(struct event_base *base, int nthreads, void *worker_ctx,
    vh_pool_state_free_fn state_free)
{
	struct vh_pool	*pool;

	/* The pool is made on the thread that runs base: the loop. */
	vh_thread_set_role(VH_THREAD_LOOP);
	pool = vh_xcalloc(1, sizeof *pool);
	pool->base = base;
	pool->worker_ctx = worker_ctx;
	pool->state_free = state_free;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	pool->queue_tail = &pool->queue;
	pool->done_tail = &pool->done;
	if ((pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		vh_fatal("pool: eventfd: %s", strerror(errno));
	pool->ev = event_new(base, pool->efd, EV_READ | EV_PERSIST, efd_cb, pool);
	event_add(pool->ev, NULL);

	pool->nworkers = nthreads;
	pool->workers = vh_xcalloc(nthreads, sizeof *pool->workers);
	for (int i = 0; i < nthreads; i++) {
		pool->workers[i].pool = pool;
		pool->workers[i].index = i;
		if (pthread_create(&pool->workers[i].thread, NULL, worker_main,
		    &pool->workers[i]) != 0)
			vh_fatal("pool: pthread_create");
	}
	return (pool);
}

void
vh_pool_free(struct vh_pool *pool)
{
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (int i = 0; i < pool->nworkers; i++)
		pthread_join(pool->workers[i].thread, NULL);
	run_done(pool);
	event_free(pool->ev);
	close(pool->efd);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->cond);
	free(pool->workers);
	free(pool);
}

void
vh_pool_submit(struct vh_pool *pool, vh_pool_work_fn work,
    vh_pool_done_fn done, void *arg)
{
	struct job	*j;

	/* pending and the completions are the loop's: only it submits. */
	VH_ASSERT_LOOP();
	j = vh_xcalloc(1, sizeof *j);
	j->work = work;
	j->done = done;
	j->arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &j->queued);
	pool->pending++;
	pthread_mutex_lock(&pool->lock);
	/* Each worker holds a database connection: a job that finds none
	 * idle waits for one. */
	if (pool->queued++ >= pool->idle)
		vh_metrics_add(VH_METRIC_POOL_WAITS, 1);
	*pool->queue_tail = j;
	pool->queue_tail = &j->next;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

int
vh_pool_pending(const struct vh_pool *pool)
{
	return (pool->pending);
}

void *
vh_worker_ctx(struct vh_worker *w)
{
	return (w->pool->worker_ctx);
}

void **
vh_worker_state(struct vh_worker *w)
{
	return (&w->state);
}
