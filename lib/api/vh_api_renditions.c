/*
 * What the media jobs made of a file: its description (status, family,
 * type, duration, dimensions, the reason for a reject) and the derived
 * renditions (Opus, AAC, peaks, display photo, thumbnail), served inline
 * with ETag and Range. The route table's masks say which roles may ask;
 * whether this viewer may use this file is the access rule's answer
 * (vh_access_media): the entry's visibility (status, ownership) and its
 * consent scope, recordings needing "play" and photos "read". A file the
 * viewer may not use is 404, the same as one that does not exist.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_ctx.h"
#include "vh_audit.h"
#include "vh_body.h"
#include "vh_error.h"
#include "vh_pool.h"
#include "vh_xmalloc.h"

/* The renditions; column names are fixed strings, never input. */
struct rendition {
	const char	*name;
	const char	*column;
	const char	*ctype;
	const char	*ext;		/* of the download's file name */
	const char	*audit;		/* its audit action */
};

static const struct rendition renditions[] = {
	{ "audio.opus", "opus_sha256", "audio/ogg; codecs=opus", "opus", "play" },
	{ "audio.m4a", "m4a_sha256", "audio/mp4", "m4a", "play" },
	{ "peaks.json", "peaks_sha256", "application/json", "peaks.json", "play" },
	{ "display.jpg", "display_sha256", "image/jpeg", "display.jpg", "view" },
	{ "thumb.jpg", "thumb_sha256", "image/jpeg", "thumb.jpg", "view" },
};

struct rend_job {
	struct vh_ctx		*ctx;
	struct vh_http_req	*req;
	struct vh_principal	 who;
	struct vh_audit_actor	 actor;
	const struct rendition	*rend;		/* NULL: the description */
	char			*id;
	struct vh_api_err	 err;
	json_t			*json;
	struct vh_api_file	 file;
};

/* Runs sql ($1 the media id) once the access rule allows the use. */
static PGresult *
query(struct vh_worker *w, struct rend_job *j, const char *sql, PGconn **dbp)
{
	PGresult	*r;
	char		*norow;

	norow = vh_xasprintf("media %s has no such rendition", j->id);
	r = vh_api_media_row(w, j->req, &j->err, &j->who, j->id,
	    j->rend != NULL ? j->rend->name : NULL, sql, norow, dbp);
	free(norow);
	return (r);
}

static void
describe_work(struct vh_worker *w, void *arg)
{
	struct rend_job	*j = arg;
	PGconn		*db;
	PGresult	*r;
	json_error_t	 jerr;

	r = query(w, j, "SELECT json_build_object('id', m.id, 'entry_id',"
	    " m.entry_id, 'status', m.status, 'family', m.family, 'type',"
	    " m.detected_type, 'declared_type', m.declared_type, 'filename',"
	    " m.filename, 'size', m.size, 'duration_ms', m.duration_ms,"
	    " 'width', m.width, 'height', m.height, 'loudness_lufs',"
	    " m.loudness_lufs, 'taken_at', m.taken_at, 'reason',"
	    " m.reject_reason, 'processed_at', m.processed_at,"
	    " 'job', (SELECT json_build_object('state', state, 'attempts',"
	    " attempts, 'last_error', last_error) FROM job WHERE kind ="
	    " 'media' AND media_id = m.id),"
	    " 'links', json_strip_nulls(json_build_object("
	    " 'self', '/api/v1/media/' || m.id,"
	    " 'audio.opus', CASE WHEN m.opus_sha256 IS NOT NULL THEN"
	    " '/api/v1/media/' || m.id || '/audio.opus' END,"
	    " 'audio.m4a', CASE WHEN m.m4a_sha256 IS NOT NULL THEN"
	    " '/api/v1/media/' || m.id || '/audio.m4a' END,"
	    " 'peaks.json', CASE WHEN m.peaks_sha256 IS NOT NULL THEN"
	    " '/api/v1/media/' || m.id || '/peaks.json' END,"
	    " 'display.jpg', CASE WHEN m.display_sha256 IS NOT NULL THEN"
	    " '/api/v1/media/' || m.id || '/display.jpg' END,"
	    " 'thumb.jpg', CASE WHEN m.thumb_sha256 IS NOT NULL THEN"
	    " '/api/v1/media/' || m.id || '/thumb.jpg' END)))"
	    " FROM media m WHERE m.id = $1::bigint", &db);
	if (r == NULL)
		return;
	if ((j->json = json_loads(PQgetvalue(r, 0, 0), 0, &jerr)) == NULL)
		vh_api_err_set(&j->err, 500, "internal",
		    vh_xasprintf("media %s: %s", j->id, jerr.text));
	PQclear(r);
}

/* The play or view of a file, recorded before it is served (one row per
 * person, file and day: vh_audit_record). */
static void
record(PGconn *db, struct rend_job *j)
{
	char	*err = NULL;

	if (vh_audit_record(db, &j->actor, j->rend->audit, "media", j->id,
	    j->rend->name, &err) != 0) {
		vh_api_file_clear(&j->file);
		vh_api_err_db(&j->err, j->req, "audit", err, "the access could "
		    "not be recorded");
	}
}

static void
file_work(struct vh_worker *w, void *arg)
{
	struct rend_job		*j = arg;
	PGconn			*db;
	PGresult		*r;
	char			*sql, *base, *dot, *name;
	int			 rc;

	sql = vh_xasprintf("SELECT m.%s, m.filename FROM media m"
	    " WHERE m.id = $1::bigint AND m.status = 'ready' AND m.%s IS NOT NULL",
	    j->rend->column, j->rend->column);
	r = query(w, j, sql, &db);
	free(sql);
	if (r == NULL)
		return;
	/* "story.m4a" becomes "story.opus", "story.thumb.jpg", ... */
	base = vh_xstrdup(PQgetvalue(r, 0, 1));
	if ((dot = strrchr(base, '.')) != NULL)
		*dot = '\0';
	if (*base == '\0')
		name = vh_xasprintf("media-%s.%s", j->id, j->rend->ext);
	else
		name = vh_xasprintf("%s.%s", base, j->rend->ext);
	free(base);
	rc = vh_api_file_open(&j->file, j->ctx->blobs,
	    PQgetvalue(r, 0, 0), name, &j->err);
	free(name);
	PQclear(r);
	if (rc == 0)
		record(db, j);
}

static void
rend_done(void *arg)
{
	struct rend_job *j = arg;

	if (j->rend == NULL)
		vh_api_reply_json(j->req, &j->err, 200, j->json);
	else
		vh_api_reply_file(j->req, &j->err, &j->file, j->rend->ctype,
		    "inline");
	json_decref(j->json);
	vh_api_file_clear(&j->file);
	vh_api_err_clear(&j->err);
	free(j->id);
	free(j);
}

static void
submit(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who,
    const struct rendition *rend)
{
	struct rend_job	*j;
	const char	*id = vh_route_param(params, "id");	/* {id:int} */

	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->req = req;
	j->who = *who;
	vh_audit_actor_from(&j->actor, req, who);
	j->rend = rend;
	j->id = vh_xstrdup(id);
	vh_api_file_init(&j->file);
	vh_pool_submit(ctx->pool, rend == NULL ? describe_work :
	    file_work, rend_done, j);
}

void
vh_api_media_get(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	submit(ctx, req, params, who, NULL);
}

void
vh_api_media_opus(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	submit(ctx, req, params, who, &renditions[0]);
}

void
vh_api_media_m4a(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	submit(ctx, req, params, who, &renditions[1]);
}

void
vh_api_media_peaks(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	submit(ctx, req, params, who, &renditions[2]);
}

void
vh_api_media_display(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	submit(ctx, req, params, who, &renditions[3]);
}

void
vh_api_media_thumb(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	submit(ctx, req, params, who, &renditions[4]);
}
