/*
 * Audio redaction. The original is copied to a spool file (the sandboxed
 * decoder inherits no descriptors, and the store's layout is its own),
 * decoded once more by the audio pipeline with mute ranges, and the three derived
 * files go into the blob store before one transaction swaps the media
 * row's hashes, conditional on the old ones so a concurrent change is not
 * overwritten. The unredacted renditions must not outlive the swap: their
 * blob rows go in the same transaction and their files right after it,
 * unless another row still names them.
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
#include "vh_log.h"
#include "vh_redact.h"
#include "vh_redact_audio.h"
#include "vh_xmalloc.h"

#define NOUT 3		/* opus, m4a, peaks */


/* Encodes into tmp[], stores them; hex[] gets their names. */
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
		tmp[i] = vh_blobstore_spool_path(bs, "redact");
	if (vh_blobstore_copy_out(bs, orig, tmp[NOUT], err) != 0)
		return (503);
	vh_audio_limits_default(&l);
	l.mute = r;
	l.nmute = n;
	rc = vh_audio_transcode_sandboxed(tmp[NOUT], tmp[0], tmp[1], tmp[2], &l,
	    NULL, &res, &why);
	if (rc != 0) {
		*err = vh_xasprintf("re-encoding failed: %s", why != NULL ? why :
		    vh_strerror(rc));
		free(why);
		return (503);
	}
	for (int i = 0; i < NOUT; i++) {
		size[i] = stat(tmp[i], &st) == 0 ? st.st_size : 0;
		if ((rc = vh_blobstore_put_file(bs, tmp[i], hex[i])) != 0) {
			*err = vh_xasprintf("storing a rendition: %s",
			    vh_strerror(rc));
			return (503);
		}
	}
	return (0);
}

/* Swaps the hashes and drops the old blobs' rows; *old_gone[i] says
 * whose file to remove. */
static int
swap(PGconn *db, const char *media, const char *entry_id, char old[NOUT][65],
    char hex[NOUT][65], int64_t size[NOUT], const struct vh_principal *who,
    const char *spans, bool old_gone[NOUT], char **err)
{
	char		 sz[24], account[24];
	const char	*p[9];
	PGresult	*r;

	if ((r = vh_db_exec(db, "BEGIN", 0, NULL, err)) == NULL)
		return (503);
	PQclear(r);
	for (int i = 0; i < NOUT; i++) {
		snprintf(sz, sizeof sz, "%" PRId64, size[i]);
		p[0] = hex[i];
		p[1] = sz;
		if ((r = vh_db_exec(db, "INSERT INTO blob (sha256, size) VALUES"
		    " ($1, $2) ON CONFLICT (sha256) DO NOTHING", 2, p,
		    err)) == NULL)
			goto fail;
		PQclear(r);
	}
	snprintf(account, sizeof account, "%" PRId64, who->account_id);
	p[0] = media;
	p[1] = hex[0];
	p[2] = hex[1];
	p[3] = hex[2];
	p[4] = old[0];
	p[5] = entry_id;
	p[6] = who->account_id != 0 ? account : NULL;
	p[7] = who->name;
	p[8] = spans;
	if ((r = vh_db_exec(db, "WITH u AS (UPDATE media SET opus_sha256 = $2,"
	    " m4a_sha256 = $3, peaks_sha256 = $4 WHERE id = $1 AND"
	    " opus_sha256 = $5 RETURNING id)"
	    " INSERT INTO redaction (entry_id, media_id, account_id, actor,"
	    " kind, spans) SELECT $6, id, $7, $8, 'audio', $9::jsonb FROM u",
	    9, p, err)) == NULL)
		goto fail;
	if (strcmp(PQcmdTuples(r), "1") != 0) {
		PQclear(r);
		PQclear(PQexec(db, "ROLLBACK"));
		*err = vh_xasprintf("media %s changed meanwhile; try again", media);
		return (409);
	}
	PQclear(r);
	for (int i = 0; i < NOUT; i++) {
		p[0] = old[i];
		old_gone[i] = false;
		if (old[i][0] == '\0' || strcmp(old[i], hex[i]) == 0)
			continue;
		if ((r = vh_db_exec(db, "DELETE FROM blob WHERE sha256 = $1 AND"
		    " NOT vh_blob_in_use($1)", 1, p, err)) == NULL)
			goto fail;
		old_gone[i] = strcmp(PQcmdTuples(r), "1") == 0;
		PQclear(r);
	}
	if ((r = vh_db_exec(db, "COMMIT", 0, NULL, err)) == NULL)
		return (503);
	PQclear(r);
	return (0);
fail:
	PQclear(PQexec(db, "ROLLBACK"));
	return (503);
}

int
vh_redact_audio(PGconn *db, struct vh_blobstore *bs, const char *entry_id,
    const json_t *media, const json_t *mute, const struct vh_principal *who,
    json_t **done, char **err)
{
	struct vh_audio_range	*ranges = NULL;
	size_t			 n = 0;
	char			 id[24], orig[65], old[NOUT][65], hex[NOUT][65];
	char			*tmp[NOUT + 1] = { NULL }, *spans = NULL;
	int64_t			 size[NOUT];
	bool			 gone[NOUT] = { false };
	const char		*p[2] = { id, entry_id };
	json_t			*log = NULL;
	PGresult		*r;
	int			 status = 0;

	*done = NULL;
	if (!json_is_integer(media) || json_integer_value(media) <= 0) {
		*err = vh_xstrdup("each audio item needs 'media': the media id");
		return (422);
	}
	if (vh_redact_ranges_parse(mute, &ranges, &n, err) != 0)
		return (422);
	snprintf(id, sizeof id, "%" JSON_INTEGER_FORMAT, json_integer_value(media));
	r = PQexecParams(db, "SELECT blob_sha256, coalesce(family, ''), status,"
	    " coalesce(opus_sha256, ''), coalesce(m4a_sha256, ''),"
	    " coalesce(peaks_sha256, '') FROM media WHERE id = $1 AND"
	    " entry_id = $2", 2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		status = strcmp(vh_db_sqlstate(r), "42703") == 0 ? 501 : 503;
		*err = status == 501 ? vh_xstrdup("this schema has no audio "
		    "renditions to redact (the media pipeline's migration is "
		    "missing)") : vh_xstrdup(PQerrorMessage(db));
		PQclear(r);
		goto out;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		*err = vh_xasprintf("entry %s has no media %s", entry_id, id);
		status = 404;
		goto out;
	}
	if (strcmp(PQgetvalue(r, 0, 1), "audio") != 0 ||
	    strcmp(PQgetvalue(r, 0, 2), "ready") != 0 ||
	    PQgetvalue(r, 0, 3)[0] == '\0') {
		*err = vh_xasprintf("media %s is not a processed recording "
		    "(family '%s', status '%s')", id, PQgetvalue(r, 0, 1),
		    PQgetvalue(r, 0, 2));
		PQclear(r);
		status = 409;
		goto out;
	}
	snprintf(orig, sizeof orig, "%s", PQgetvalue(r, 0, 0));
	for (int i = 0; i < NOUT; i++)
		snprintf(old[i], sizeof old[i], "%s", PQgetvalue(r, 0, 3 + i));
	PQclear(r);
	if ((status = encode(bs, orig, ranges, n, tmp, hex, size, err)) != 0)
		goto out;
	log = json_pack("{s:I, s:O}", "media", json_integer_value(media),
	    "mute", mute);
	spans = json_dumps(log, JSON_COMPACT);
	if ((status = swap(db, id, entry_id, old, hex, size, who, spans, gone,
	    err)) != 0) {
		/* The new renditions stay only if some row took them. */
		for (int i = 0; i < NOUT; i++) {
			const char *q[1] = { hex[i] };

			if ((r = vh_db_exec(db, "SELECT 1 FROM blob WHERE"
			    " sha256 = $1", 1, q, NULL)) != NULL &&
			    PQntuples(r) == 0 && vh_blobstore_delete(bs, hex[i]) != 0)
				vh_log_warnx("redact: orphan blob %s", hex[i]);
			PQclear(r);
		}
		goto out;
	}
	for (int i = 0; i < NOUT; i++)
		if (gone[i] && vh_blobstore_delete(bs, old[i]) != 0)
			vh_log_warnx("redact: could not remove old rendition %s",
			    old[i]);
	*done = json_pack("{s:I, s:O, s:s, s:s, s:s}", "media",
	    json_integer_value(media), "mute", mute, "opus", hex[0], "m4a",
	    hex[1], "peaks", hex[2]);
out:
	for (int i = 0; i <= NOUT; i++) {
		if (tmp[i] != NULL)
			unlink(tmp[i]);
		free(tmp[i]);
	}
	json_decref(log);
	free(spans);
	free(ranges);
	return (status);
}
