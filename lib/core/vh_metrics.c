/*
 * Metrics. Every series is a fixed slot in static arrays of atomic
 * counters, so an update from any thread is one relaxed fetch-add: no
 * lock, no allocation, no lookup by name. Requests are counted per route
 * slot (registered from the route table at start) and per status from a
 * fixed list; histograms keep cumulative-free bucket counts and a sum in
 * microseconds, turned into Prometheus' cumulative "le" buckets only when
 * rendered. Rendering reads each counter once; a scrape racing an update
 * may see a count and a sum one event apart, which Prometheus tolerates.
 *
 * The registry is process-wide on purpose, like the log sink: a counter
 * bumped by the worker pool, the runners and the HTTP server alike has no
 * better owner, and threading a handle through each would change many
 * constructors for no gain in clarity.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_metrics.h"
#include "vh_xmalloc.h"

#define MAX_BUCKETS	16

typedef _Atomic uint64_t counter;

struct hist {
	counter		 bucket[MAX_BUCKETS + 1];	/* last: above all */
	counter		 count;
	counter		 sum_us;
};

/* Upper bounds in seconds. */
static const double http_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5, 1, 2.5, 5, 10, 30, 60 };
static const double media_bounds[] = { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    60, 120, 300, 600 };
static const double wait_bounds[] = { 0.0001, 0.0005, 0.001, 0.005, 0.01,
    0.05, 0.1, 0.5, 1, 5 };
#define NB(a)	(sizeof a / sizeof a[0])

/* Every status verhaald sends; anything else counts as "other". */
static const int statuses[] = { 100, 200, 201, 204, 206, 304, 400, 401, 403,
    404, 405, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 422, 429,
    431, 460, 500, 501, 503, 505, 507 };
#define NSTATUS	(NB(statuses) + 1)

static const char *const families[] = { "none", "audio", "image", "text",
    "pdf" };
#define NFAMILY	NB(families)
static const char *const outcomes[VH_OUTCOME_MAX] = { "ready", "rejected",
    "gone", "lease_lost", "error" };
static const char *const limits[VH_LIMIT_MAX] = { "login", "upload_link",
    "withdraw" };

struct route {
	const char	*method, *pattern;
};

static struct {
	counter		 plain[VH_METRIC_MAX];
	counter		 refusals[VH_LIMIT_MAX];
	_Atomic int64_t	 uploads;
	struct hist	 pool_wait;
	struct hist	 media[NFAMILY][VH_OUTCOME_MAX];
	counter		 requests[VH_METRICS_MAX_ROUTES][NSTATUS];
	struct hist	 duration[VH_METRICS_MAX_ROUTES];
	/* Written at start, before any request: read-only afterwards. */
	struct route	 routes[VH_METRICS_MAX_ROUTES];
	int		 nroutes;
} m = { .routes = { { "", "unmatched" } }, .nroutes = 1 };

static void
inc(counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t
get(counter *c)
{
	return (atomic_load_explicit(c, memory_order_relaxed));
}

static void
observe(struct hist *h, const double *bounds, size_t nb, int64_t us)
{
	size_t	i;

	if (us < 0)
		us = 0;
	for (i = 0; i < nb; i++)
		if ((double)us <= bounds[i] * 1e6)
			break;
	inc(&h->bucket[i], 1);
	inc(&h->count, 1);
	inc(&h->sum_us, (uint64_t)us);
}

void
vh_metrics_add(enum vh_metric which, uint64_t n)
{
	if (which < VH_METRIC_MAX)
		inc(&m.plain[which], n);
}

void
vh_metrics_refusal(enum vh_metric_limit which)
{
	if (which < VH_LIMIT_MAX)
		inc(&m.refusals[which], 1);
}

void
vh_metrics_media(int family, enum vh_metric_outcome outcome, int64_t us)
{
	if (family < 0 || (size_t)family >= NFAMILY)
		family = 0;
	if (outcome >= VH_OUTCOME_MAX)
		outcome = VH_OUTCOME_ERROR;
	observe(&m.media[family][outcome], media_bounds, NB(media_bounds), us);
}

void
vh_metrics_pool_wait(int64_t us)
{
	observe(&m.pool_wait, wait_bounds, NB(wait_bounds), us);
}

void
vh_metrics_uploads(int delta)
{
	atomic_fetch_add_explicit(&m.uploads, delta, memory_order_relaxed);
}

int
vh_metrics_route(const char *method, const char *pattern)
{
	for (int i = 1; i < m.nroutes; i++)
		if (strcmp(m.routes[i].method, method) == 0 &&
		    strcmp(m.routes[i].pattern, pattern) == 0)
			return (i);
	if (m.nroutes == VH_METRICS_MAX_ROUTES)
		return (0);		/* counted as unmatched */
	m.routes[m.nroutes].method = method;
	m.routes[m.nroutes].pattern = pattern;
	return (m.nroutes++);
}

void
vh_metrics_request(int slot, int status, int64_t us)
{
	size_t	s;

	if (slot < 0 || slot >= m.nroutes)
		slot = 0;
	for (s = 0; s < NB(statuses); s++)
		if (statuses[s] == status)
			break;
	inc(&m.requests[slot][s], 1);
	observe(&m.duration[slot], http_bounds, NB(http_bounds), us);
}

void
vh_metrics_reset(void)
{
	struct route	routes[VH_METRICS_MAX_ROUTES];
	int		n = m.nroutes;

	memcpy(routes, m.routes, sizeof routes);
	memset(&m, 0, sizeof m);
	memcpy(m.routes, routes, sizeof routes);
	m.nroutes = n;
}

/* Rendering */

struct out {
	char	*s;
	size_t	 len, cap;
};

static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->s + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < o->cap - o->len)
			break;
		o->cap = (o->cap + (size_t)n) * 2;
		o->s = vh_xreallocarray(o->s, o->cap, 1);
	}
	o->len += (size_t)n;
}

static void
head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A histogram series; labels is "" or 'a="b",' with the trailing comma. */
static void
put_hist(struct out *o, const char *name, const char *labels, struct hist *h,
    const double *bounds, size_t nb)
{
	uint64_t	cum = 0;

	for (size_t i = 0; i < nb; i++) {
		cum += get(&h->bucket[i]);
		put(o, "%s_bucket{%sle=\"%g\"} %" PRIu64 "\n", name, labels,
		    bounds[i], cum);
	}
	cum += get(&h->bucket[nb]);
	put(o, "%s_bucket{%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, cum);
	if (labels[0] == '\0') {
		put(o, "%s_sum %.6f\n", name, (double)get(&h->sum_us) / 1e6);
		put(o, "%s_count %" PRIu64 "\n", name, cum);
		return;
	}
	/* The labels without their trailing comma. */
	put(o, "%s_sum{%.*s} %.6f\n", name, (int)strlen(labels) - 1, labels,
	    (double)get(&h->sum_us) / 1e6);
	put(o, "%s_count{%.*s} %" PRIu64 "\n", name, (int)strlen(labels) - 1,
	    labels, cum);
}

static void
render_http(struct out *o)
{
	char	labels[512];
	uint64_t n;

	head(o, "verhaal_http_requests_total", "counter",
	    "HTTP requests answered, by route template and status");
	for (int r = 0; r < m.nroutes; r++)
		for (size_t s = 0; s < NSTATUS; s++) {
			if ((n = get(&m.requests[r][s])) == 0)
				continue;
			if (s < NB(statuses))
				put(o, "verhaal_http_requests_total{method=\"%s\","
				    "route=\"%s\",status=\"%d\"} %" PRIu64 "\n",
				    m.routes[r].method, m.routes[r].pattern,
				    statuses[s], n);
			else
				put(o, "verhaal_http_requests_total{method=\"%s\","
				    "route=\"%s\",status=\"other\"} %" PRIu64
				    "\n", m.routes[r].method,
				    m.routes[r].pattern, n);
		}
	head(o, "verhaal_http_request_duration_seconds", "histogram",
	    "time from a request's head to its answer, by route template");
	for (int r = 0; r < m.nroutes; r++) {
		if (get(&m.duration[r].count) == 0)
			continue;
		snprintf(labels, sizeof labels, "method=\"%s\",route=\"%s\",",
		    m.routes[r].method, m.routes[r].pattern);
		put_hist(o, "verhaal_http_request_duration_seconds", labels,
		    &m.duration[r], http_bounds, NB(http_bounds));
	}
	head(o, "verhaal_http_request_body_bytes_total", "counter",
	    "request body bytes received");
	put(o, "verhaal_http_request_body_bytes_total %" PRIu64 "\n",
	    get(&m.plain[VH_METRIC_BYTES_IN]));
	head(o, "verhaal_http_response_body_bytes_total", "counter",
	    "response body bytes sent");
	put(o, "verhaal_http_response_body_bytes_total %" PRIu64 "\n",
	    get(&m.plain[VH_METRIC_BYTES_OUT]));
}

static void
render_db(struct out *o, const struct vh_metrics_gauges *g)
{
	head(o, "verhaal_metrics_database_up", "gauge",
	    "1 when the database-derived values below could be read");
	put(o, "verhaal_metrics_database_up %d\n", g->db_ok ? 1 : 0);
	if (!g->db_ok)
		return;
	head(o, "verhaal_metrics_database_age_seconds", "gauge",
	    "how old the cached database-derived values are");
	put(o, "verhaal_metrics_database_age_seconds %.3f\n", g->db_age_s);
	head(o, "verhaal_jobs", "gauge", "media jobs in the queue, by state");
	put(o, "verhaal_jobs{state=\"queued\"} %" PRId64 "\n", g->jobs_queued);
	put(o, "verhaal_jobs{state=\"running\"} %" PRId64 "\n", g->jobs_running);
	put(o, "verhaal_jobs{state=\"done\"} %" PRId64 "\n", g->jobs_done);
	put(o, "verhaal_jobs{state=\"failed\"} %" PRId64 "\n", g->jobs_failed);
	head(o, "verhaal_jobs_oldest_queued_age_seconds", "gauge",
	    "age of the oldest queued media job (0 when none waits)");
	put(o, "verhaal_jobs_oldest_queued_age_seconds %.3f\n",
	    g->oldest_queued_s);
	head(o, "verhaal_blob_files", "gauge", "files in the blob store");
	put(o, "verhaal_blob_files %" PRId64 "\n", g->blob_files);
	head(o, "verhaal_blob_bytes", "gauge", "bytes in the blob store");
	put(o, "verhaal_blob_bytes %" PRId64 "\n", g->blob_bytes);
}

char *
vh_metrics_render(const struct vh_metrics_gauges *g, size_t *len)
{
	struct out	 o = { vh_xmalloc(16384), 0, 16384 };
	char		 labels[128];

	o.s[0] = '\0';
	render_http(&o);
	head(&o, "verhaal_http_open_connections", "gauge",
	    "client connections open now");
	put(&o, "verhaal_http_open_connections %" PRId64 "\n",
	    g->open_connections);
	head(&o, "verhaal_uploads_in_progress", "gauge",
	    "upload request bodies being received now");
	put(&o, "verhaal_uploads_in_progress %" PRId64 "\n",
	    atomic_load_explicit(&m.uploads, memory_order_relaxed));
	head(&o, "verhaal_tus_received_bytes_total", "counter",
	    "bytes received by tus PATCH and creation-with-upload requests");
	put(&o, "verhaal_tus_received_bytes_total %" PRIu64 "\n",
	    get(&m.plain[VH_METRIC_TUS_BYTES]));
	head(&o, "verhaal_login_failures_total", "counter",
	    "logins refused for a wrong name or password or a disabled account");
	put(&o, "verhaal_login_failures_total %" PRIu64 "\n",
	    get(&m.plain[VH_METRIC_LOGIN_FAILURES]));
	head(&o, "verhaal_rate_limit_refusals_total", "counter",
	    "requests refused with 429 by a rate limit, by limit");
	for (int i = 0; i < VH_LIMIT_MAX; i++)
		put(&o, "verhaal_rate_limit_refusals_total{limit=\"%s\"} %"
		    PRIu64 "\n", limits[i], get(&m.refusals[i]));
	head(&o, "verhaal_db_pool_waits_total", "counter",
	    "worker-pool jobs (each worker holds a database connection) "
	    "queued while no worker was idle");
	put(&o, "verhaal_db_pool_waits_total %" PRIu64 "\n",
	    get(&m.plain[VH_METRIC_POOL_WAITS]));
	head(&o, "verhaal_db_pool_wait_seconds", "histogram",
	    "time a worker-pool job waited for a worker");
	put_hist(&o, "verhaal_db_pool_wait_seconds", "", &m.pool_wait,
	    wait_bounds, NB(wait_bounds));
	head(&o, "verhaal_runner_busy_seconds_total", "counter",
	    "time media runners spent running jobs");
	put(&o, "verhaal_runner_busy_seconds_total %.6f\n",
	    (double)get(&m.plain[VH_METRIC_RUNNER_BUSY_US]) / 1e6);
	head(&o, "verhaal_media_processing_duration_seconds", "histogram",
	    "time a media job took, by media family and outcome");
	for (size_t f = 0; f < NFAMILY; f++)
		for (int r = 0; r < VH_OUTCOME_MAX; r++) {
			if (get(&m.media[f][r].count) == 0)
				continue;
			snprintf(labels, sizeof labels, "family=\"%s\","
			    "outcome=\"%s\",", families[f], outcomes[r]);
			put_hist(&o, "verhaal_media_processing_duration_seconds",
			    labels, &m.media[f][r], media_bounds,
			    NB(media_bounds));
		}
	render_db(&o, g);
	*len = o.len;
	return (o.s);
}
