#ifndef VH_REDACT_AUDIO_H
#define VH_REDACT_AUDIO_H
/*
 * Muting ranges of a recording: the Opus and AAC renditions and the peaks
 * are made again from the sealed original with the ranges silent, and
 * replace the media row's renditions. Blocking: worker threads only.
 */
#include <jansson.h>
#include <libpq-fe.h>

#include "vh_auth.h"

struct vh_blobstore;

/*
 * Re-encodes media (a JSON integer, borrowed) of entry_id with mute (a
 * JSON list of [start_ms, end_ms], borrowed) silent, records the new
 * rendition blobs, logs the redaction for who and removes the old
 * renditions' blobs unless another row uses them. Returns 0 and *done
 * (what was done, caller decrefs), or an HTTP status (422 bad request,
 * 404 no such media in this entry, 409 not a processed recording, 501
 * no rendition columns in this schema, 503 failure) with *err (caller
 * frees).
 */
int	vh_redact_audio(PGconn *, struct vh_blobstore *, const char *entry_id,
	    const json_t *media, const json_t *mute,
	    const struct vh_principal *who, json_t **done, char **err);

#endif
