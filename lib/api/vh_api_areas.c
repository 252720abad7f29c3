/*
 * Areas, indicators, dossiers, collections and themes: the reference data
 * beside the entries. Reads are one SQL value each (vh_apiq); the two
 * admin POSTs read a small JSON body first and hand it to the database
 * whole, whose constraints judge it (409 on a taken slug, 422 otherwise).
 */
#include <stdlib.h>
#include <string.h>

#include "vh_api.h"
#include "vh_api_search.h"
#include "vh_apiq.h"
#include "vh_ctx.h"
#include "vh_areas.h"
#include "vh_auth.h"
#include "vh_body.h"
#include "vh_config.h"
#include "vh_error.h"
#include "vh_http.h"
#include "vh_unused.h"
#include "vh_xmalloc.h"

#define MAX_POST_BODY	(64 * 1024)

/*
 * Indicator values of one area, the source's own and those derived from
 * its buurten (schema/0014, indicator_figure); $1 code, $2 from, $3 to
 * (periods or NULL).
 */
static const char area_indicators_sql[] =
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM area WHERE code = $1) THEN"
    " (SELECT coalesce(jsonb_agg(jsonb_build_object('key', i.key, 'title',"
    " i.title, 'unit', i.unit, 'source', i.source, 'values', v.vals)"
    " ORDER BY i.key), '[]') FROM indicator i JOIN LATERAL ("
    " SELECT jsonb_agg(jsonb_build_object('period', iv.period, 'period_type',"
    " iv.period_type, 'value', iv.value) || CASE WHEN iv.derivation IS NOT"
    " NULL THEN jsonb_build_object('derived', jsonb_build_object('method',"
    " iv.derivation, 'buurten', iv.derived_from)) ELSE '{}' END"
    " ORDER BY iv.period_start, iv.period)"
    " AS vals FROM indicator_figure iv WHERE iv.indicator_id = i.id"
    " AND iv.area_code = $1"
    " AND ($2::text IS NULL OR iv.period_start >= vh_period_start($2))"
    " AND ($3::text IS NULL OR iv.period_start < vh_period_end($3))) v"
    " ON v.vals IS NOT NULL)::text END";

/* The query of the list (one area a row, streamed): every area of the
 * Netherlands is a long list. */
static const char areas_sql[] =
    "SELECT format('SELECT jsonb_build_object(''code'', code, ''level'',"
    " level, ''name'', name, ''parent'', parent, ''has_boundary'', boundary"
    " IS NOT NULL, ''href'', ''/api/v1/areas/'' || code)::text"
    " FROM area WHERE (%1$L::text IS NULL OR level = %1$L)"
    " AND (%2$L::text IS NULL OR parent = %2$L) ORDER BY code',"
    " $1::text, $2::text)";

static const char area_at_sql[] =
    "SELECT jsonb_build_object('code', a.code, 'level', a.level, 'name',"
    " a.name, 'parent', a.parent, 'href', '/api/v1/areas/' || a.code)::text"
    " FROM area a WHERE a.code = vh_area_at($2::float8, $1::float8)";

static const char area_sql[] =
    "SELECT jsonb_build_object('code', a.code, 'level', a.level, 'name',"
    " a.name, 'parent', a.parent, 'children', (SELECT coalesce(jsonb_agg("
    " jsonb_build_object('code', c.code, 'name', c.name, 'level', c.level)"
    " ORDER BY c.code), '[]') FROM area c WHERE c.parent = a.code),"
    " 'bbox', CASE WHEN a.boundary IS NOT NULL THEN jsonb_build_array("
    " ST_XMin(a.boundary), ST_YMin(a.boundary), ST_XMax(a.boundary),"
    " ST_YMax(a.boundary)) END, 'geometry', ST_AsGeoJSON(a.boundary, 6)::jsonb,"
    " 'links', jsonb_build_object('indicators', '/api/v1/areas/' || a.code ||"
    " '/indicators', 'dossier', '/api/v1/areas/' || a.code || '/dossier'))::text"
    " FROM area a WHERE a.code = $1";

static const char indicators_sql[] =
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', i.id, 'key', i.key,"
    " 'title', i.title, 'unit', i.unit, 'source', i.source, 'areas', s.areas,"
    " 'periods', s.periods) ORDER BY i.key), '[]')::text FROM indicator i"
    " LEFT JOIN LATERAL (SELECT count(DISTINCT area_code) AS areas,"
    " jsonb_agg(DISTINCT period) AS periods FROM indicator_value v"
    " WHERE v.indicator_id = i.id) s ON true";

static const char collections_sql[] =
    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'slug', c.slug,"
    " 'title', c.title, 'description', c.description, 'consent_version',"
    " c.consent_version, 'created_at', c.created_at, 'entries', (("
    " SELECT coalesce(sum(n), 0) FROM entry_count ec WHERE ec.theme = ''"
    " AND ec.collection_id = c.id AND"
    /* The access rule (schema/0009_access.sql) over the summary. */
    " coalesce(vh_access_count_sql(jsonb_build_object('role', $1::text),"
    " 'x') IS NOT NULL AND vh_access_sees($1, NULL, NULL, ec.status),"
    " false))::bigint)) ORDER BY c.id), '[]')::text"
    " FROM collection c";

static const char collection_post_sql[] =
    "INSERT INTO collection (slug, title, description, consent_version,"
    " upload_secret_hash) SELECT $1::jsonb->>'slug', $1::jsonb->>'title',"
    " coalesce($1::jsonb->>'description', ''),"
    " coalesce($1::jsonb->>'consent_version', '1'), $2::bytea"
    " RETURNING jsonb_build_object('id', id, 'slug', slug, 'title', title,"
    " 'description', description, 'consent_version', consent_version,"
    " 'created_at', created_at, 'upload_key', $3::text, 'link',"
    " '/api/v1/collections/' || slug || '/uploads?key=' || $3::text)::text";

static const char themes_sql[] =
    "SELECT coalesce(jsonb_agg(jsonb_build_object('slug', slug, 'title', title,"
    " 'indicator_key', indicator_key) ORDER BY position, slug), '[]')::text"
    " FROM theme";

static const char theme_post_sql[] =
    "INSERT INTO theme (slug, title, indicator_key) SELECT coalesce("
    " $1::jsonb->>'slug', trim(both '-' FROM regexp_replace(lower("
    " $1::jsonb->>'title'), '[^a-z0-9]+', '-', 'g'))), $1::jsonb->>'title',"
    " $1::jsonb->>'indicator_key'"
    " RETURNING jsonb_build_object('slug', slug, 'title', title,"
    " 'indicator_key', indicator_key)::text";

/* A from/to query argument into *out, or 400. */
static int
period(struct vh_http_req *req, const char *name, char **out)
{
	*out = vh_apiq_arg(req, name);
	if (*out != NULL && **out == '\0') {
		free(*out);
		*out = NULL;
	}
	if (*out != NULL && !vh_search_period_ok(*out)) {
		vh_http_respond_problem(req, 400, "bad-request", "'%s' %s", name,
		    vh_search_period_problem(*out));
		free(*out);
		return (VH_EINVAL);
	}
	return (0);
}

void
vh_api_areas_list(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON };
	char		*lat = vh_apiq_arg(req, "lat"), *lon = vh_apiq_arg(req, "lon");
	char		*end;

	if (lat != NULL || lon != NULL) {
		/* Which area holds a GPS point. */
		if (lat == NULL || lon == NULL || *lat == '\0' || *lon == '\0' ||
		    (strtod(lat, &end), *end != '\0') ||
		    (strtod(lon, &end), *end != '\0')) {
			vh_http_respond_problem(req, 400, "bad-request",
			    "'lat' and 'lon' must both be decimal degrees");
			free(lat);
			free(lon);
			return;
		}
		q.sql = area_at_sql;
		q.nparams = 2;
		q.params[0] = lat;
		q.params[1] = lon;
		q.not_found = "no known area holds that point";
		vh_apiq_run(ctx, req, &q);
		return;
	}
	q.mode = VH_APIQ_JSON_ROWS;
	q.json_head = "[";
	q.json_tail = "]";
	q.sql = areas_sql;
	q.content_type = "application/json";
	q.nparams = 2;
	q.params[0] = vh_apiq_arg(req, "level");
	q.params[1] = vh_apiq_arg(req, "parent");
	vh_apiq_run(ctx, req, &q);
}

void
vh_api_area_get(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON };
	const char	*code = vh_route_param(params, "code");

	q.sql = area_sql;
	q.nparams = 1;
	q.params[0] = vh_xstrdup(code);
	q.not_found = "no such area";
	vh_apiq_audit(&q, req, who, "dossier", "area", code);
	vh_apiq_run(ctx, req, &q);
}

void
vh_api_area_indicators(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON };
	const char	*code = vh_route_param(params, "code");

	if (period(req, "from", &q.params[1]) != 0)
		return;
	if (period(req, "to", &q.params[2]) != 0) {
		free(q.params[1]);
		return;
	}
	q.sql = area_indicators_sql;
	q.nparams = 3;
	q.params[0] = vh_xstrdup(code);
	q.not_found = "no such area";
	vh_apiq_audit(&q, req, who, "dossier", "area", code);
	vh_apiq_run(ctx, req, &q);
}

void
vh_api_area_dossier(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON };
	const char	*code = vh_route_param(params, "code");
	json_t		*f;
	char		*from, *to;

	if (period(req, "from", &from) != 0)
		return;
	if (period(req, "to", &to) != 0) {
		free(from);
		return;
	}
	f = vh_search_viewer(who, vh_ctx_config(ctx)->small_count_k);
	json_object_set_new(f, "code", json_string(code));
	if (from != NULL)
		json_object_set_new(f, "from", json_string(from));
	if (to != NULL)
		json_object_set_new(f, "to", json_string(to));
	free(from);
	free(to);
	q.sql = "SELECT vh_area_dossier($1::jsonb)::text";
	q.nparams = 1;
	q.params[0] = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	q.not_found = "no such area";
	vh_apiq_audit(&q, req, who, "dossier", "area", code);
	vh_apiq_run(ctx, req, &q);
}

void
vh_api_indicators_list(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	struct vh_apiq q = { .mode = VH_APIQ_JSON, .sql = indicators_sql };

	vh_apiq_run(ctx, req, &q);
}

void
vh_api_collections_list(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	struct vh_apiq q = { .mode = VH_APIQ_JSON, .sql = collections_sql };

	/* A collection's size is no statistic about an area or a theme:
	 * shown as it is (docs/privacy.md, small numbers). */
	q.nparams = 1;
	q.params[0] = vh_xstrdup(vh_role_name(who->role));
	vh_apiq_run(ctx, req, &q);
}

void
vh_api_themes_list(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	struct vh_apiq q = { .mode = VH_APIQ_JSON, .sql = themes_sql };

	vh_apiq_run(ctx, req, &q);
}

/* A small JSON body, then one INSERT … RETURNING. */
struct post {
	struct vh_ctx		*ctx;
	struct vh_principal	 who;		/* for the audit row */
	bool			 collection;
};

/* A slug as the schema takes it (collection, theme): [a-z0-9][a-z0-9-]{0,63}. */
static bool
slug_ok(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '-')
		return (false);
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-'))
			return (false);
	return (true);
}

/*
 * What the database would refuse in a new collection or theme, said in
 * our words before it is sent (its own messages quote the row). NULL
 * when the fields look right.
 */
static const char *
post_problem(json_t *obj, bool collection)
{
	json_t	*slug = json_object_get(obj, "slug");
	json_t	*title = json_object_get(obj, "title");

	if (json_string_length(title) == 0 || json_string_length(title) > 300)
		return ("'title' must be a text of 1 to 300 characters");
	if (slug != NULL && (!json_is_string(slug) ||
	    !slug_ok(json_string_value(slug))))
		return ("'slug' must be 1 to 64 lowercase letters (a-z), "
		    "digits and hyphens, starting with a letter or digit");
	if (collection && slug == NULL)
		return ("'slug' is required: 1 to 64 lowercase letters (a-z), "
		    "digits and hyphens");
	for (const char *const *k = (const char *const []){ "description",
	    "consent_version", "indicator_key", NULL }; *k != NULL; k++)
		if (json_object_get(obj, *k) != NULL &&
		    !json_is_string(json_object_get(obj, *k)))
			return (strcmp(*k, "description") == 0 ?
			    "'description' must be a text" :
			    strcmp(*k, "consent_version") == 0 ?
			    "'consent_version' must be a text" :
			    "'indicator_key' must be a text");
	return (NULL);
}

static void
post_body(struct vh_http_req *req, json_t *obj, void *arg)
{
	struct post	*p = arg;
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON, .ok_status = 201 };
	const char	*why;
	char		 secret[VH_SECRET_LEN], hex[67];
	uint8_t		 hash[32];

	if (!json_is_string(json_object_get(obj, "title"))) {
		vh_http_respond_problem(req, 400, "bad-request",
		    "the body must be a JSON object with a 'title'");
		free(p);
		return;
	}
	if ((why = post_problem(obj, p->collection)) != NULL) {
		vh_http_respond_problem(req, 422, "invalid-field", "%s", why);
		free(p);
		return;
	}
	q.params[0] = json_dumps(obj, JSON_COMPACT);
	if (p->collection) {
		vh_auth_secret_new(secret, hash);
		vh_auth_hash_sql(hash, hex);
		q.sql = collection_post_sql;
		q.nparams = 3;
		q.params[1] = vh_xstrdup(hex);
		q.params[2] = vh_xstrdup(secret);
		q.conflict = "a collection with this slug exists";
		vh_apiq_audit(&q, req, &p->who, "collection_create",
		    "collection", json_string_value(json_object_get(obj, "slug")));
	} else {
		q.sql = theme_post_sql;
		q.nparams = 1;
		q.conflict = "a theme with this slug or title exists";
	}
	vh_apiq_run(p->ctx, req, &q);
	free(p);
}

static void
post(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_principal *who, bool collection)
{
	struct post *p = vh_xcalloc(1, sizeof *p);

	p->ctx = ctx;
	p->who = *who;
	p->collection = collection;
	vh_body_read_json(req, MAX_POST_BODY, post_body, free, p);
}

void
vh_api_collections_post(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	post(ctx, req, who, true);
}

void
vh_api_themes_post(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	post(ctx, req, who, false);
}
