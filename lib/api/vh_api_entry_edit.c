/*
 * An entry's history and a moderator's corrections of it.
 *
 * GET /api/v1/entries/{id}/history (staff who may see the entry, by the
 * one access rule) lists what happened to it, oldest first: received
 * (the entry row), processed or rejected (each file's media job), and
 * every moderation step of the audit trail: approved, published,
 * rejected, redacted, edited. The audit trail is the source because it
 * is the record that is kept (hash-chained); its reasons never hold
 * removed words, so neither does the history.
 *
 * PATCH /api/v1/entries/{id} (moderators, admins) sets an entry's title,
 * themes and buurt: one transaction with its "edit" audit row, which
 * names the fields changed and the new themes and area, never the title's
 * words (a title may hold the name being corrected away).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vh_access.h"
#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_apiq.h"
#include "vh_ctx.h"
#include "vh_areas.h"
#include "vh_audit.h"
#include "vh_body.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_pool.h"
#include "vh_xmalloc.h"

#define TITLE_MAX	500	/* bytes */
#define THEMES_MAX	20

/*
 * NULL (404) unless the viewer sees the entry. The audit rows are those
 * of moderation; reads and plays are the audit trail's business, not the
 * entry's story. Media rows say which file; a rejected one why.
 */
static const char history_sql[] =
    "SELECT json_build_object('entry', $1::bigint, 'status', e.status,"
    " 'items', (SELECT coalesce(json_agg(json_build_object('at', h.at,"
    " 'event', h.event, 'actor', h.actor, 'detail', h.detail, 'media',"
    " h.media) ORDER BY h.at, h.seq), '[]') FROM ("
    "  SELECT e.created_at AS at, 0 AS seq, 'received' AS event,"
    "  NULL::text AS actor, e.kind AS detail, NULL::bigint AS media"
    "  UNION ALL SELECT m.processed_at, m.id, CASE m.status WHEN 'rejected'"
    "  THEN 'file_rejected' ELSE 'processed' END, NULL, CASE m.status WHEN"
    "  'rejected' THEN m.reject_reason ELSE coalesce(m.family, '') END, m.id"
    "  FROM media m WHERE m.entry_id = e.id AND m.processed_at IS NOT NULL"
    "  UNION ALL SELECT a.at, a.id, CASE a.action WHEN 'approve' THEN"
    "  'approved' WHEN 'publish' THEN 'published' WHEN 'reject' THEN"
    "  'rejected' WHEN 'redact' THEN 'redacted' ELSE 'edited' END, a.actor,"
    "  a.reason, NULL FROM audit a WHERE a.object_type = 'entry' AND"
    "  a.object_id = e.id::text AND a.action IN ('approve', 'publish',"
    "  'reject', 'redact', 'edit')) h))::text"
    " FROM entry e, vh_access_entry($2::jsonb, $1::bigint) x"
    " WHERE e.id = $1::bigint AND x IS NOT NULL AND cardinality(x) > 0";

struct edit_job {
	struct vh_ctx		*ctx;
	struct vh_http_req	*req;
	struct vh_audit_actor	 actor;
	char			 id[24];
	json_t			*body;
	struct vh_api_err	 e;	/* the first error */
	json_t			*result;
};

void
vh_api_entry_history(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON };
	const char	*id = vh_route_param(params, "id");
	json_t		*viewer;

	/* {id:int}: the router checked its form. */
	viewer = vh_access_viewer(who);
	q.sql = history_sql;
	q.nparams = 2;
	q.params[0] = vh_xstrdup(id);
	q.params[1] = json_dumps(viewer, JSON_COMPACT);
	json_decref(viewer);
	q.not_found = "no such entry, or not one you may see";
	vh_apiq_run(ctx, req, &q);
}

static void
job_free(void *arg)
{
	struct edit_job *j = arg;

	json_decref(j->body);
	json_decref(j->result);
	vh_api_err_clear(&j->e);
	free(j);
}

/* What changed, for the audit row: field names, the new themes and area;
 * never the title's words. Caller frees. */
static char *
describe(json_t *b)
{
	char	*s = vh_xstrdup(""), *n, *themes = NULL;
	json_t	*v;
	size_t	 i;

	if (json_object_get(b, "title") != NULL) {
		free(s);
		s = vh_xstrdup("title");
	}
	if ((v = json_object_get(b, "themes")) != NULL) {
		themes = vh_xstrdup("");
		for (i = 0; i < json_array_size(v); i++) {
			n = vh_xasprintf("%s%s%s", themes, i > 0 ? "," : "",
			    json_string_value(json_array_get(v, i)));
			free(themes);
			themes = n;
		}
		n = vh_xasprintf("%s%sthemes: %s", s, *s != '\0' ? "; " : "",
		    themes);
		free(s);
		free(themes);
		s = n;
	}
	if ((v = json_object_get(b, "area")) != NULL) {
		n = vh_xasprintf("%s%sarea: %s", s, *s != '\0' ? "; " : "",
		    json_is_null(v) ? "none" : json_string_value(v));
		free(s);
		s = n;
	}
	return (s);
}

/* In the transaction vh_api_tx began: records what went wrong in e. */
static void
edit(struct vh_http_req *req, PGconn *db, struct vh_api_err *e, void *arg)
{
	struct edit_job	*j = arg;
	json_t		*themes = json_object_get(j->body, "themes");
	json_t		*area = json_object_get(j->body, "area");
	const char	*params[5], *check[3];
	char		*err = NULL, *th = NULL, *why = NULL;
	PGresult	*r = NULL;

	th = themes != NULL ? json_dumps(themes, JSON_COMPACT) : NULL;
	params[0] = j->id;
	params[1] = json_string_value(json_object_get(j->body, "title"));
	params[2] = th;
	params[3] = json_is_string(area) ? json_string_value(area) : NULL;
	params[4] = area != NULL ? "t" : "f";
	/* Names the first theme or area that does not exist, or null. */
	check[0] = params[0];
	check[1] = params[2];
	check[2] = params[3];
	if ((r = vh_db_exec(db, "SELECT (SELECT t FROM jsonb_array_elements_text("
	    " coalesce($2::jsonb, '[]')) t WHERE t NOT IN (SELECT slug FROM"
	    " theme) LIMIT 1), $3::text IS NOT NULL AND NOT EXISTS (SELECT 1"
	    " FROM area WHERE code = $3), EXISTS (SELECT 1 FROM entry WHERE"
	    " id = $1::bigint AND status <> 'withdrawn')", 3, check,
	    &err)) == NULL)
		goto dberr;
	if (strcmp(PQgetvalue(r, 0, 2), "t") != 0)
		vh_api_err_set(e, 404, "not-found",
		    vh_xasprintf("no entry %s", j->id));
	else if (!PQgetisnull(r, 0, 0))
		vh_api_err_set(e, 422, "invalid-entry", vh_xasprintf("'themes': "
		    "there is no theme '%s' (GET /api/v1/themes lists them)",
		    PQgetvalue(r, 0, 0)));
	else if (strcmp(PQgetvalue(r, 0, 1), "t") == 0)
		vh_api_err_set(e, 422, "invalid-entry", vh_xasprintf("'area': "
		    "there is no area %s (GET /api/v1/areas lists them)",
		    params[3]));
	PQclear(r);
	if (e->status != 0)
		goto out;
	if ((r = vh_db_exec(db, "UPDATE entry SET title = coalesce($2, title),"
	    " themes = CASE WHEN $3::jsonb IS NULL THEN themes ELSE ARRAY("
	    " SELECT DISTINCT jsonb_array_elements_text($3::jsonb)) END,"
	    " area_code = CASE WHEN $5::boolean THEN $4 ELSE area_code END,"
	    " updated_at = now() WHERE id = $1::bigint RETURNING"
	    " json_build_object('id', id, 'status', status, 'title', title,"
	    " 'themes', themes, 'area', area_code)::text", 5, params,
	    &err)) == NULL)
		goto dberr;
	j->result = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	PQclear(r);
	why = describe(j->body);
	if (vh_audit_record(db, &j->actor, "edit", "entry", j->id, why,
	    &err) != 0)
		goto dberr;
	goto out;
dberr:
	vh_api_err_db(e, req, "entry edit", err, VH_API_DB_UNCHANGED);
out:
	free(th);
	free(why);
}

static void
edit_work(struct vh_worker *w, void *arg)
{
	struct edit_job	*j = arg;

	(void)vh_api_tx(w, j->req, &j->e, "entry edit", VH_API_DB_UNCHANGED,
	    edit, j);
}

static void
edit_done(void *arg)
{
	struct edit_job *j = arg;

	vh_api_reply_json(j->req, &j->e, 200, j->result);
	job_free(j);
}

/* What an edit takes, in words, or NULL when the body is one. */
static const char *
body_problem(json_t *b)
{
	const char	*k;
	json_t		*v, *t;
	size_t		 i;
	enum vh_area_level l;

	if (json_object_size(b) == 0)
		return ("send any of {\"title\": \"…\", \"themes\": [slug, …], "
		    "\"area\": \"BU…\" | null}");
	json_object_foreach(b, k, v)
		if (strcmp(k, "title") != 0 && strcmp(k, "themes") != 0 &&
		    strcmp(k, "area") != 0)
			return ("an edit takes only 'title', 'themes' and 'area'; "
			    "text is corrected by redaction");
	if ((v = json_object_get(b, "title")) != NULL && (!json_is_string(v) ||
	    json_string_length(v) > TITLE_MAX))
		return ("'title' must be a string of at most 500 bytes");
	if ((v = json_object_get(b, "themes")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) > THEMES_MAX)
			return ("'themes' must be a list of at most 20 theme "
			    "slugs");
		json_array_foreach(v, i, t)
			if (!json_is_string(t) || json_string_length(t) == 0 ||
			    json_string_length(t) > 64)
				return ("'themes' must be a list of theme slugs");
	}
	if ((v = json_object_get(b, "area")) != NULL && !json_is_null(v) &&
	    (!json_is_string(v) || vh_area_level_of(json_string_value(v),
	    &l) != 0))
		return ("'area' must be a CBS code (GM0344, WK034401, "
		    "BU03440111) or null");
	return (NULL);
}

static void
on_body(struct vh_http_req *req, json_t *body, void *arg)
{
	struct edit_job	*j = arg;
	const char	*why = body_problem(body);

	if (why != NULL) {
		vh_http_respond_problem(req, 422, "invalid-entry", "%s", why);
		job_free(j);
		return;
	}
	j->body = json_incref(body);
	vh_pool_submit(j->ctx->pool, edit_work, edit_done, j);
}

static void
entry_correct(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	struct edit_job	*j;
	const char	*id = vh_route_param(params, "id");

	/* {id:int}: the router checked its form. */
	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->req = req;
	snprintf(j->id, sizeof j->id, "%s", id);
	vh_audit_actor_from(&j->actor, req, who);
	vh_body_read_json(req, 64 * 1024, on_body, job_free, j);
}

/* One route changes an entry; who asks decides which change it is. */
void
vh_api_entry_patch(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	if (who->role == VH_ROLE_FIELDWORKER)
		vh_api_entry_patch_own(ctx, req, params, who);
	else
		entry_correct(ctx, req, params, who);
}
