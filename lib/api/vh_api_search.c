/*
 * Search and exports: GET /api/v1/entries, /api/v1/entries/{id} and
 * /api/v1/exports/buurten.geojson (the other exports: vh_api_exports.c). The
 * query string becomes one jsonb filter object (checked here, so bad
 * input is 400 before any work is queued) that the vh_search* functions
 * of schema/0005_search.sql turn into SQL; who asks is part of the
 * filter: the access rule of schema/0009_access.sql (vh_access) decides
 * what of each entry the viewer sees, in the same SQL as every other
 * condition.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vh_access.h"
#include "vh_api.h"
#include "vh_api_search.h"
#include "vh_apiq.h"
#include "vh_ctx.h"
#include "vh_areas.h"
#include "vh_config.h"
#include "vh_error.h"
#include "vh_http.h"
#include "vh_unused.h"
#include "vh_xmalloc.h"

static const char *statuses[] = { "received", "processing", "pending_review",
    "approved", "published", "rejected", "withdrawn", NULL };

bool
vh_search_slug_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !(islower((unsigned char)s[0]) ||
	    isdigit((unsigned char)s[0])))
		return (false);
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-')
			return (false);
	return (true);
}

/*
 * A period as the filters take it: "2023", "2023-05" or "2023-05-10", a
 * real calendar date between 1900 and 2199 (the database would refuse
 * 2023-02-30 with its own words). NULL when s is one, else why not, in
 * words that do not repeat the client's bytes.
 */
const char *
vh_search_period_problem(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	size_t	n = strlen(s);
	int	y, m, d;

	if (n != 4 && n != 7 && n != 10)
		return ("must be a year (2023), a month (2023-05) or a day "
		    "(2023-05-10)");
	for (size_t i = 0; i < n; i++) {
		if ((i == 4 || i == 7) ? s[i] != '-' :
		    !isdigit((unsigned char)s[i]))
			return ("must be a year (2023), a month (2023-05) or a "
			    "day (2023-05-10), digits and dashes only");
	}
	y = atoi(s);
	if (y < 1900 || y > 2199)
		return ("has a year outside 1900-2199");
	if (n == 4)
		return (NULL);
	m = atoi(s + 5);
	if (m < 1 || m > 12)
		return ("has a month outside 01-12");
	if (n == 7)
		return (NULL);
	d = atoi(s + 8);
	if (d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 &&
	    !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		return ("is not a day of the calendar: that month has no "
		    "such day");
	return (NULL);
}

bool
vh_search_period_ok(const char *s)
{
	return (vh_search_period_problem(s) == NULL);
}

/* A period's first day as YYYY-MM-DD, for comparing from with to. */
static void
period_first(const char *s, char out[11])
{
	snprintf(out, 11, "%.4s-%.2s-%.2s", s, strlen(s) >= 7 ? s + 5 : "01",
	    strlen(s) >= 10 ? s + 8 : "01");
}

/* The same for its last day (compares as a string, only for order). */
static void
period_last(const char *s, char out[11])
{
	snprintf(out, 11, "%.4s-%.2s-%.2s", s, strlen(s) >= 7 ? s + 5 : "12",
	    strlen(s) >= 10 ? s + 8 : "31");
}

/* Sets f[name] from a from/to argument; VH_EINVAL with *why. */
static int
period_arg(struct vh_http_req *req, json_t *f, const char *name, char **why)
{
	char		*v = vh_apiq_arg(req, name);
	const char	*bad;

	if (v == NULL || *v == '\0') {
		free(v);
		return (0);
	}
	if ((bad = vh_search_period_problem(v)) != NULL) {
		*why = vh_xasprintf("'%s' %s", name, bad);
		free(v);
		return (VH_EINVAL);
	}
	json_object_set_new(f, name, json_string(v));
	free(v);
	return (0);
}

static bool
one_of(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return (true);
	return (false);
}

json_t *
vh_search_viewer(const struct vh_principal *who, int64_t k)
{
	/* Who asks, as the access rule (vh_access) takes it. */
	json_t *f = vh_access_viewer(who);

	json_object_set_new(f, "k", json_integer(k));
	return (f);
}

/* Sets f[key] from the query argument name, checked by ok; what says
 * what a good value is. */
static int
arg(struct vh_http_req *req, json_t *f, const char *name,
    bool (*ok)(const char *), const char *what, char **why)
{
	char *v = vh_apiq_arg(req, name);

	if (v == NULL || *v == '\0') {
		free(v);
		return (0);
	}
	if (ok != NULL && !ok(v)) {
		*why = vh_xasprintf("'%s' %s", name, what);
		free(v);
		return (VH_EINVAL);
	}
	json_object_set_new(f, name, json_string(v));
	free(v);
	return (0);
}

static bool
area_ok(const char *s)
{
	enum vh_area_level l;

	return (vh_area_level_of(s, &l) == 0);
}

static bool
kind_ok(const char *s)
{
	return (strcmp(s, "story") == 0 || strcmp(s, "visit") == 0);
}

static bool
status_ok(const char *s)
{
	return (one_of(s, statuses));
}

static bool
sort_ok(const char *s)
{
	return (strcmp(s, "relevance") == 0 || strcmp(s, "recent") == 0);
}

static bool
cursor_ok(const char *s)
{
	return (strlen(s) < 1024 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(s));
}

static int
boolarg(struct vh_http_req *req, json_t *f, const char *name, char **why)
{
	char	*v = vh_apiq_arg(req, name);
	int	 rc = 0;

	if (v == NULL || *v == '\0')
		;
	else if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		json_object_set_new(f, name, json_true());
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		json_object_set_new(f, name, json_false());
	else {
		*why = vh_xasprintf("'%s' must be true or false", name);
		rc = VH_EINVAL;
	}
	free(v);
	return (rc);
}

int
vh_search_filters(struct vh_http_req *req, json_t *f, char **why)
{
	char	 status_what[256];
	char	*v, *tok, *save;
	json_t	*themes;
	int	 rc = 0;

	if ((v = vh_apiq_arg(req, "q")) != NULL) {
		/* Surrounding blanks only: websearch syntax is the database's. */
		size_t n = strlen(v);

		while (n > 0 && isspace((unsigned char)v[n - 1]))
			v[--n] = '\0';
		if (n > 1000) {
			*why = vh_xstrdup("'q' is longer than 1000 characters");
			free(v);
			return (VH_EINVAL);
		}
		if (v[strspn(v, " \t")] != '\0')
			json_object_set_new(f, "q", json_string(v + strspn(v, " \t")));
		free(v);
	}
	if ((v = vh_apiq_arg(req, "theme")) != NULL) {
		themes = json_array();
		for (tok = strtok_r(v, ",", &save); tok != NULL && rc == 0;
		    tok = strtok_r(NULL, ",", &save)) {
			if (!vh_search_slug_ok(tok)) {
				*why = vh_xstrdup("'theme' must be theme "
				    "slugs separated by commas (lower-case "
				    "letters, digits and dashes)");
				rc = VH_EINVAL;
			} else
				json_array_append_new(themes, json_string(tok));
		}
		free(v);
		if (json_array_size(themes) > 0)
			json_object_set_new(f, "theme", themes);
		else
			json_decref(themes);
		if (rc != 0)
			return (rc);
	}
	/* The list of statuses, in the words of the 400. */
	for (size_t i = 0, n = 0; statuses[i] != NULL && n < sizeof status_what;
	    i++)
		n += snprintf(status_what + n, sizeof status_what - n, "%s%s",
		    i == 0 ? "must be one of " : ", ", statuses[i]);
	if ((rc = arg(req, f, "area", area_ok, "must be a CBS area code: GM "
	    "and 4 digits, WK and 6 or BU and 8 (GM0344, WK034401, "
	    "BU03440111)", why)) != 0 ||
	    (rc = arg(req, f, "kind", kind_ok, "must be story or visit",
	    why)) != 0 ||
	    (rc = arg(req, f, "status", status_ok, status_what, why)) != 0 ||
	    (rc = arg(req, f, "collection", vh_search_slug_ok, "must be a "
	    "collection slug: lower-case letters, digits and dashes, at "
	    "most 64", why)) != 0 ||
	    (rc = period_arg(req, f, "from", why)) != 0 ||
	    (rc = period_arg(req, f, "to", why)) != 0 ||
	    (rc = boolarg(req, f, "has_audio", why)) != 0 ||
	    (rc = boolarg(req, f, "has_photo", why)) != 0)
		return (rc);
	if (json_is_string(json_object_get(f, "from")) &&
	    json_is_string(json_object_get(f, "to"))) {
		char	a[11], b[11];

		period_first(json_string_value(json_object_get(f, "from")), a);
		period_last(json_string_value(json_object_get(f, "to")), b);
		if (strcmp(a, b) > 0) {
			*why = vh_xasprintf("'from' (%s) begins after 'to' "
			    "(%s) ends", json_string_value(json_object_get(f,
			    "from")), json_string_value(json_object_get(f,
			    "to")));
			return (VH_EINVAL);
		}
	}
	return (0);
}

/* The filter as a query parameter; consumes f. */
static char *
dump(json_t *f)
{
	char *s = json_dumps(f, JSON_COMPACT);

	json_decref(f);
	return (s);
}

void
vh_search_bad_request(struct vh_http_req *req, json_t *f, char *why)
{
	vh_http_respond_problem(req, 400, "bad-request", "%s", why);
	free(why);
	json_decref(f);
}

json_t *
vh_search_request(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_principal *who)
{
	json_t	*f = vh_search_viewer(who, vh_ctx_config(ctx)->small_count_k);
	char	*why = NULL;

	if (vh_search_filters(req, f, &why) != 0) {
		vh_search_bad_request(req, f, why);
		return (NULL);
	}
	return (f);
}

void
vh_search_run(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_principal *who, struct vh_apiq *q, json_t *f,
    const char *action, const char *type)
{
	q->nparams = 1;
	q->params[0] = dump(f);
	/* An export is named in the trail by its file, a search by nothing
	 * more than its filters (the audit row's reason). */
	if (action != NULL)
		vh_apiq_audit(q, req, who, action, type, q->filename != NULL ?
		    q->filename : "");
	vh_apiq_run(ctx, req, q);
}

void
vh_api_search_entries(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON };
	json_t		*f;
	char		*why = NULL, *v;
	long		 lim;

	if ((f = vh_search_request(ctx, req, who)) == NULL)
		return;
	if (arg(req, f, "sort", sort_ok, "must be relevance or recent",
	    &why) != 0 ||
	    arg(req, f, "cursor", cursor_ok, "must be a next_cursor value "
	    "from an earlier page", &why) != 0 ||
	    boolarg(req, f, "facets", &why) != 0) {
		vh_search_bad_request(req, f, why);
		return;
	}
	if ((v = vh_apiq_arg(req, "limit")) != NULL) {
		lim = strtol(v, &why, 10);
		if (*v == '\0' || *why != '\0' || lim < 1 || lim > 200) {
			free(v);
			vh_search_bad_request(req, f,
			    vh_xstrdup("'limit' must be 1 to 200"));
			return;
		}
		free(v);
		json_object_set_new(f, "limit", json_integer(lim));
	}
	/* Each item's thumbnail, asked of the media routes' rule (0023). */
	q.sql = "SELECT vh_search_thumbs(vh_search($1::jsonb),"
	    " $1::jsonb)::text";
	vh_search_run(ctx, req, who, &q, f, "search", "entries");
}

void
vh_api_entry_get(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON };
	const char	*id = vh_route_param(params, "id");

	/* {id:int}: the router checked it. */
	q.sql = "SELECT vh_entry_get($1::bigint, $2::jsonb)::text";
	q.nparams = 2;
	q.params[0] = vh_xstrdup(id);
	q.params[1] = dump(vh_search_viewer(who, 0));
	q.not_found = "no such entry, or not one you may read";
	vh_apiq_audit(&q, req, who, "read", "entry", id);
	vh_apiq_run(ctx, req, &q);
}

void
vh_api_export_buurten_geojson(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON_ROWS };
	json_t		*f;

	if ((f = vh_search_request(ctx, req, who)) == NULL)
		return;
	/* One Feature per row: boundaries make this the largest answer. */
	q.sql = "SELECT vh_export_buurten_sql($1::jsonb)";
	q.json_head = "{\"type\":\"FeatureCollection\",\"features\":[";
	q.json_tail = "]}";
	q.content_type = "application/geo+json";
	q.filename = "buurten.geojson";
	vh_search_run(ctx, req, who, &q, f, "export", "buurten");
}
