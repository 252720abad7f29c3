/*
 * The job queue. A job row moves queued → running (claimed: locked_by
 * names the runner "host:pid:nonce/N", lease_until says until when) →
 * done or, after its attempts, failed; a lapsed lease makes a running job
 * claimable again. Completion and giving back are UPDATEs conditional on
 * the lease holder, so a job whose runner lost its lease cannot complete
 * a second time. Every statement on the job table is here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_db.h"
#include "vh_error.h"
#include "vh_jobq.h"
#include "vh_xmalloc.h"

int
vh_jobq_enqueue(PGconn *db, const char *kind, int64_t media_id,
    const char *payload, int64_t *job_id, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;

	vh_db_params_init(&p);
	vh_db_params_str(&p, kind);
	vh_db_params_int(&p, media_id);
	vh_db_params_str(&p, payload);
	/* The notification rides on the insert (one round trip, not two);
	 * it is delivered at commit, so no runner looks before the row is
	 * there. */
	if ((r = vh_db_exec(db, "WITH j AS (INSERT INTO job (kind, media_id,"
	    " payload) VALUES ($1, nullif($2::bigint, 0), $3::jsonb) RETURNING"
	    " id) SELECT id, pg_notify('" VH_JOBQ_CHANNEL "', '') FROM j",
	    p.n, p.v, err)) == NULL)
		return (VH_EDB);
	if (job_id != NULL)
		*job_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return (0);
}

int
vh_jobq_listen(PGconn *db, char **err)
{
	PGresult	*r;

	if ((r = vh_db_exec(db, "LISTEN " VH_JOBQ_CHANNEL, 0, NULL,
	    err)) == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

int
vh_jobq_claim(PGconn *db, const char *lock_id, int64_t lease_ms,
    struct vh_jobq_job *job, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;
	int			 rc = 0;

	memset(job, 0, sizeof *job);
	vh_db_params_init(&p);
	vh_db_params_str(&p, lock_id);
	vh_db_params_int(&p, lease_ms);
	r = vh_db_exec(db,
	    "UPDATE job j SET state = 'running', attempts = j.attempts + 1,"
	    " locked_by = $1, lease_until = now() + $2::bigint *"
	    " interval '1 millisecond', updated_at = now()"
	    " FROM (SELECT id FROM job WHERE (state = 'queued' AND"
	    " run_after <= now()) OR (state = 'running' AND"
	    " lease_until < now()) ORDER BY run_after, id LIMIT 1"
	    " FOR UPDATE SKIP LOCKED) c"
	    " WHERE j.id = c.id RETURNING j.id, j.kind,"
	    " coalesce(j.media_id, 0), j.attempts, j.payload::text",
	    p.n, p.v, err);
	if (r == NULL)
		return (VH_EDB);
	if (PQntuples(r) == 1) {
		job->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		snprintf(job->kind, sizeof job->kind, "%s", PQgetvalue(r, 0, 1));
		job->media_id = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
		job->attempts = atoi(PQgetvalue(r, 0, 3));
		if (!PQgetisnull(r, 0, 4))
			job->payload = vh_xstrdup(PQgetvalue(r, 0, 4));
		rc = 1;
	}
	PQclear(r);
	return (rc);
}

void
vh_jobq_job_clear(struct vh_jobq_job *job)
{
	free(job->payload);
	memset(job, 0, sizeof *job);
}

int
vh_jobq_renew(PGconn *db, const char *prefix, int64_t lease_ms, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;

	vh_db_params_init(&p);
	vh_db_params_str(&p, prefix);
	vh_db_params_int(&p, lease_ms);
	if ((r = vh_db_exec(db, "UPDATE job SET lease_until ="
	    " now() + $2::bigint * interval '1 millisecond'"
	    " WHERE state = 'running' AND left(locked_by,"
	    " length($1) + 1) = $1 || '/'", p.n, p.v, err)) == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

int
vh_jobq_complete(PGconn *db, int64_t job_id, const char *lock_id,
    const char *result, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;
	int			 rc;

	vh_db_params_init(&p);
	vh_db_params_int(&p, job_id);
	vh_db_params_str(&p, lock_id);
	vh_db_params_str(&p, result);
	if ((r = vh_db_exec(db, "UPDATE job SET state = 'done', completions ="
	    " completions + 1, finished_at = now(), updated_at = now(),"
	    " locked_by = NULL, lease_until = NULL, last_error = NULL,"
	    " result = $3::jsonb"
	    " WHERE id = $1::bigint AND locked_by = $2 AND state = 'running'",
	    p.n, p.v, err)) == NULL)
		return (VH_EDB);
	rc = strcmp(PQcmdTuples(r), "1") == 0 ? 0 : VH_ECONFLICT;
	PQclear(r);
	return (rc);
}

int
vh_jobq_give_back(PGconn *db, int64_t job_id, const char *lock_id,
    int max_attempts, int64_t retry_ms, const char *why, bool *failed,
    int *attempts, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;
	int			 rc = 0;

	vh_db_params_init(&p);
	vh_db_params_int(&p, job_id);
	vh_db_params_str(&p, lock_id);
	vh_db_params_int(&p, max_attempts);
	vh_db_params_str(&p, why);
	vh_db_params_int(&p, retry_ms);
	if ((r = vh_db_exec(db,
	    "WITH j AS (UPDATE job SET"
	    " state = CASE WHEN attempts >= $3::int THEN 'failed'"
	    " ELSE 'queued' END,"
	    " run_after = now() + least($5::bigint * 2 ^ (attempts - 1),"
	    " 3600000) * interval '1 millisecond',"
	    " finished_at = CASE WHEN attempts >= $3::int THEN now() END,"
	    " last_error = $4, locked_by = NULL, lease_until = NULL,"
	    " updated_at = now()"
	    " WHERE id = $1::bigint AND locked_by = $2 AND state = 'running'"
	    " RETURNING kind, media_id, state, attempts),"
	    /* A media file that cannot be processed is rejected; a failed
	     * redaction leaves its recording as it was. */
	    " m AS (UPDATE media SET status = 'rejected', reject_reason ="
	    " 'processing failed after ' || j.attempts || ' attempts: ' || $4"
	    " FROM j WHERE media.id = j.media_id AND j.state = 'failed'"
	    " AND j.kind = 'media' AND media.status <> 'ready')"
	    " SELECT state, attempts FROM j", p.n, p.v, err)) == NULL)
		return (VH_EDB);
	if (PQntuples(r) == 1) {
		*failed = strcmp(PQgetvalue(r, 0, 0), "failed") == 0;
		*attempts = atoi(PQgetvalue(r, 0, 1));
	} else
		rc = VH_ECONFLICT;
	PQclear(r);
	return (rc);
}

int
vh_jobq_oldest_running(PGconn *db, int64_t *since, char **err)
{
	PGresult	*r;

	if ((r = vh_db_exec(db, "SELECT coalesce(extract(epoch FROM"
	    " min(updated_at)), 'Infinity')::float8 FROM job WHERE state ="
	    " 'running' AND lease_until > now()", 0, NULL, err)) == NULL)
		return (VH_EDB);
	*since = strcmp(PQgetvalue(r, 0, 0), "Infinity") == 0 ? INT64_MAX :
	    (int64_t)strtod(PQgetvalue(r, 0, 0), NULL);
	PQclear(r);
	return (0);
}

int64_t
vh_jobq_next_due_ms(PGconn *db)
{
	PGresult	*r;
	int64_t		 ms = -1;

	if ((r = vh_db_exec(db, "SELECT extract(epoch FROM least("
	    "(SELECT min(run_after) FROM job WHERE state = 'queued'),"
	    "(SELECT min(lease_until) FROM job WHERE state = 'running'))"
	    " - clock_timestamp()) * 1000", 0, NULL, NULL)) == NULL)
		return (-1);
	if (!PQgetisnull(r, 0, 0)) {
		ms = (int64_t)strtod(PQgetvalue(r, 0, 0), NULL);
		if (ms < 0)
			ms = 0;
	}
	PQclear(r);
	return (ms);
}

int
vh_jobq_get(PGconn *db, int64_t job_id, char **json, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;
	int			 rc = 0;

	*json = NULL;
	vh_db_params_init(&p);
	vh_db_params_int(&p, job_id);
	if ((r = vh_db_exec(db, VH_JOBQ_GET_SQL, p.n, p.v, err)) == NULL)
		return (VH_EDB);
	if (!PQgetisnull(r, 0, 0))
		*json = vh_xstrdup(PQgetvalue(r, 0, 0));
	else
		rc = VH_ENOENT;
	PQclear(r);
	return (rc);
}
