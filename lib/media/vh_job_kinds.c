/*
 * The table of job kinds the media runners serve: the one place that
 * names every kind, so the runner includes no job module and no job
 * module includes the runner.
 */
#include <stddef.h>

#include "vh_job_kind.h"
#include "vh_media_job.h"
#include "vh_redact_audio.h"

const struct vh_job_kind vh_job_kinds[] = {
	{ "media",	vh_media_job_run },
	{ "redact",	vh_redact_audio_job },
	{ NULL,		NULL },
};
