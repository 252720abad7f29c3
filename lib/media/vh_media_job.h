#ifndef VH_MEDIA_JOB_H
#define VH_MEDIA_JOB_H
/*
 * One media job: classify the stored original, then transcode audio,
 * strip and scale photos, or take a note's text, and record the result
 * together with the job's completion.
 */
#include "vh_job_kind.h"

/*
 * The "media" kind's handler (vh_job_kind.h). Returns 0 when the media
 * row was recorded as ready or rejected in the same transaction that completed the job;
 * VH_ECONFLICT when the lease was lost (nothing recorded); another code
 * with *err set (caller frees) for a failure worth retrying (database,
 * blob store). A file that cannot be used is a reject, not an error.
 */
int	vh_media_job_run(struct vh_job_run *, char **err)
	    __attribute__((warn_unused_result));

/* The "media" operation in the verhaal-media helper: classifies the file
 * and processes audio or a photo; c->state is its magic_t, and libvips
 * is initialised. */
struct vh_sandbox_call;
int	vh_media_job_child(struct vh_sandbox_call *c);

#endif
