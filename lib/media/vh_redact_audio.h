#ifndef VH_REDACT_AUDIO_H
#define VH_REDACT_AUDIO_H
/*
 * Muting ranges of a recording: the Opus and AAC renditions and the peaks
 * are made again from the sealed original with the ranges silent, and
 * replace the media row's renditions. The request only queues the work
 * (vh_redact_audio_queue, on a worker); a media runner does it
 * (vh_redact_audio_job, the "redact" job kind), never the request pool.
 */
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "vh_auth.h"
#include "vh_job_kind.h"

/*
 * Inside the caller's open transaction: checks that media (a JSON
 * integer, borrowed) is a processed recording of entry_id and that mute
 * (a JSON list of [start_ms, end_ms], borrowed) is valid, then queues a
 * redaction job for who; *job_id gets its id. 0; VH_EINVAL (bad request),
 * VH_ENOENT (no such media in this entry), VH_ECONFLICT (not a processed
 * recording), VH_ENOTSUP (no rendition columns in this schema) or VH_EDB,
 * each with *err (caller frees). The caller owns the transaction.
 */
int	vh_redact_audio_queue(PGconn *, const char *entry_id,
	    const json_t *media, const json_t *mute,
	    const struct vh_principal *who, int64_t *job_id, char **err)
	    __attribute__((warn_unused_result));

/*
 * The "redact" kind's handler (vh_job_kind.h): re-encodes the job's
 * media with its payload's ranges silent, records the new rendition
 * blobs and the redaction row in the transaction that completes the job
 * (its result names the new blobs), then removes the old renditions'
 * blobs unless another row uses them.
 */
int	vh_redact_audio_job(struct vh_job_run *, char **err)
	    __attribute__((warn_unused_result));

#endif
