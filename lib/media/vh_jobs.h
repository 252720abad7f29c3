#ifndef VH_JOBS_H
#define VH_JOBS_H
/*
 * Media runners: threads that claim jobs from PostgreSQL's job table and
 * run them through the handler of each job's kind. Each runner has its own PGconn and magic_t; none touches the
 * event loop. Several processes (verhaald --jobs-only) may share a table.
 */
#include <stdint.h>

#include "vh_config.h"

struct vh_jobs;
struct vh_blobstore;

/*
 * Runners as cfg says (media_runners, job_*; copied), using blobs
 * (borrowed, must outlive the object). Nothing runs until vh_jobs_start.
 */
struct vh_jobs *vh_jobs_new(const struct vh_config *, struct vh_blobstore *);
/* Starts the threads. 0, or VH_EIO with *err set (caller frees). */
int	vh_jobs_start(struct vh_jobs *, char **err)
	    __attribute__((warn_unused_result));
/* Asks the runners to stop after the job each holds; returns at once. */
void	vh_jobs_stop(struct vh_jobs *);
/* Stops, waits for the runners and frees; NULL is a no-op. */
void	vh_jobs_free(struct vh_jobs *);
/* Runner threads started. */
int	vh_jobs_count(const struct vh_jobs *);

#endif
