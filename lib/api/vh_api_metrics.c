/*
 * The metrics endpoint. A request's route slot is found at dispatch by
 * matching its path against a copy of the route table (HEAD counts under
 * its GET route) and kept on the request, so that a request refused
 * before dispatch (a bad head, 413) counts as "unmatched" and an upload
 * is counted out exactly when it was counted in. A scrape renders the
 * atomic counters on the loop thread; the job queue and blob gauges come
 * from one query on a worker, cached for CACHE_MS.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_api_metrics.h"
#include "vh_unused.h"
#include "vh_ctx.h"
#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_metrics.h"
#include "vh_pool.h"
#include "vh_time.h"
#include "vh_xmalloc.h"

#define CACHE_MS	2000
#define CTYPE		"text/plain; version=0.0.4; charset=utf-8"

enum kind { K_PLAIN, K_UPLOAD, K_TUS };	/* K_TUS is an upload too */

struct slot {
	enum vh_http_method	 method;
	const char		*pattern;
	int			 slot;
	enum kind		 kind;
};

struct vh_api_metrics {
	struct slot		 slots[VH_METRICS_MAX_ROUTES];
	int			 n;
	struct vh_metrics_gauges cache;
	int64_t			 cached_at;	/* ms; 0: never */
};

/* Requests whose bodies are uploads; tus ones also count their bytes. */
static enum kind
kind_of(enum vh_http_method m, const char *pattern)
{
	if (m == VH_HTTP_PATCH && strcmp(pattern, "/api/v1/uploads/{id}") == 0)
		return (K_TUS);
	if (m == VH_HTTP_POST && strcmp(pattern, "/api/v1/uploads") == 0)
		return (K_TUS);
	if (m == VH_HTTP_POST && (strcmp(pattern, "/api/v1/entries") == 0 ||
	    strcmp(pattern, "/api/v1/collections/{slug}/uploads") == 0))
		return (K_UPLOAD);
	return (K_PLAIN);
}

static void
add_route(enum vh_http_method m, const char *pattern, unsigned access VH_UNUSED,
    void *arg)
{
	struct vh_api_metrics	*am = arg;
	struct slot		*s;

	if (am->n == VH_METRICS_MAX_ROUTES)
		return;
	s = &am->slots[am->n++];
	s->method = m;
	s->pattern = pattern;
	s->slot = vh_metrics_route(vh_route_method_name(m), pattern);
	s->kind = kind_of(m, pattern);
}

struct vh_api_metrics *
vh_api_metrics_new(vh_route_walk_fn walk)
{
	struct vh_api_metrics *am = vh_xcalloc(1, sizeof *am);

	walk(add_route, am);
	return (am);
}

void
vh_api_metrics_free(struct vh_api_metrics *am)
{
	free(am);
}

static const struct slot *
find(const struct vh_api_metrics *am, const struct vh_http_req *req)
{
	struct vh_route_params	 params = { .n = 0 };
	enum vh_http_method	 m = vh_http_req_method(req);
	const char		*path = vh_http_req_path(req);
	const struct slot	*any = NULL;

	for (int i = 0; i < am->n; i++) {
		if (vh_route_match(am->slots[i].pattern, path, &params) != 0)
			continue;
		vh_route_params_clear(&params);
		if (am->slots[i].method == m ||
		    (m == VH_HTTP_HEAD && am->slots[i].method == VH_HTTP_GET))
			return (&am->slots[i]);
		if (any == NULL)
			any = &am->slots[i];	/* a 405 */
	}
	return (any);
}

static bool
has_body(const struct vh_http_req *req)
{
	return (vh_http_req_body_kind(req) == VH_BODY_CHUNKED ||
	    vh_http_req_content_length(req) > 0);
}

/* Slots are tagged +1 on the request, and kinds in the bits above: the
 * request's own 0 means "never dispatched". */
#define TAG(slot, kind)	(((slot) + 1) | ((int)(kind) << 16))
#define TAG_SLOT(t)	(((t) & 0xffff) - 1)
#define TAG_KIND(t)	((enum kind)((t) >> 16))

void
vh_api_metrics_begin(struct vh_api_metrics *am, struct vh_http_req *req)
{
	const struct slot	*s = find(am, req);
	enum kind		 k = K_PLAIN;

	/* A 405 on an upload route reads no body: it is no upload. */
	if (s != NULL && (s->method == vh_http_req_method(req)) && has_body(req))
		k = s->kind;
	vh_http_req_set_route(req, TAG(s != NULL ? s->slot : 0, k));
	if (k != K_PLAIN)
		vh_metrics_uploads(1);
}

void
vh_api_metrics_observe(struct vh_http_req *req, int status,
    int64_t bytes_out, int64_t us, void *arg VH_UNUSED)
{
	int	tag = vh_http_req_route(req);
	int64_t	in = vh_http_req_body_read(req);

	vh_metrics_request(tag != 0 ? TAG_SLOT(tag) : 0, status, us);
	vh_metrics_add(VH_METRIC_BYTES_IN, (uint64_t)in);
	vh_metrics_add(VH_METRIC_BYTES_OUT, (uint64_t)(bytes_out > 0 ?
	    bytes_out : 0));
	if (tag == 0 || TAG_KIND(tag) == K_PLAIN)
		return;
	vh_metrics_uploads(-1);
	if (TAG_KIND(tag) == K_TUS)
		vh_metrics_add(VH_METRIC_TUS_BYTES, (uint64_t)in);
}

/* The scrape */

struct scrape_job {
	struct vh_ctx		*ctx;
	struct vh_http_req	*req;
	struct vh_metrics_gauges g;
	char			*err;
};

static void
respond(struct vh_ctx *ctx, struct vh_http_req *req,
    struct vh_metrics_gauges *g)
{
	char	*s;
	size_t	 len;

	if (vh_http_req_gone(req)) {
		vh_http_respond(req, 200, CTYPE, "", 0);	/* frees it */
		return;
	}
	g->open_connections = ctx->http != NULL ?
	    vh_http_server_nconns(ctx->http) : 0;
	s = vh_metrics_render(g, &len);
	vh_http_add_header(req, "Cache-Control", "no-store");
	vh_http_respond(req, 200, CTYPE, s, len);
	free(s);
}

static void
scrape_work(struct vh_worker *w, void *arg)
{
	struct scrape_job	*j = arg;
	struct vh_metrics_gauges *g = &j->g;
	PGconn			*db;
	PGresult		*r;

	if ((db = vh_worker_db(w, &j->err)) == NULL)
		return;
	/* One statement: the values belong to one snapshot. */
	if ((r = vh_db_exec(db, "SELECT"
	    " count(*) FILTER (WHERE state = 'queued'),"
	    " count(*) FILTER (WHERE state = 'running'),"
	    " count(*) FILTER (WHERE state = 'done'),"
	    " count(*) FILTER (WHERE state = 'failed'),"
	    " coalesce(extract(epoch FROM now() - min(created_at)"
	    " FILTER (WHERE state = 'queued')), 0),"
	    " (SELECT count(*) FROM blob),"
	    " (SELECT coalesce(sum(size), 0) FROM blob)"
	    " FROM job", 0, NULL, &j->err)) == NULL)
		return;
	g->jobs_queued = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	g->jobs_running = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	g->jobs_done = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	g->jobs_failed = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
	g->oldest_queued_s = strtod(PQgetvalue(r, 0, 4), NULL);
	g->blob_files = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
	g->blob_bytes = strtoll(PQgetvalue(r, 0, 6), NULL, 10);
	g->db_ok = true;
	PQclear(r);
}

static void
scrape_done(void *arg)
{
	struct scrape_job	*j = arg;
	struct vh_api_metrics	*am = j->ctx->metrics;

	if (j->g.db_ok) {
		am->cache = j->g;
		am->cached_at = vh_now_ms();
	} else
		vh_log_warnx("req=%s metrics: %s", vh_http_req_id(j->req),
		    j->err != NULL ? j->err : "database unavailable");
	respond(j->ctx, j->req, &j->g);
	free(j->err);
	free(j);
}

void
vh_api_metrics_get(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	struct vh_api_metrics	*am = ctx->metrics;
	struct vh_metrics_gauges g;
	struct scrape_job	*j;
	int64_t			 now = vh_now_ms();

	if (am->cached_at != 0 && now - am->cached_at < CACHE_MS) {
		g = am->cache;
		g.db_age_s = (double)(now - am->cached_at) / 1000;
		respond(ctx, req, &g);
		return;
	}
	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->req = req;
	vh_pool_submit(ctx->pool, scrape_work, scrape_done, j);
}

int
vh_api_metrics_parse_listen(const char *s, char *host, size_t hostlen,
    int *port)
{
	const char	*colon, *h = s;
	size_t		 n;
	char		*end;
	long		 p;

	if (*s == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			return (VH_EINVAL);
		h = s + 1;
		n = (size_t)(colon - h);
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL)
			return (VH_EINVAL);
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= hostlen || colon[1] == '\0')
		return (VH_EINVAL);
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 0 || p > 65535)
		return (VH_EINVAL);
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (int)p;
	return (0);
}
