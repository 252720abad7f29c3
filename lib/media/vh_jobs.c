/*
 * Media runners. Each runner thread owns a PGconn (LISTENing on
 * VH_JOBS_CHANNEL) and a magic_t, and loops: claim the oldest due job with
 * FOR UPDATE SKIP LOCKED, run it, record the outcome; with nothing to do,
 * sleep in poll(2) on its connection's socket, the stop pipe and a timeout
 * (the poll interval, or sooner when a retry or a lease falls due).
 *
 * A claimed job carries a lease: locked_by names the runner
 * ("host:pid:nonce/N") and lease_until says until when. One keeper thread
 * per process renews the leases of all its runners, so a long transcode
 * keeps its job while a killed process loses its jobs within one lease.
 * A lapsed lease makes the job claimable again; completion and failure
 * are UPDATEs conditional on the lease holder, so a job whose runner lost
 * its lease cannot complete a second time.
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
#include "vh_jobs.h"
#include "vh_log.h"
#include "vh_media_job.h"
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
	PGresult	*res;
	char		*err = NULL;

	if ((db = vh_db_connect(r->jobs->db_url, r->jobs->db_timeout,
	    &err)) == NULL) {
		vh_log_warnx("%s: database: %s", r->lock_id, err);
		free(err);
		return (NULL);
	}
	if ((res = vh_db_exec(db, "LISTEN " VH_JOBS_CHANNEL, 0, NULL,
	    &err)) == NULL) {
		vh_log_warnx("%s: LISTEN: %s", r->lock_id, err);
		free(err);
		PQfinish(db);
		return (NULL);
	}
	PQclear(res);
	return (db);
}

/*
 * Claims the oldest due job: queued and due, or running with a lapsed
 * lease. 1 with *job_id, *media_id and *attempts (this one included),
 * 0 when there is none, VH_EDB on failure.
 */
static int
claim(struct runner *r, int64_t *job_id, int64_t *media_id, int *attempts)
{
	char		 lease[32];
	const char	*params[2] = { r->lock_id, lease };
	PGresult	*res;
	char		*err = NULL;
	int		 rc = 0;

	snprintf(lease, sizeof lease, "%" PRId64, r->jobs->lease_ms);
	res = vh_db_exec(r->db,
	    "UPDATE job j SET state = 'running', attempts = j.attempts + 1,"
	    " locked_by = $1, lease_until = now() + $2::bigint *"
	    " interval '1 millisecond', updated_at = now()"
	    " FROM (SELECT id FROM job WHERE (state = 'queued' AND"
	    " run_after <= now()) OR (state = 'running' AND"
	    " lease_until < now()) ORDER BY run_after, id LIMIT 1"
	    " FOR UPDATE SKIP LOCKED) c"
	    " WHERE j.id = c.id RETURNING j.id, j.media_id, j.attempts",
	    2, params, &err);
	if (res == NULL) {
		vh_log_warnx("%s: claim: %s", r->lock_id, err);
		free(err);
		return (VH_EDB);
	}
	if (PQntuples(res) == 1) {
		*job_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		*media_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		*attempts = atoi(PQgetvalue(res, 0, 2));
		rc = 1;
	}
	PQclear(res);
	return (rc);
}

/*
 * Gives a job back after a failed attempt: queued again after a doubling
 * delay, or failed for good (its media rejected with the reason) once it
 * has had its attempts. Only while this runner holds the lease.
 */
static void
give_back(struct runner *r, int64_t job_id, const char *why)
{
	char		 id[32], max[16], delay[32];
	const char	*params[5] = { id, r->lock_id, max, why, delay };
	PGresult	*res;
	char		*err = NULL;

	snprintf(id, sizeof id, "%" PRId64, job_id);
	snprintf(max, sizeof max, "%d", r->jobs->max_attempts);
	snprintf(delay, sizeof delay, "%" PRId64, r->jobs->retry_ms);
	res = vh_db_exec(r->db,
	    "WITH j AS (UPDATE job SET"
	    " state = CASE WHEN attempts >= $3::int THEN 'failed'"
	    " ELSE 'queued' END,"
	    " run_after = now() + least($5::bigint * 2 ^ (attempts - 1),"
	    " 3600000) * interval '1 millisecond',"
	    " finished_at = CASE WHEN attempts >= $3::int THEN now() END,"
	    " last_error = $4, locked_by = NULL, lease_until = NULL,"
	    " updated_at = now()"
	    " WHERE id = $1::bigint AND locked_by = $2 AND state = 'running'"
	    " RETURNING media_id, state, attempts),"
	    " m AS (UPDATE media SET status = 'rejected', reject_reason ="
	    " 'processing failed after ' || j.attempts || ' attempts: ' || $4"
	    " FROM j WHERE media.id = j.media_id AND j.state = 'failed'"
	    " AND media.status <> 'ready')"
	    " SELECT state, attempts FROM j", 5, params, &err);
	if (res == NULL) {
		vh_log_warnx("%s: job %s: %s", r->lock_id, id, err);
		free(err);
		return;
	}
	if (PQntuples(res) == 1)
		vh_log_warnx("%s: job %s attempt %s: %s; %s", r->lock_id, id,
		    PQgetvalue(res, 0, 1), why,
		    strcmp(PQgetvalue(res, 0, 0), "failed") == 0 ?
		    "failed for good" : "will retry");
	else
		vh_log_warnx("%s: job %s: lease lost before giving it back",
		    r->lock_id, id);
	PQclear(res);
}

int
vh_jobs_complete(PGconn *db, int64_t job_id, const char *lock_id, char **err)
{
	char		 id[32];
	const char	*params[2] = { id, lock_id };
	PGresult	*res;
	int		 rc;

	snprintf(id, sizeof id, "%" PRId64, job_id);
	res = vh_db_exec(db, "UPDATE job SET state = 'done', completions ="
	    " completions + 1, finished_at = now(), updated_at = now(),"
	    " locked_by = NULL, lease_until = NULL, last_error = NULL"
	    " WHERE id = $1::bigint AND locked_by = $2 AND state = 'running'",
	    2, params, err);
	if (res == NULL)
		return (VH_EDB);
	rc = strcmp(PQcmdTuples(res), "1") == 0 ? 0 : VH_ECONFLICT;
	PQclear(res);
	return (rc);
}

/* Milliseconds until the next retry or lapsing lease, capped at the poll
 * interval, and never so short that a locked due job makes us spin. */
static int64_t
next_wait(struct runner *r)
{
	PGresult	*res;
	char		*err = NULL;
	int64_t		 ms = r->jobs->poll_ms;
	double		 due;

	res = vh_db_exec(r->db, "SELECT extract(epoch FROM least("
	    "(SELECT min(run_after) FROM job WHERE state = 'queued'),"
	    "(SELECT min(lease_until) FROM job WHERE state = 'running'))"
	    " - clock_timestamp()) * 1000", 0, NULL, &err);
	if (res == NULL) {
		free(err);
		return (ms);
	}
	if (!PQgetisnull(res, 0, 0)) {
		due = strtod(PQgetvalue(res, 0, 0), NULL) + 10;
		if (due < ms)
			ms = due < MIN_WAIT_MS ? MIN_WAIT_MS : (int64_t)due;
	}
	PQclear(res);
	return (ms);
}

static void
run_one(struct runner *r, int64_t job_id, int64_t media_id, int attempts)
{
	struct vh_media_job	 mj = { 0 };
	struct timespec		 t0, t1;
	char			*err = NULL, why[128];
	int			 rc;

	if (attempts > r->jobs->max_attempts) {
		/* Every earlier attempt died with its runner. */
		snprintf(why, sizeof why, "the runner stopped or lost its "
		    "lease %d times", attempts - 1);
		give_back(r, job_id, why);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vh_log_info("%s: job %" PRId64 " (media %" PRId64 ") attempt %d",
	    r->lock_id, job_id, media_id, attempts);
	mj.db = r->db;
	mj.magic = r->magic;
	mj.blobs = r->jobs->blobs;
	mj.job_id = job_id;
	mj.media_id = media_id;
	mj.lock_id = r->lock_id;
	rc = vh_media_job_run(&mj, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vh_metrics_add(VH_METRIC_RUNNER_BUSY_US, (uint64_t)((t1.tv_sec -
	    t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));
	if (rc == 0)
		vh_log_info("%s: job %" PRId64 " (media %" PRId64 ") done in "
		    "%.2f s: %s", r->lock_id, job_id, media_id,
		    (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, mj.outcome);
	else if (rc == VH_ECONFLICT)
		vh_log_warnx("%s: job %" PRId64 ": lease lost; another runner "
		    "has it, result dropped", r->lock_id, job_id);
	else
		give_back(r, job_id, err != NULL ? err : vh_strerror(rc));
	free(err);
}

static void *
runner_main(void *arg)
{
	struct runner	*r = arg;
	struct vh_jobs	*jobs = r->jobs;
	int64_t		 job_id, media_id;
	int		 attempts, rc;

	while (!atomic_load(&jobs->stopping)) {
		if (r->db == NULL && (r->db = connect_listening(r)) == NULL) {
			wait_for(jobs, NULL, RECONNECT_MS);
			continue;
		}
		if ((rc = claim(r, &job_id, &media_id, &attempts)) == 1) {
			run_one(r, job_id, media_id, attempts);
			continue;
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
	PGresult	*res;
	char		 lease[32];
	const char	*params[2] = { jobs->prefix, lease };
	char		*err = NULL;

	snprintf(lease, sizeof lease, "%" PRId64, jobs->lease_ms);
	while (!atomic_load(&jobs->stopping)) {
		if (db == NULL && (db = vh_db_connect(jobs->db_url,
		    jobs->db_timeout, &err)) == NULL) {
			vh_log_warnx("jobs: lease keeper: %s", err);
			free(err);
			err = NULL;
		} else if ((res = vh_db_exec(db, "UPDATE job SET lease_until ="
		    " now() + $2::bigint * interval '1 millisecond'"
		    " WHERE state = 'running' AND left(locked_by,"
		    " length($1) + 1) = $1 || '/'", 2, params, &err)) == NULL) {
			vh_log_warnx("jobs: renewing leases: %s", err);
			free(err);
			err = NULL;
			if (PQstatus(db) != CONNECTION_OK) {
				PQfinish(db);
				db = NULL;
			}
		} else
			PQclear(res);
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
