/*
 * One media job. The original is copied out of the blob store into a
 * spool file, then classified by its bytes. Every parser of those bytes
 * runs in a confined child (lib/event/vh_sandbox.c) that gets only descriptors
 * of the spool files: libmagic and the container probe, the audio
 * transcode to Opus, AAC and peaks, and the photo decode, strip and
 * thumbnail. A child that crashes, hangs or makes a forbidden system call
 * rejects that file with the reason and nothing else; one that cannot be
 * started fails the job, to be retried. Notes are validated (by our own
 * UTF-8 check) and appended to the entry's text. Derived files go into
 * the blob store first; then one transaction completes the job (only if
 * this runner still holds its lease) and records the media row, so a
 * result is recorded exactly once.
 *
 * A photo's GPS position is looked up against the buurt boundaries and
 * forgotten: only the area code is kept, and only if the entry has none.
 * A rejected original is quarantined after the commit unless another
 * media row that was accepted shares its bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "vh_audio.h"
#include "vh_blobgc.h"
#include "vh_blobstore.h"
#include "vh_classify.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_jobq.h"
#include "vh_log.h"
#include "vh_media_job.h"
#include "vh_metrics.h"
#include "vh_photo.h"
#include "vh_text.h"
#include "vh_xmalloc.h"

#define MAX_NOTE	(1024 * 1024)

enum { D_OPUS, D_M4A, D_PEAKS, D_DISPLAY, D_THUMB, D_MAX };

struct result {
	struct vh_classify_result cls;
	char		*reason;	/* set: rejected */
	char		*tmp[D_MAX];	/* derived files, before the store */
	char		 hash[D_MAX][65];
	int64_t		 size[D_MAX];
	bool		 pinned[D_MAX];	/* held against the blob collector */
	int64_t		 duration_ms;	/* -1: none */
	double		 loudness;
	bool		 has_loudness;
	int		 width, height;
	char		 taken_at[64];	/* canonical, with offset; "" */
	char		 area[16];	/* from GPS; "" */
	char		*text;
};

struct media_row {
	char	 sha256[65];
	char	 entry_id[32];
	char	*filename;
	char	*declared_type;
};

static const char *const ext_audio[] = { "wav", "mp3", "m4a", "mp4", "aac",
    "amr", "3gp", "3gpp", "ogg", "oga", "opus", "webm", "weba", "flac",
    "mka", "spx", NULL };
static const char *const ext_image[] = { "jpg", "jpeg", "png", "webp",
    "heic", "heif", NULL };
static const char *const ext_text[] = { "txt", "md", "markdown", NULL };

static bool
in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcasecmp(*list, s) == 0)
			return (true);
	return (false);
}

/*
 * What the client claimed the file to be, from its declared type or else
 * its name's extension; VH_MEDIA_REJECTED when it claimed nothing usable.
 * A claim never widens what the bytes allow; it only lets a mismatch
 * (a text file named .wav) be refused.
 */
static enum vh_media_family
claimed_family(const struct media_row *m)
{
	const char	*t = m->declared_type, *dot;

	if (strncasecmp(t, "audio/", 6) == 0 || strncasecmp(t, "video/", 6) == 0)
		return (VH_MEDIA_AUDIO);
	if (strncasecmp(t, "image/", 6) == 0)
		return (VH_MEDIA_IMAGE);
	if (strncasecmp(t, "text/", 5) == 0)
		return (VH_MEDIA_TEXT);
	if (strcasecmp(t, "application/pdf") == 0)
		return (VH_MEDIA_PDF);
	if ((dot = strrchr(m->filename, '.')) == NULL)
		return (VH_MEDIA_REJECTED);
	dot++;
	if (in_list(ext_audio, dot))
		return (VH_MEDIA_AUDIO);
	if (in_list(ext_image, dot))
		return (VH_MEDIA_IMAGE);
	if (in_list(ext_text, dot))
		return (VH_MEDIA_TEXT);
	if (strcasecmp(dot, "pdf") == 0)
		return (VH_MEDIA_PDF);
	return (VH_MEDIA_REJECTED);
}

/* Copies blob hex into a new spool file *path (caller unlinks, frees). */
static int
copy_original(struct vh_blobstore *bs, const char *hex, char **path,
    char **err)
{
	*path = vh_blobstore_spool_path(bs, "job");
	return (vh_blobstore_copy_out(bs, hex, *path, err));
}

static void
new_tmp(struct vh_job_run *mj, struct result *res, int which)
{
	res->tmp[which] = vh_blobstore_spool_path(mj->blobs, "job");
}

/* Moves the derived files into the store; their spool files go. */
static int
store_derived(struct vh_job_run *mj, struct result *res, char **err)
{
	struct stat	st;
	int		rc;

	for (int i = 0; i < D_MAX; i++) {
		if (res->tmp[i] == NULL)
			continue;
		if (stat(res->tmp[i], &st) == -1) {
			/* Not written: the step was skipped. */
			continue;
		}
		res->size[i] = st.st_size;
		if ((rc = vh_blobstore_put_file(mj->blobs, res->tmp[i],
		    res->hash[i])) != 0) {
			*err = vh_xasprintf("storing a derived file: %s",
			    vh_strerror(rc));
			return (rc);
		}
		/* Until the media row names it, only the pin keeps the
		 * collector from taking an older identical blob. */
		if ((rc = vh_blobgc_pin(mj->db, mj->blobs, res->hash[i],
		    res->size[i], err)) != 0)
			return (rc);
		res->pinned[i] = true;
	}
	return (0);
}

/* The buurt holding (lat, lon), when boundaries are loaded. */
static void
area_of(PGconn *db, double lat, double lon, char area[16])
{
	char		 x[32], y[32];
	const char	*params[2] = { x, y };
	PGresult	*r;
	char		*err = NULL;

	snprintf(x, sizeof x, "%.7f", lon);
	snprintf(y, sizeof y, "%.7f", lat);
	r = vh_db_exec(db, "SELECT code FROM area WHERE level = 'buurt' AND"
	    " boundary IS NOT NULL AND ST_Contains(boundary,"
	    " ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326))"
	    " ORDER BY code LIMIT 1", 2, params, &err);
	if (r == NULL) {
		vh_log_warnx("area lookup: %s", err);
		free(err);
		return;
	}
	if (PQntuples(r) == 1)
		snprintf(area, 16, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

/* EXIF times without an offset are local time in Utrecht. */
static void
canonical_time(PGconn *db, const char *taken, char out[64])
{
	const char	*params[1] = { taken };
	PGresult	*r;
	char		*err = NULL;

	out[0] = '\0';
	if (*taken == '\0')
		return;
	r = vh_db_exec(db, "SELECT (CASE WHEN $1 ~ '([+-][0-9:]+|Z)$'"
	    " THEN $1::timestamptz ELSE $1::timestamp AT TIME ZONE"
	    " 'Europe/Amsterdam' END)::text", 1, params, &err);
	if (r == NULL) {
		vh_log_debug("capture time '%s' ignored: %s", taken, err);
		free(err);
		return;
	}
	snprintf(out, 64, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

static void
do_text(const char *in, struct result *res)
{
	char	*why = NULL;

	if (vh_text_validate(in, MAX_NOTE, &res->text, &why) != 0) {
		res->reason = vh_xasprintf("text: %s", why != NULL ? why :
		    "not valid UTF-8");
		free(why);
	}
}

static const char *
hash_or_null(const struct result *res, int which)
{
	return (res->hash[which][0] != '\0' ? res->hash[which] : NULL);
}

/* One transaction: complete the job, record the media row and entry. */
static int
record(struct vh_job_run *mj, const struct media_row *m,
    const struct result *res, char **err)
{
	struct vh_db_params	 p;
	char			 loud[32];
	PGresult		*r;
	int			 rc;

	snprintf(loud, sizeof loud, "%.2f", res->loudness);
	if (vh_db_begin(mj->db, err) != 0)
		return (VH_EDB);
	if ((rc = vh_jobq_complete(mj->db, mj->job_id, mj->lock_id, NULL, err)) != 0)
		goto fail;
	rc = VH_EDB;
	for (int i = 0; i < D_MAX; i++) {
		if (res->hash[i][0] == '\0')
			continue;
		vh_db_params_init(&p);
		vh_db_params_str(&p, res->hash[i]);
		vh_db_params_int(&p, res->size[i]);
		if ((r = vh_db_exec(mj->db, "INSERT INTO blob (sha256, size)"
		    " VALUES ($1, $2::bigint) ON CONFLICT DO NOTHING", p.n, p.v,
		    err)) == NULL)
			goto fail;
		PQclear(r);
	}
	vh_db_params_init(&p);
	vh_db_params_int(&p, mj->media_id);
	vh_db_params_str(&p, res->reason != NULL ? "rejected" : "ready");
	vh_db_params_str(&p, res->cls.family != VH_MEDIA_REJECTED ?
	    vh_media_family_name(res->cls.family) : NULL);
	vh_db_params_str(&p, res->cls.mime[0] != '\0' ? res->cls.mime : NULL);
	vh_db_params_str(&p, res->reason);
	if (res->duration_ms >= 0)
		vh_db_params_int(&p, res->duration_ms);
	else
		vh_db_params_str(&p, NULL);
	/* 0 is no width or height: NULL. */
	vh_db_params_id(&p, res->width > 0 ? res->width : 0);
	vh_db_params_id(&p, res->height > 0 ? res->height : 0);
	vh_db_params_str(&p, res->has_loudness ? loud : NULL);
	vh_db_params_str(&p, res->taken_at[0] != '\0' ? res->taken_at : NULL);
	vh_db_params_str(&p, hash_or_null(res, D_OPUS));
	vh_db_params_str(&p, hash_or_null(res, D_M4A));
	vh_db_params_str(&p, hash_or_null(res, D_PEAKS));
	vh_db_params_str(&p, hash_or_null(res, D_DISPLAY));
	vh_db_params_str(&p, hash_or_null(res, D_THUMB));
	if ((r = vh_db_exec(mj->db, "UPDATE media SET status = $2,"
	    " family = $3, detected_type = $4, reject_reason = $5,"
	    " duration_ms = $6::bigint, width = $7::int, height = $8::int,"
	    " loudness_lufs = $9::float8, taken_at = $10::timestamptz,"
	    " opus_sha256 = $11, m4a_sha256 = $12, peaks_sha256 = $13,"
	    " display_sha256 = $14, thumb_sha256 = $15, processed_at = now()"
	    " WHERE id = $1::bigint", p.n, p.v, err)) == NULL)
		goto fail;
	PQclear(r);
	if (res->area[0] != '\0') {
		vh_db_params_init(&p);
		vh_db_params_str(&p, m->entry_id);
		vh_db_params_str(&p, res->area);
		if ((r = vh_db_exec(mj->db, "UPDATE entry SET area_code = $2,"
		    " updated_at = now() WHERE id = $1::bigint AND"
		    " area_code IS NULL", p.n, p.v, err)) == NULL)
			goto fail;
		PQclear(r);
	}
	if (res->text != NULL && res->reason == NULL) {
		vh_db_params_init(&p);
		vh_db_params_str(&p, m->entry_id);
		vh_db_params_str(&p, res->text);
		if ((r = vh_db_exec(mj->db, "UPDATE entry SET body = CASE WHEN"
		    " body = '' THEN $2 ELSE body || E'\\n\\n' || $2 END,"
		    " updated_at = now() WHERE id = $1::bigint", p.n, p.v,
		    err)) == NULL)
			goto fail;
		PQclear(r);
	}
	return (vh_db_commit(mj->db, err));
fail:
	vh_db_rollback(mj->db);
	return (rc);
}

/* After a reject: seal the bytes away unless an accepted row shares them. */
static void
quarantine(struct vh_job_run *mj, const struct media_row *m)
{
	const char	*p[1] = { m->sha256 };
	PGresult	*r;
	char		*err = NULL;
	bool		 shared;
	int		 rc;

	if ((r = vh_db_exec(mj->db, "SELECT EXISTS (SELECT 1 FROM media"
	    " WHERE blob_sha256 = $1 AND status = 'ready')", 1, p,
	    &err)) == NULL) {
		vh_log_warnx("media %" PRId64 ": %s", mj->media_id, err);
		free(err);
		return;
	}
	shared = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (shared)
		return;
	rc = vh_blobgc_quarantine(mj->db, mj->blobs, m->sha256, &err);
	if (rc == VH_ECONFLICT)
		vh_log_info("media %" PRId64 ": %s is being stored again; its "
		    "next media job decides", mj->media_id, m->sha256);
	else if (rc != 0 && rc != VH_ENOENT)
		vh_log_warnx("media %" PRId64 ": quarantine %s: %s",
		    mj->media_id, m->sha256, err != NULL ? err : vh_strerror(rc));
	free(err);
}

/* 0 with *m, VH_ENOENT when the media row is gone, VH_EDB. */
static int
load(struct vh_job_run *mj, struct media_row *m, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;

	vh_db_params_init(&p);
	vh_db_params_int(&p, mj->media_id);
	if ((r = vh_db_exec(mj->db, "UPDATE media SET status = 'processing'"
	    " WHERE id = $1::bigint AND status = 'received'", p.n, p.v,
	    err)) == NULL)
		return (VH_EDB);
	PQclear(r);
	if ((r = vh_db_exec(mj->db, "SELECT blob_sha256, entry_id, filename,"
	    " declared_type FROM media WHERE id = $1::bigint", p.n, p.v,
	    err)) == NULL)
		return (VH_EDB);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return (VH_ENOENT);
	}
	snprintf(m->sha256, sizeof m->sha256, "%s", PQgetvalue(r, 0, 0));
	snprintf(m->entry_id, sizeof m->entry_id, "%s", PQgetvalue(r, 0, 1));
	m->filename = vh_xstrdup(PQgetvalue(r, 0, 2));
	m->declared_type = vh_xstrdup(PQgetvalue(r, 0, 3));
	PQclear(r);
	return (0);
}

/*
 * One confined child per file does all its parsing: it classifies the
 * bytes and, when they are audio or an image and the client did not claim
 * them to be something else, processes them too, which saves starting a
 * second process. The policy (which families, what a claim may say)
 * stays here; the child's answer is checked against it.
 */
struct child_req {
	int32_t			claim;	/* enum vh_media_family; 0: none */
	struct vh_photo_limits	photo;
	struct vh_audio_limits	audio;	/* without mute ranges */
};

struct child_ans {
	struct vh_classify_result cls;
	int32_t		classify_rc;	/* not 0: no classification, why */
	int32_t		family;		/* what was processed; 0: nothing */
	int32_t		rc;		/* of the processing, with why */
	char		why[VH_SANDBOX_ERRLEN];
	struct vh_audio_result audio;
	struct vh_photo_result photo;
};

/* Classification gets a minute of the child's time; SIGALRM ends it. */
#define CLASSIFY_SECONDS 60

int
vh_media_job_child(struct vh_sandbox_call *c)
{
	const struct child_req	*rq = c->req;
	struct child_ans	*a = c->result;
	struct vh_audio_limits	 al;
	const int		*fd = c->fds;
	char			*err = NULL;

	if (c->req_size != sizeof(*rq) || c->result_size != sizeof(*a) ||
	    c->nfds != 1 + D_MAX)
		return (VH_EINVAL);
	alarm(CLASSIFY_SECONDS);
	a->classify_rc = vh_classify_fd(c->state, fd[0], &a->cls, &err);
	alarm(0);
	if (a->classify_rc != 0 || (rq->claim != VH_MEDIA_REJECTED &&
	    rq->claim != (int32_t)a->cls.family))
		goto out;
	switch (a->cls.family) {
	case VH_MEDIA_AUDIO:
		al = rq->audio;
		al.mute = NULL;
		al.nmute = 0;
		a->family = VH_MEDIA_AUDIO;
		a->rc = vh_audio_transcode_fd(fd[0], fd[1 + D_OPUS],
		    fd[1 + D_M4A], fd[1 + D_PEAKS], &al, &a->audio, &err);
		break;
	case VH_MEDIA_IMAGE:
		a->family = VH_MEDIA_IMAGE;
		a->rc = vh_photo_process_fd(fd[0], fd[1 + D_DISPLAY],
		    fd[1 + D_THUMB], &rq->photo, &a->photo, &err);
		break;
	default:
		break;
	}
out:
	if (err != NULL)
		snprintf(a->why, sizeof(a->why), "%s", err);
	free(err);
	return (0);
}

/* The photo's numbers into res; the position only becomes an area. */
static void
took_image(struct vh_job_run *mj, struct vh_photo_result *pr,
    struct result *res)
{
	pr->taken_at[sizeof(pr->taken_at) - 1] = '\0';
	res->width = pr->width;
	res->height = pr->height;
	canonical_time(mj->db, pr->taken_at, res->taken_at);
	if (pr->has_gps)
		area_of(mj->db, pr->lat, pr->lon, res->area);
	/* The position is not kept anywhere, not even in memory. */
	explicit_bzero(pr, sizeof(*pr));
}

/* Reads the child's answer into res (reason set: rejected). */
static void
answer(struct vh_job_run *mj, const struct media_row *m,
    enum vh_media_family claim, const char *in, struct child_ans *a,
    struct result *res)
{
	a->why[sizeof(a->why) - 1] = '\0';
	if (a->classify_rc != 0) {
		res->reason = vh_xasprintf("unreadable: %s", a->why[0] != '\0' ?
		    a->why : vh_strerror(a->classify_rc));
		return;
	}
	vh_classify_check(&a->cls);
	res->cls = a->cls;
	if (res->cls.family == VH_MEDIA_REJECTED) {
		res->reason = vh_xstrdup(res->cls.reason[0] != '\0' ?
		    res->cls.reason : "not an accepted kind of file");
		return;
	}
	if (claim != VH_MEDIA_REJECTED && claim != res->cls.family) {
		res->reason = vh_xasprintf("sent as %s (%s%s%s) but the "
		    "contents are %s (%s)", vh_media_family_name(claim),
		    m->declared_type, *m->declared_type != '\0' ? ", " : "",
		    m->filename, vh_media_family_name(res->cls.family),
		    res->cls.mime);
		return;
	}
	switch (res->cls.family) {
	case VH_MEDIA_AUDIO:
	case VH_MEDIA_IMAGE:
		if (a->family != (int32_t)res->cls.family)
			res->reason = vh_xstrdup("the decoder gave an "
			    "inconsistent answer");
		else if (a->rc != 0)
			res->reason = vh_xasprintf("%s: %s", a->family ==
			    VH_MEDIA_AUDIO ? "audio" : "image", a->why[0] !=
			    '\0' ? a->why : "cannot be decoded");
		else if (a->family == VH_MEDIA_AUDIO) {
			res->duration_ms = a->audio.duration_ms;
			res->loudness = a->audio.loudness_in_lufs;
			res->has_loudness = true;
		} else
			took_image(mj, &a->photo, res);
		break;
	case VH_MEDIA_TEXT:
		do_text(in, res);
		break;
	default:
		break;	/* a PDF is kept as it is */
	}
}

/* 0, with res->reason set when the file is rejected; or a job error. */
static int
classify_and_process(struct vh_job_run *mj, const struct media_row *m,
    const char *in, struct result *res, char **err)
{
	struct vh_sandbox_limits sl;
	struct child_req	 rq;
	struct child_ans	*a;
	enum vh_media_family	 claim = claimed_family(m);
	char			*why = NULL;
	int			 fds[1 + D_MAX], rc = 0;

	memset(&rq, 0, sizeof(rq));
	rq.claim = claim;
	vh_photo_limits_default(&rq.photo);
	vh_audio_limits_default(&rq.audio);
	for (int i = 0; i <= D_MAX; i++)
		fds[i] = -1;
	a = vh_xcalloc(1, sizeof(*a));
	if ((fds[0] = open(in, O_RDONLY | O_CLOEXEC)) == -1) {
		*err = vh_xasprintf("%s: %s", in, strerror(errno));
		rc = VH_EIO;
		goto out;
	}
	for (int i = 0; i < D_MAX; i++) {
		new_tmp(mj, res, i);
		if ((fds[1 + i] = open(res->tmp[i], O_RDWR | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0600)) == -1) {
			*err = vh_xasprintf("%s: %s", res->tmp[i],
			    strerror(errno));
			rc = VH_EIO;
			goto out;
		}
	}
	vh_sandbox_limits_default(&sl);
	rc = vh_sandbox_run(&sl, "media", &rq, sizeof(rq), fds, 1 + D_MAX, a,
	    sizeof(*a), &why);
	if (rc == VH_EAGAIN) {
		/* No child could be started: not the file's fault. */
		*err = why;
		why = NULL;
		goto out;
	}
	if (rc != 0)
		res->reason = vh_xasprintf("the file cannot be processed: %s",
		    why);
	else
		answer(mj, m, claim, in, a, res);
	rc = 0;
	/* Only the renditions of what the file is go into the store. */
	for (int i = 0; i < D_MAX; i++) {
		bool	audio = i == D_OPUS || i == D_M4A || i == D_PEAKS;
		bool	keep = res->reason == NULL &&
			    ((res->cls.family == VH_MEDIA_AUDIO && audio) ||
			    (res->cls.family == VH_MEDIA_IMAGE && !audio));

		if (!keep && res->tmp[i] != NULL) {
			unlink(res->tmp[i]);
			free(res->tmp[i]);
			res->tmp[i] = NULL;
		}
	}
out:
	for (int i = 0; i <= D_MAX; i++)
		if (fds[i] != -1)
			close(fds[i]);
	explicit_bzero(a, sizeof(*a));
	free(a);
	free(why);
	return (rc);
}

int
vh_media_job_run(struct vh_job_run *mj, char **err)
{
	struct media_row	 m = { 0 };
	struct result		 res;
	char			*in = NULL;
	int			 rc;
	bool			 gone = false;
	struct timespec		 t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&res, 0, sizeof res);
	res.duration_ms = -1;
	if ((rc = load(mj, &m, err)) == VH_ENOENT) {
		gone = true;
		/* Deleted meanwhile (withdrawn): nothing left to do. */
		snprintf(mj->outcome, sizeof mj->outcome, "media gone");
		rc = vh_jobq_complete(mj->db, mj->job_id, mj->lock_id, NULL, err);
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = copy_original(mj->blobs, m.sha256, &in, err);
	if (rc == VH_ENOENT && vh_blobstore_quarantined(mj->blobs, m.sha256)) {
		free(*err);
		*err = NULL;
		res.reason = vh_xstrdup("the same file was rejected before");
	} else if (rc != 0)
		goto out;
	else if ((rc = classify_and_process(mj, &m, in, &res, err)) != 0)
		goto out;
	if (res.reason == NULL && (rc = store_derived(mj, &res, err)) != 0)
		goto out;
	if ((rc = record(mj, &m, &res, err)) != 0)
		goto out;
	if (res.reason != NULL) {
		quarantine(mj, &m);
		snprintf(mj->outcome, sizeof mj->outcome, "rejected: %s",
		    res.reason);
	} else
		snprintf(mj->outcome, sizeof mj->outcome, "ready %s (%s)",
		    vh_media_family_name(res.cls.family), res.cls.mime);
out:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vh_metrics_media(res.cls.family, rc == VH_ECONFLICT ?
	    VH_OUTCOME_LEASE_LOST : rc != 0 ? VH_OUTCOME_ERROR :
	    gone ? VH_OUTCOME_GONE : res.reason != NULL ? VH_OUTCOME_REJECTED :
	    VH_OUTCOME_READY, (t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000);
	if (in != NULL)
		unlink(in);
	free(in);
	for (int i = 0; i < D_MAX; i++) {
		if (res.pinned[i])
			vh_blobgc_unpin(mj->db, res.hash[i]);
		if (res.tmp[i] != NULL)
			unlink(res.tmp[i]);
		free(res.tmp[i]);
	}
	free(res.reason);
	free(res.text);
	free(m.filename);
	free(m.declared_type);
	return (rc);
}
