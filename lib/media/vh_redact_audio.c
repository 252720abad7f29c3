/*
 * Audio redaction, in two halves. The request's worker checks the
 * recording and queues a "redact" job (vh_redact_audio_queue); a media
 * runner does the work (vh_redact_audio_job), so minutes of re-encoding
 * never hold up the pool that checks every credential. The original is
 * copied to a spool file (the sandboxed decoder inherits no descriptors,
 * and the store's layout is its own), decoded once more by the audio
 * pipeline with mute ranges, and the three derived files go into the
 * blob store before one transaction completes the job and swaps the
 * media row's hashes, conditional on the old ones so a concurrent change
 * is not overwritten. The unredacted renditions must not outlive the
 * swap: their blob rows go in the same transaction and their files right
 * after it, unless another row still names them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vh_audio.h"
#include "vh_blobstore.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_jobq.h"
#include "vh_log.h"
#include "vh_redact.h"
#include "vh_redact_audio.h"
#include "vh_xmalloc.h"

#define NOUT 3		/* opus, m4a, peaks */


/* Encodes into tmp[], stores them; hex[] gets their names. The spool
 * files are "job" files, which the litter sweep leaves to running jobs. */
static int
encode(struct vh_blobstore *bs, const char *orig,
    const struct vh_audio_range *r, size_t n, char *tmp[NOUT + 1],
    char hex[NOUT][65], int64_t size[NOUT], char **err)
{
	struct vh_audio_limits	 l;
	struct vh_audio_result	 res;
	struct stat		 st;
	char			*why = NULL;
	int			 rc;

	for (int i = 0; i <= NOUT; i++)
		tmp[i] = vh_blobstore_spool_path(bs, "job");
	if ((rc = vh_blobstore_copy_out(bs, orig, tmp[NOUT], err)) != 0)
		return (rc);
	vh_audio_limits_default(&l);
	l.mute = r;
	l.nmute = n;
	rc = vh_audio_transcode_sandboxed(tmp[NOUT], tmp[0], tmp[1], tmp[2], &l,
	    NULL, &res, &why);
	if (rc != 0) {
		*err = vh_xasprintf("re-encoding failed: %s", why != NULL ? why :
		    vh_strerror(rc));
		free(why);
		return (rc);
	}
	for (int i = 0; i < NOUT; i++) {
		size[i] = stat(tmp[i], &st) == 0 ? st.st_size : 0;
		if ((rc = vh_blobstore_put_file(bs, tmp[i], hex[i])) != 0) {
			*err = vh_xasprintf("storing a rendition: %s",
			    vh_strerror(rc));
			return (rc);
		}
	}
	return (0);
}

/* What a redaction job was asked to do. */
struct order {
	char		 media[24], entry[24];
	int64_t		 account;	/* 0: none */
	const char	*actor;
	json_t		*mute;		/* borrowed from the payload */
};

/*
 * In one transaction: completes the job with result, swaps the hashes,
 * records the redaction and drops the old blobs' rows; *old_gone[i] says
 * whose file to remove. VH_EAGAIN when the recording changed meanwhile
 * (the job is retried against the new state).
 */
static int
swap(struct vh_job_run *jr, const struct order *o, char old[NOUT][65],
    char hex[NOUT][65], int64_t size[NOUT], const char *spans,
    const char *result, bool old_gone[NOUT], char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;
	int			 rc = VH_EDB;

	if (vh_db_begin(jr->db, err) != 0)
		return (VH_EDB);
	if ((rc = vh_jobq_complete(jr->db, jr->job_id, jr->lock_id, result,
	    err)) != 0)
		goto fail;
	rc = VH_EDB;
	for (int i = 0; i < NOUT; i++) {
		vh_db_params_init(&p);
		vh_db_params_str(&p, hex[i]);
		vh_db_params_int(&p, size[i]);
		if ((r = vh_db_exec(jr->db, "INSERT INTO blob (sha256, size)"
		    " VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING", p.n,
		    p.v, err)) == NULL)
			goto fail;
		PQclear(r);
	}
	vh_db_params_init(&p);
	vh_db_params_str(&p, o->media);
	vh_db_params_str(&p, hex[0]);
	vh_db_params_str(&p, hex[1]);
	vh_db_params_str(&p, hex[2]);
	vh_db_params_str(&p, old[0]);
	vh_db_params_str(&p, o->entry);
	if (o->account != 0)
		vh_db_params_int(&p, o->account);
	else
		vh_db_params_str(&p, NULL);
	vh_db_params_str(&p, o->actor);
	vh_db_params_str(&p, spans);
	if ((r = vh_db_exec(jr->db, "WITH u AS (UPDATE media SET"
	    " opus_sha256 = $2, m4a_sha256 = $3, peaks_sha256 = $4"
	    " WHERE id = $1 AND opus_sha256 = $5 RETURNING id)"
	    " INSERT INTO redaction (entry_id, media_id, account_id, actor,"
	    " kind, spans) SELECT $6, id, $7, $8, 'audio', $9::jsonb FROM u",
	    p.n, p.v, err)) == NULL)
		goto fail;
	if (strcmp(PQcmdTuples(r), "1") != 0) {
		PQclear(r);
		*err = vh_xasprintf("media %s changed meanwhile", o->media);
		rc = VH_EAGAIN;
		goto fail;
	}
	PQclear(r);
	for (int i = 0; i < NOUT; i++) {
		const char *q[1] = { old[i] };

		old_gone[i] = false;
		if (old[i][0] == '\0' || strcmp(old[i], hex[i]) == 0)
			continue;
		if ((r = vh_db_exec(jr->db, "DELETE FROM blob WHERE sha256 = $1"
		    " AND NOT vh_blob_in_use($1)", 1, q, err)) == NULL)
			goto fail;
		old_gone[i] = strcmp(PQcmdTuples(r), "1") == 0;
		PQclear(r);
	}
	return (vh_db_commit(jr->db, err));
fail:
	vh_db_rollback(jr->db);
	return (rc);
}

/*
 * The media row of o: orig gets its original, old[] its renditions.
 * VH_ENOENT when it is gone or no longer a processed recording.
 */
static int
load(PGconn *db, const struct order *o, char orig[65], char old[NOUT][65],
    char **err)
{
	const char	*p[2] = { o->media, o->entry };
	PGresult	*r;
	int		 rc = 0;

	if ((r = vh_db_exec(db, "SELECT blob_sha256, coalesce(opus_sha256, ''),"
	    " coalesce(m4a_sha256, ''), coalesce(peaks_sha256, '')"
	    " FROM media WHERE id = $1 AND entry_id = $2 AND family = 'audio'"
	    " AND status = 'ready' AND opus_sha256 IS NOT NULL", 2, p,
	    err)) == NULL)
		return (VH_EDB);
	if (PQntuples(r) != 1)
		rc = VH_ENOENT;
	else {
		snprintf(orig, 65, "%s", PQgetvalue(r, 0, 0));
		for (int i = 0; i < NOUT; i++)
			snprintf(old[i], 65, "%s", PQgetvalue(r, 0, 1 + i));
	}
	PQclear(r);
	return (rc);
}

/*
 * Appends the ranges earlier redactions muted in this recording: each
 * job re-encodes from the original, so without them a second redaction
 * would bring back what the first one muted.
 */
static int
earlier(PGconn *db, const char *media, struct vh_audio_range **ranges,
    size_t *n, char **err)
{
	const char	*p[1] = { media };
	PGresult	*r;
	int		 k;

	if ((r = vh_db_exec(db, "SELECT (m->>0)::bigint, (m->>1)::bigint FROM"
	    " redaction x, jsonb_array_elements(x.spans->'mute') m WHERE"
	    " x.media_id = $1 AND x.kind = 'audio' ORDER BY 1", 1, p,
	    err)) == NULL)
		return (VH_EDB);
	if ((k = PQntuples(r)) > 0) {
		*ranges = vh_xreallocarray(*ranges, *n + k, sizeof **ranges);
		for (int i = 0; i < k; i++) {
			(*ranges)[*n].start_ms = strtoll(PQgetvalue(r, i, 0),
			    NULL, 10);
			(*ranges)[*n].end_ms = strtoll(PQgetvalue(r, i, 1),
			    NULL, 10);
			(*n)++;
		}
	}
	PQclear(r);
	return (0);
}

int
vh_redact_audio_job(struct vh_job_run *jr, char **err)
{
	struct vh_audio_range	*ranges = NULL;
	struct order		 o;
	size_t			 n = 0;
	char			 orig[65], old[NOUT][65], hex[NOUT][65];
	char			*tmp[NOUT + 1] = { NULL }, *spans = NULL;
	char			*result = NULL;
	int64_t			 size[NOUT];
	bool			 gone[NOUT] = { false };
	json_t			*pl = NULL, *log = NULL, *res = NULL;
	int			 rc;

	memset(&o, 0, sizeof o);
	if (jr->payload == NULL || (pl = json_loads(jr->payload, 0,
	    NULL)) == NULL || !json_is_integer(json_object_get(pl, "entry"))) {
		*err = vh_xstrdup("the redaction job has no valid payload");
		rc = VH_EINVAL;
		goto out;
	}
	snprintf(o.media, sizeof o.media, "%" PRId64, jr->media_id);
	snprintf(o.entry, sizeof o.entry, "%" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(pl, "entry")));
	o.account = json_integer_value(json_object_get(pl, "account"));
	o.actor = json_string_value(json_object_get(pl, "actor"));
	o.mute = json_object_get(pl, "mute");
	if ((rc = vh_redact_ranges_parse(o.mute, &ranges, &n, err)) != 0)
		goto out;
	if ((rc = load(jr->db, &o, orig, old, err)) == VH_ENOENT) {
		/* Withdrawn or rejected meanwhile: nothing left to mute. */
		snprintf(jr->outcome, sizeof jr->outcome, "media gone");
		rc = vh_jobq_complete(jr->db, jr->job_id, jr->lock_id,
		    "{\"done\": false, \"why\": \"the recording is gone\"}",
		    err);
		goto out;
	}
	if (rc != 0 || (rc = earlier(jr->db, o.media, &ranges, &n, err)) != 0)
		goto out;
	if ((rc = encode(jr->blobs, orig, ranges, n, tmp, hex, size,
	    err)) != 0)
		goto out;
	log = json_pack("{s:I, s:O}", "media", (json_int_t)jr->media_id,
	    "mute", o.mute);
	spans = json_dumps(log, JSON_COMPACT);
	res = json_pack("{s:b, s:I, s:O, s:s, s:s, s:s}", "done", 1, "media",
	    (json_int_t)jr->media_id, "mute", o.mute, "opus", hex[0], "m4a",
	    hex[1], "peaks", hex[2]);
	result = json_dumps(res, JSON_COMPACT);
	if ((rc = swap(jr, &o, old, hex, size, spans, result, gone,
	    err)) != 0) {
		/* The new renditions stay only if some row took them. */
		for (int i = 0; i < NOUT; i++) {
			const char	*q[1] = { hex[i] };
			PGresult	*r;

			if ((r = vh_db_exec(jr->db, "SELECT 1 FROM blob WHERE"
			    " sha256 = $1", 1, q, NULL)) != NULL &&
			    PQntuples(r) == 0 &&
			    vh_blobstore_delete(jr->blobs, hex[i]) != 0)
				vh_log_warnx("redact: orphan blob %s", hex[i]);
			PQclear(r);
		}
		goto out;
	}
	for (int i = 0; i < NOUT; i++)
		if (gone[i] && vh_blobstore_delete(jr->blobs, old[i]) != 0)
			vh_log_warnx("redact: could not remove old rendition %s",
			    old[i]);
	snprintf(jr->outcome, sizeof jr->outcome, "media %s: %zu range%s "
	    "muted", o.media, n, n == 1 ? "" : "s");
out:
	for (int i = 0; i <= NOUT; i++) {
		if (tmp[i] != NULL)
			unlink(tmp[i]);
		free(tmp[i]);
	}
	json_decref(pl);
	json_decref(log);
	json_decref(res);
	free(spans);
	free(result);
	free(ranges);
	return (rc);
}

int
vh_redact_audio_queue(PGconn *db, const char *entry_id, const json_t *media,
    const json_t *mute, const struct vh_principal *who, int64_t *job_id,
    char **err)
{
	struct vh_audio_range	*ranges = NULL;
	size_t			 n = 0;
	char			 id[24], *payload = NULL;
	const char		*p[2] = { id, entry_id };
	json_t			*pl = NULL;
	PGresult		*r;
	int			 rc;

	if (!json_is_integer(media) || json_integer_value(media) <= 0) {
		*err = vh_xstrdup("each audio item needs 'media': the media id");
		return (VH_EINVAL);
	}
	if (vh_redact_ranges_parse(mute, &ranges, &n, err) != 0)
		return (VH_EINVAL);
	free(ranges);
	snprintf(id, sizeof id, "%" JSON_INTEGER_FORMAT, json_integer_value(media));
	r = PQexecParams(db, "SELECT coalesce(family, ''), status,"
	    " coalesce(opus_sha256, '') FROM media WHERE id = $1 AND"
	    " entry_id = $2", 2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = strcmp(vh_db_sqlstate(r), "42703") == 0 ? VH_ENOTSUP :
		    VH_EDB;
		*err = rc == VH_ENOTSUP ? vh_xstrdup("this schema has no audio "
		    "renditions to redact (the media pipeline's migration is "
		    "missing)") : vh_xstrdup(PQerrorMessage(db));
		PQclear(r);
		return (rc);
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		*err = vh_xasprintf("entry %s has no media %s", entry_id, id);
		return (VH_ENOENT);
	}
	if (strcmp(PQgetvalue(r, 0, 0), "audio") != 0 ||
	    strcmp(PQgetvalue(r, 0, 1), "ready") != 0 ||
	    PQgetvalue(r, 0, 2)[0] == '\0') {
		*err = vh_xasprintf("media %s is not a processed recording "
		    "(family '%s', status '%s')", id, PQgetvalue(r, 0, 0),
		    PQgetvalue(r, 0, 1));
		PQclear(r);
		return (VH_ECONFLICT);
	}
	PQclear(r);
	pl = json_pack("{s:s, s:O, s:s}", "entry", entry_id, "mute", mute,
	    "actor", who->name);
	/* The entry id travels as a number. */
	json_object_set_new(pl, "entry", json_integer(strtoll(entry_id, NULL,
	    10)));
	if (who->account_id != 0)
		json_object_set_new(pl, "account",
		    json_integer(who->account_id));
	payload = json_dumps(pl, JSON_COMPACT);
	rc = vh_jobq_enqueue(db, "redact", json_integer_value(media), payload,
	    job_id, err);
	free(payload);
	json_decref(pl);
	return (rc);
}
