#ifndef VH_JOB_KIND_H
#define VH_JOB_KIND_H
/*
 * What a media runner hands the handler of a job's kind, and the table of
 * kinds. The runner (vh_jobs.c) knows only this table; each kind lives in
 * its own module (vh_media_job.c, vh_redact_audio.c), which completes its
 * job through the job queue (vh_jobq.h) in the transaction that records
 * its result.
 */
#include <stdint.h>

#include <libpq-fe.h>
#include <magic.h>

struct vh_blobstore;

struct vh_job_run {
	PGconn			*db;		/* the runner's; no open tx */
	magic_t			 magic;		/* the runner's */
	struct vh_blobstore	*blobs;
	int64_t			 job_id;
	int64_t			 media_id;	/* 0: none */
	const char		*payload;	/* JSON text or NULL */
	const char		*lock_id;	/* the lease holder's name */
	char			 outcome[160];	/* filled: "ready audio ..." */
};

/*
 * A kind's handler. Blocking (runner thread). Returns 0 when its result
 * was recorded in the same transaction that completed the job (through
 * vh_jobq_complete); VH_ECONFLICT when the lease was lost (nothing
 * recorded); another code with *err set (caller frees) for a failure
 * worth retrying.
 */
struct vh_job_kind {
	const char	*name;		/* job.kind */
	int		(*run)(struct vh_job_run *, char **err);
};

/* The kinds the media layer runs, ending with { NULL, NULL }. */
extern const struct vh_job_kind vh_job_kinds[];

#endif
