/*
 * Media runners. Each runner thread owns a PGconn (LISTENing on
 * VH_JOBQ_CHANNEL) and a magic_t, and loops: claim the oldest due job with
 * FOR UPDATE SKIP LOCKED, run it, record the outcome; with nothing to do,
 * sleep in poll(2) on its connection's socket, the stop pipe and a timeout
 * (the poll interval, or sooner when a retry or a lease falls due).
 *
 * A claimed job carries a lease (lib/db/vh_jobq.c owns the job table).
 * One keeper thread per process renews the leases of all its runners, so
 * a long transcode keeps its job while a killed process loses its jobs
 * within one lease. A job runs through the handler of its kind, found in
 * the media layer's table (vh_job_kind.h): the runner includes no job.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "vh_blobstore.h"
#include "vh_classify.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_job_kind.h"
#include "vh_jobq.h"
#include "vh_jobs.h"
#include "vh_log.h"
#include "vh_metrics.h"
#include "vh_xmalloc.h"

#define RECONNECT_MS	2000
#define MIN_WAIT_MS	100
/* Spool leftovers of jobs that died are older than this. */
#define SPOOL_MAX_AGE_S	(24 * 3600)

struct runner {
	struct vh_jobs	*jobs;
	pthread_t	 thread;
	int		 index;
	char		 lock_id[128];
	PGconn		*db;
	magic_t		 magic;
};

struct vh_jobs {
	char			*db_url;
	int64_t			 db_timeout;
	int			 nrunners;
	int			 max_attempts;
	int64_t			 retry_ms, lease_ms, poll_ms;
	struct vh_blobstore	*blobs;
	char			 prefix[96];	/* "host:pid:nonce" */
	atomic_bool		 stopping;
	int			 stop_pipe[2];
	struct runner		*runners;
	int			 started;
	pthread_t		 keeper;
	bool			 keeper_started;
};

struct vh_jobs *
vh_jobs_new(const struct vh_config *cfg, struct vh_blobstore *blobs)
{
	struct vh_jobs	*jobs;
	unsigned char	 nonce[4] = { 0 };
	char		 host[64];

	jobs = vh_xcalloc(1, sizeof *jobs);
	jobs->db_url = vh_xstrdup(cfg->database_url);
	jobs->db_timeout = cfg->db_timeout;
	jobs->nrunners = (int)cfg->media_runners;
	jobs->max_attempts = (int)cfg->job_max_attempts;
	jobs->retry_ms = cfg->job_retry_delay;
	jobs->lease_ms = cfg->job_lease;
	jobs->poll_ms = cfg->job_poll_interval;
	jobs->blobs = blobs;
	jobs->stop_pipe[0] = jobs->stop_pipe[1] = -1;
	atomic_init(&jobs->stopping, false);
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	/* The nonce tells a restarted process from its dead predecessor
	 * that happened to have the same pid. */
	if (RAND_bytes(nonce, sizeof nonce) != 1)
		vh_log_warnx("jobs: no random nonce for the lock id");
	snprintf(jobs->prefix, sizeof jobs->prefix, "%s:%ld:%02x%02x%02x%02x",
	    host, (long)getpid(), nonce[0], nonce[1], nonce[2], nonce[3]);
	return (jobs);
}

int
vh_jobs_count(const struct vh_jobs *jobs)
{
	return (jobs->started);
}

/* Sleeps up to ms, or until stop; with db, also until a notification. */
static void
wait_for(struct vh_jobs *jobs, PGconn *db, int64_t ms)
{
	struct pollfd	 pfd[2];
	nfds_t		 n = 1;
	PGnotify	*nt;

	pfd[0].fd = jobs->stop_pipe[0];
	pfd[0].events = POLLIN;
	if (db != NULL && PQsocket(db) >= 0) {
		pfd[1].fd = PQsocket(db);
		pfd[1].events = POLLIN;
		n = 2;
	}
	if (poll(pfd, n, (int)ms) == -1 && errno != EINTR)
		vh_log_warn("jobs: poll");
	if (db != NULL && n == 2 && (pfd[1].revents & (POLLIN | POLLHUP))) {
		PQconsumeInput(db);
		while ((nt = PQnotifies(db)) != NULL)
			PQfreemem(nt);
	}
}

static PGconn *
connect_listening(struct runner *r)
{
	PGconn		*db;
	char		*err = NULL;

	if ((db = vh_db_connect(r->jobs->db_url, r->jobs->db_timeout,
	    &err)) == NULL) {
		vh_log_warnx("%s: database: %s", r->lock_id, err);
		free(err);
		return (NULL);
	}
	if (vh_jobq_listen(db, &err) != 0) {
		vh_log_warnx("%s: LISTEN: %s", r->lock_id, err);
		free(err);
		PQfinish(db);
		return (NULL);
	}
	return (db);
}

/*
 * Gives a job back after a failed attempt: queued again after a doubling
 * delay, or failed for good once it has had its attempts.
 */
static void
give_back(struct runner *r, int64_t job_id, const char *why)
{
	char	*err = NULL;
	bool	 failed = false;
	int	 attempts = 0, rc;

	rc = vh_jobq_give_back(r->db, job_id, r->lock_id,
	    r->jobs->max_attempts, r->jobs->retry_ms, why, &failed, &attempts,
	    &err);
	if (rc == VH_ECONFLICT)
		vh_log_warnx("%s: job %" PRId64 ": lease lost before giving it "
		    "back", r->lock_id, job_id);
	else if (rc != 0)
		vh_log_warnx("%s: job %" PRId64 ": %s", r->lock_id, job_id, err);
	else
		vh_log_warnx("%s: job %" PRId64 " attempt %d: %s; %s",
		    r->lock_id, job_id, attempts, why, failed ?
		    "failed for good" : "will retry");
	free(err);
}

/* Milliseconds until the next retry or lapsing lease, capped at the poll
 * interval, and never so short that a locked due job makes us spin. */
static int64_t
next_wait(struct runner *r)
{
	int64_t	 ms = r->jobs->poll_ms, due;

	if ((due = vh_jobq_next_due_ms(r->db)) >= 0) {
		due += 10;
		if (due < ms)
			ms = due < MIN_WAIT_MS ? MIN_WAIT_MS : due;
	}
	return (ms);
}

static const struct vh_job_kind *
kind_of(const char *name)
{
	for (const struct vh_job_kind *k = vh_job_kinds; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return (k);
	return (NULL);
}

static void
run_one(struct runner *r, const struct vh_jobq_job *job)
{
	const struct vh_job_kind *kind;
	struct vh_job_run	 jr = { 0 };
	struct timespec		 t0, t1;
	char			*err = NULL, why[128];
	int			 rc;

	if (job->attempts > r->jobs->max_attempts) {
		/* Every earlier attempt died with its runner. */
		snprintf(why, sizeof why, "the runner stopped or lost its "
		    "lease %d times", job->attempts - 1);
		give_back(r, job->id, why);
		return;
	}
	if ((kind = kind_of(job->kind)) == NULL) {
		snprintf(why, sizeof why, "no runner here does '%s' jobs",
		    job->kind);
		give_back(r, job->id, why);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vh_log_info("%s: job %" PRId64 " (media %" PRId64 ") attempt %d: %s",
	    r->lock_id, job->id, job->media_id, job->attempts, job->kind);
	jr.db = r->db;
	jr.magic = r->magic;
	jr.blobs = r->jobs->blobs;
	jr.job_id = job->id;
	jr.media_id = job->media_id;
	jr.payload = job->payload;
	jr.lock_id = r->lock_id;
	rc = kind->run(&jr, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vh_metrics_add(VH_METRIC_RUNNER_BUSY_US, (uint64_t)((t1.tv_sec -
	    t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));
	if (rc == 0)
		vh_log_info("%s: job %" PRId64 " (media %" PRId64 ") done in "
		    "%.2f s: %s", r->lock_id, job->id, job->media_id,
		    (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, jr.outcome);
	else if (rc == VH_ECONFLICT)
		vh_log_warnx("%s: job %" PRId64 ": lease lost; another runner "
		    "has it, result dropped", r->lock_id, job->id);
	else
		give_back(r, job->id, err != NULL ? err : vh_strerror(rc));
	free(err);
}

static void *
runner_main(void *arg)
{
	struct runner	*r = arg;
	struct vh_jobs	*jobs = r->jobs;
	struct vh_jobq_job job;
	char		*err = NULL;
	int		 rc;

	while (!atomic_load(&jobs->stopping)) {
		if (r->db == NULL && (r->db = connect_listening(r)) == NULL) {
			wait_for(jobs, NULL, RECONNECT_MS);
			continue;
		}
		if ((rc = vh_jobq_claim(r->db, r->lock_id, jobs->lease_ms, &job,
		    &err)) == 1) {
			run_one(r, &job);
			vh_jobq_job_clear(&job);
			continue;
		}
		if (rc != 0) {
			vh_log_warnx("%s: claim: %s", r->lock_id, err);
			free(err);
			err = NULL;
		}
		if (rc == 0)
			wait_for(jobs, r->db, next_wait(r));
		if (PQstatus(r->db) != CONNECTION_OK) {
			PQfinish(r->db);
			r->db = NULL;
		}
	}
	PQfinish(r->db);
	r->db = NULL;
	return (NULL);
}

/* Renews the leases of every job this process runs, three times a lease. */
static void *
keeper_main(void *arg)
{
	struct vh_jobs	*jobs = arg;
	PGconn		*db = NULL;
	char		*err = NULL;

	while (!atomic_load(&jobs->stopping)) {
		if (db == NULL && (db = vh_db_connect(jobs->db_url,
		    jobs->db_timeout, &err)) == NULL) {
			vh_log_warnx("jobs: lease keeper: %s", err);
			free(err);
			err = NULL;
		} else if (vh_jobq_renew(db, jobs->prefix, jobs->lease_ms,
		    &err) != 0) {
			vh_log_warnx("jobs: renewing leases: %s", err);
			free(err);
			err = NULL;
			if (PQstatus(db) != CONNECTION_OK) {
				PQfinish(db);
				db = NULL;
			}
		}
		wait_for(jobs, NULL, jobs->lease_ms / 3);
	}
	PQfinish(db);
	return (NULL);
}

int
vh_jobs_start(struct vh_jobs *jobs, char **err)
{
	struct runner	*r;
	int		 rc;

	if (jobs->nrunners == 0)
		return (0);
	if (pipe2(jobs->stop_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		*err = vh_xasprintf("jobs: pipe: %s", strerror(errno));
		return (VH_EIO);
	}
	if ((rc = vh_blobstore_sweep_spool(jobs->blobs, "job",
	    SPOOL_MAX_AGE_S)) > 0)
		vh_log_info("jobs: removed %d stale job files", rc);
	jobs->runners = vh_xcalloc((size_t)jobs->nrunners, sizeof *jobs->runners);
	for (int i = 0; i < jobs->nrunners; i++) {
		r = &jobs->runners[i];
		r->jobs = jobs;
		r->index = i;
		snprintf(r->lock_id, sizeof r->lock_id, "%s/%d", jobs->prefix, i);
		if ((r->magic = vh_classify_magic_open(err)) == NULL)
			return (VH_EIO);
		if ((rc = pthread_create(&r->thread, NULL, runner_main, r)) != 0) {
			magic_close(r->magic);
			r->magic = NULL;
			*err = vh_xasprintf("jobs: thread: %s", strerror(rc));
			return (VH_EIO);
		}
		jobs->started++;
	}
	if ((rc = pthread_create(&jobs->keeper, NULL, keeper_main, jobs)) != 0) {
		*err = vh_xasprintf("jobs: thread: %s", strerror(rc));
		return (VH_EIO);
	}
	jobs->keeper_started = true;
	vh_log_info("jobs: %d media runners as %s", jobs->started, jobs->prefix);
	return (0);
}

void
vh_jobs_stop(struct vh_jobs *jobs)
{
	if (jobs == NULL || atomic_exchange(&jobs->stopping, true))
		return;
	/* Never read: the pipe stays readable and wakes every poll. */
	if (jobs->stop_pipe[1] != -1 && write(jobs->stop_pipe[1], "", 1) == -1)
		vh_log_warn("jobs: stop");
}

void
vh_jobs_free(struct vh_jobs *jobs)
{
	if (jobs == NULL)
		return;
	vh_jobs_stop(jobs);
	if (jobs->started > 0)
		vh_log_info("jobs: waiting for the runners' current jobs");
	for (int i = 0; i < jobs->started; i++) {
		pthread_join(jobs->runners[i].thread, NULL);
	}
	for (int i = 0; jobs->runners != NULL && i < jobs->nrunners; i++)
		if (jobs->runners[i].magic != NULL)
			magic_close(jobs->runners[i].magic);
	if (jobs->keeper_started)
		pthread_join(jobs->keeper, NULL);
	if (jobs->stop_pipe[0] != -1) {
		close(jobs->stop_pipe[0]);
		close(jobs->stop_pipe[1]);
	}
	free(jobs->runners);
	free(jobs->db_url);
	free(jobs);
}
