#ifndef VH_JOBQ_H
#define VH_JOBQ_H
/*
 * The job queue: the one module that reads and writes PostgreSQL's job
 * table. Producers enqueue inside their own transaction (the NOTIFY is
 * delivered when it commits); runners claim with FOR UPDATE SKIP LOCKED
 * under a lease, renew it, and complete or give the job back, each
 * conditional on still holding the lease. All calls block: worker and
 * runner threads only.
 */
#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

/* The LISTEN/NOTIFY channel that announces new jobs. */
#define VH_JOBQ_CHANNEL "verhaal_jobs"

/* A claimed job. */
struct vh_jobq_job {
	int64_t	 id;
	char	 kind[16];
	int64_t	 media_id;	/* 0: none */
	int	 attempts;	/* this one included */
	char	*payload;	/* JSON text or NULL; vh_jobq_job_clear frees */
};

/*
 * Inside the caller's open transaction: queues a job of kind for media_id
 * with payload (JSON text, NULL-able, copied) and asks for a NOTIFY at
 * commit. *job_id (may be NULL) gets its id. 0, or VH_EDB with *err.
 */
int	vh_jobq_enqueue(PGconn *, const char *kind, int64_t media_id,
	    const char *payload, int64_t *job_id, char **err)
	    __attribute__((warn_unused_result));

/* LISTENs on the channel. 0, or VH_EDB with *err. */
int	vh_jobq_listen(PGconn *, char **err)
	    __attribute__((warn_unused_result));

/*
 * Claims the oldest due job (queued and due, or running with a lapsed
 * lease) for lock_id, leased for lease_ms. 1 with *job (clear it), 0 when
 * there is none, VH_EDB with *err.
 */
int	vh_jobq_claim(PGconn *, const char *lock_id, int64_t lease_ms,
	    struct vh_jobq_job *job, char **err)
	    __attribute__((warn_unused_result));
void	vh_jobq_job_clear(struct vh_jobq_job *);

/* Extends the leases of every job held by "prefix/..." to lease_ms from
 * now. 0, or VH_EDB with *err. */
int	vh_jobq_renew(PGconn *, const char *prefix, int64_t lease_ms,
	    char **err) __attribute__((warn_unused_result));

/*
 * Inside the caller's open transaction: marks job_id done with result
 * (JSON text, NULL-able), provided that lock_id still holds its lease.
 * 0; VH_ECONFLICT when the lease was lost (another runner has the job:
 * the caller rolls back); VH_EDB with *err.
 */
int	vh_jobq_complete(PGconn *, int64_t job_id, const char *lock_id,
	    const char *result, char **err) __attribute__((warn_unused_result));

/*
 * Gives a job back after a failed attempt: queued again after retry_ms
 * doubling per attempt, or failed for good once it has had max_attempts
 * (a media job's media row is then rejected with why). Only while
 * lock_id holds the lease. 0 with *failed and *attempts; VH_ECONFLICT
 * when the lease was lost; VH_EDB with *err.
 */
int	vh_jobq_give_back(PGconn *, int64_t job_id, const char *lock_id,
	    int max_attempts, int64_t retry_ms, const char *why, bool *failed,
	    int *attempts, char **err) __attribute__((warn_unused_result));

/* The claim time (epoch seconds) of the oldest job running under a live
 * lease into *since, INT64_MAX when none runs. 0, or VH_EDB with *err. */
int	vh_jobq_oldest_running(PGconn *, int64_t *since, char **err)
	    __attribute__((warn_unused_result));

/* Milliseconds until the next retry or lapsing lease, or -1 when nothing
 * is due (or the query failed). */
int64_t	vh_jobq_next_due_ms(PGconn *);

/* The statement behind vh_jobq_get, for read routes that answer with its
 * one value ($1: the job id; NULL when there is no such job). */
#define VH_JOBQ_GET_SQL "SELECT (SELECT json_build_object('id', id," \
	" 'kind', kind, 'state', state, 'media', media_id, 'attempts'," \
	" attempts, 'last_error', last_error, 'result', result," \
	" 'created_at', created_at, 'finished_at', finished_at) FROM job" \
	" WHERE id = $1::bigint)::text"

/*
 * One job as JSON text (id, kind, state, media, attempts, last_error,
 * result, created_at, finished_at) into *json (caller frees). 0,
 * VH_ENOENT when there is no such job, VH_EDB with *err.
 */
int	vh_jobq_get(PGconn *, int64_t job_id, char **json, char **err)
	    __attribute__((warn_unused_result));

#endif
