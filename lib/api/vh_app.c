/*
 * The application object ties the daemon together: it owns a copy of the
 * configuration, the worker pool, the migration plan and the HTTP server,
 * and routes each request through the table in vh_routes.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vh_api_metrics.h"
#include "vh_app.h"
#include "vh_audit.h"
#include "vh_clientaddr.h"
#include "vh_blobgc.h"
#include "vh_blobstore.h"
#include "vh_dbworker.h"
#include "vh_ratelimit.h"
#include "vh_retention.h"
#include "vh_tus.h"
#include "vh_error.h"
#include "vh_jobs.h"
#include "vh_log.h"
#include "vh_migrate.h"
#include "vh_pool.h"
#include "vh_routes.h"
#include "vh_xmalloc.h"

struct vh_app {
	struct event_base	*base;
	struct vh_config	*cfg;
	struct vh_pool		*pool;
	struct vh_dbworker	*dbw;
	struct vh_migrate_plan	*plan;
	struct vh_http_server	*http;
	struct event		*migrate_timer;
	struct vh_blobstore	*blobs;
	struct vh_ratelimit	*ratelimit;
	struct vh_tus		*tus;
	struct vh_jobs		*jobs;
	struct event		*gc_timer;
	struct vh_retention	*retention;
	struct vh_clientaddr	*trust;
	struct vh_api_metrics	*metrics;
	struct vh_http_server	*metrics_http;
	bool			 metrics_tried;
};

#define MIGRATE_RETRY_MS 3000
#define GC_INTERVAL_S	3600
#define GC_GRACE_S	(24 * 3600)	/* far longer than any store takes */

struct gc_job {
	struct vh_app	*app;
	int		 n;
	char		*err;
};

static void
gc_work(struct vh_worker *w, void *arg)
{
	struct gc_job	*j = arg;
	PGconn		*db;

	if ((db = vh_worker_db(w, &j->err)) != NULL &&
	    vh_blobgc_collect(db, j->app->blobs, GC_GRACE_S, &j->n, &j->err) != 0)
		vh_log_warnx("blob gc: %s", j->err);
}

static void
gc_done(void *arg)
{
	struct gc_job	*j = arg;
	struct timeval	 tv = { GC_INTERVAL_S, 0 };

	if (j->n > 0)
		vh_log_info("blob gc: removed %d unreferenced blob(s)", j->n);
	evtimer_add(j->app->gc_timer, &tv);
	free(j->err);
	free(j);
}

static void
gc_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gc_job *j = vh_xcalloc(1, sizeof *j);

	j->app = arg;
	vh_pool_submit(j->app->pool, gc_work, gc_done, j);
}

struct migrate_job {
	struct vh_app	*app;
	int		 rc;
	char		*err;
};

static void
migrate_work(struct vh_worker *w, void *arg)
{
	struct migrate_job	*j = arg;
	PGconn			*db;

	if ((db = vh_worker_db(w, &j->err)) == NULL) {
		j->rc = VH_EDB;
		return;
	}
	j->rc = vh_migrate_apply(db, j->app->plan, NULL, NULL, &j->err);
}

static void
migrate_done(void *arg)
{
	struct migrate_job	*j = arg;
	struct timeval		 tv = { MIGRATE_RETRY_MS / 1000, 0 };

	if (j->rc == 0)
		vh_log_info("database answers; schema is current");
	else if (j->rc == VH_ECONFLICT)
		vh_log_error("%s", j->err);
	else
		evtimer_add(j->app->migrate_timer, &tv);
	free(j->err);
	free(j);
}

static void
migrate_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct migrate_job *j;

	j = vh_xcalloc(1, sizeof *j);
	j->app = arg;
	vh_pool_submit(j->app->pool, migrate_work, migrate_done, j);
}

void
vh_app_migrate_later(struct vh_app *app)
{
	struct timeval tv = { MIGRATE_RETRY_MS / 1000, 0 };

	evtimer_add(app->migrate_timer, &tv);
}

static void
limits_from(const struct vh_config *cfg, struct vh_http_limits *lim)
{
	lim->max_connections = cfg->max_connections;
	lim->max_conns_per_addr = cfg->max_connections_per_address;
	lim->max_header_size = cfg->max_header_size;
	lim->max_uri_length = cfg->max_uri_length;
	lim->max_body = cfg->max_upload_size;
	lim->header_timeout_ms = cfg->header_timeout;
	lim->idle_timeout_ms = cfg->idle_timeout;
	lim->body_timeout_ms = cfg->body_timeout;
	lim->body_min_rate = cfg->body_min_rate;
	lim->shutdown_timeout_ms = cfg->shutdown_timeout;
}

static void
dispatch(struct vh_http_req *req, void *arg)
{
	struct vh_app *app = arg;

	vh_api_metrics_begin(app->metrics, req);
	vh_routes_dispatch(app, req);
}

/* The metrics listener serves one resource, to anyone who can reach it:
 * keep it on loopback or a monitoring network. */
static void
metrics_dispatch(struct vh_http_req *req, void *arg)
{
	enum vh_http_method m = vh_http_req_method(req);

	if (strcmp(vh_http_req_path(req), "/metrics") != 0)
		vh_http_respond_problem(req, 404, "not-found",
		    "this listener serves only /metrics");
	else if (m != VH_HTTP_GET && m != VH_HTTP_HEAD) {
		vh_http_add_header(req, "Allow", "GET, HEAD");
		vh_http_respond_problem(req, 405, "method-not-allowed",
		    "/metrics accepts GET and HEAD");
	} else
		vh_api_metrics_get(arg, req, NULL, NULL);
}

/* mkdir -p */
static int
make_dirs(const char *path, char **err)
{
	char	*p = vh_xstrdup(path);

	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0750) == -1 && errno != EEXIST) {
			*err = vh_xasprintf("cannot create %s: %s", p,
			    strerror(errno));
			free(p);
			return (VH_EIO);
		}
		if ((*s = c) == '\0')
			break;
	}
	free(p);
	return (0);
}

struct vh_app *
vh_app_new(struct event_base *base, const struct vh_config *cfg, char **err)
{
	struct vh_app		*app;
	struct vh_http_limits	 lim;
	char			*abs;

	app = vh_xcalloc(1, sizeof *app);
	app->base = base;
	app->cfg = vh_config_dup(cfg);
	if ((app->plan = vh_migrate_plan_new(vh_schema_migrations,
	    vh_schema_nmigrations, err)) == NULL)
		goto fail;
	if (make_dirs(app->cfg->data_dir, err) != 0)
		goto fail;
	/* Workers and spool paths must not depend on the cwd. */
	if ((abs = realpath(app->cfg->data_dir, NULL)) != NULL) {
		free(app->cfg->data_dir);
		app->cfg->data_dir = abs;
	}
	if ((app->blobs = vh_blobstore_new(app->cfg->data_dir, err)) == NULL)
		goto fail;
	if ((app->trust = vh_clientaddr_new(app->cfg->trusted_proxies,
	    err)) == NULL)
		goto fail;
	app->metrics = vh_api_metrics_new();
	app->ratelimit = vh_ratelimit_new(3600 * 1000);
	app->dbw = vh_dbworker_new(app->cfg->database_url,
	    app->cfg->db_timeout);
	app->pool = vh_pool_new(base, (int)app->cfg->workers, app->dbw,
	    vh_dbworker_state_free);
	limits_from(app->cfg, &lim);
	app->http = vh_http_server_new(base, &lim, dispatch, app);
	vh_http_server_observe(app->http, vh_api_metrics_observe, NULL);
	vh_http_server_trust(app->http, app->trust);
	if (app->cfg->metrics_listen[0] != '\0')
		app->metrics_http = vh_http_server_new(base, &lim,
		    metrics_dispatch, app);
	app->migrate_timer = evtimer_new(base, migrate_timer_cb, app);
	app->tus = vh_tus_new(app);
	app->jobs = vh_jobs_new(app->cfg, app->blobs);
	app->retention = vh_retention_new(base, app->pool, app->blobs,
	    app->cfg);
	app->gc_timer = evtimer_new(base, gc_timer_cb, app);
	{
		struct timeval tv = { 60, 0 };

		evtimer_add(app->gc_timer, &tv);
	}
	return (app);
fail:
	vh_app_free(app);
	return (NULL);
}

void
vh_app_free(struct vh_app *app)
{
	if (app == NULL)
		return;
	vh_http_server_free(app->http);
	vh_http_server_free(app->metrics_http);
	/* A scrape the pool still finishes below asks for these. */
	app->http = app->metrics_http = NULL;
	/* Runners use the blob store: they go before it. */
	vh_jobs_free(app->jobs);
	/* The pool runs the completions still pending; they may re-arm
	 * timers and use tus, so those go after it. */
	vh_pool_free(app->pool);
	vh_dbworker_free(app->dbw);
	if (app->migrate_timer != NULL)
		event_free(app->migrate_timer);
	if (app->gc_timer != NULL)
		event_free(app->gc_timer);
	vh_tus_free(app->tus);
	vh_retention_free(app->retention);
	vh_ratelimit_free(app->ratelimit);
	vh_blobstore_free(app->blobs);
	vh_migrate_plan_free(app->plan);
	/* Orphaned requests held these until the pool finished them. */
	vh_clientaddr_free(app->trust);
	vh_api_metrics_free(app->metrics);
	vh_config_free(app->cfg);
	free(app);
}

/*
 * The metrics listener is an aid, not the service: a port already taken
 * (a second daemon on the host) is logged and the daemon runs without it.
 */
static void
start_metrics(struct vh_app *app)
{
	char	 host[64], *err = NULL;
	int	 port, bound;

	if (app->metrics_http == NULL || app->metrics_tried)
		return;
	app->metrics_tried = true;
	if (vh_api_metrics_parse_listen(app->cfg->metrics_listen, host,
	    sizeof host, &port) != 0)
		err = vh_xasprintf("metrics_listen '%s' is not address:port",
		    app->cfg->metrics_listen);
	else if (vh_http_server_listen(app->metrics_http, host, port, &bound,
	    &err) == 0) {
		vh_log_info("metrics on http://%s%s%s:%d/metrics",
		    strchr(host, ':') != NULL ? "[" : "", host,
		    strchr(host, ':') != NULL ? "]" : "", bound);
		return;
	}
	vh_log_warnx("no metrics listener: %s", err);
	free(err);
	vh_http_server_free(app->metrics_http);
	app->metrics_http = NULL;
}

int
vh_app_start(struct vh_app *app, int *port, char **err)
{
	int rc;

	if ((rc = vh_http_server_listen(app->http, app->cfg->listen_address,
	    (int)app->cfg->listen_port, port, err)) != 0)
		return (rc);
	start_metrics(app);
	return (0);
}

int
vh_app_start_jobs(struct vh_app *app, char **err)
{
	/* A --jobs-only process serves its runners' metrics too. */
	start_metrics(app);
	return (vh_jobs_start(app->jobs, err));
}

void
vh_app_reload(struct vh_app *app, const struct vh_config *next)
{
	struct vh_http_limits	 lim;
	struct vh_audit_actor	 a;
	char			*changed = vh_config_diff(app->cfg, next);

	if (changed != NULL) {
		vh_audit_actor_local(&a, "system");
		vh_audit_submit(app->pool, &a, "config_reload", "config", "",
		    changed);
		free(changed);
	}
	vh_config_reload(app->cfg, next);
	vh_log_set_level(app->cfg->log_level);
	limits_from(app->cfg, &lim);
	vh_http_server_set_limits(app->http, &lim);
}

void
vh_app_shutdown(struct vh_app *app, void (*done)(void *), void *arg)
{
	evtimer_del(app->migrate_timer);
	vh_jobs_stop(app->jobs);
	vh_http_server_free(app->metrics_http);
	app->metrics_http = NULL;
	vh_http_server_drain(app->http, done, arg);
}

const struct vh_config *
vh_app_config(const struct vh_app *app)
{
	return (app->cfg);
}

struct vh_pool *
vh_app_pool(const struct vh_app *app)
{
	return (app->pool);
}

const struct vh_migrate_plan *
vh_app_plan(const struct vh_app *app)
{
	return (app->plan);
}

struct vh_blobstore *
vh_app_blobstore(const struct vh_app *app)
{
	return (app->blobs);
}

struct vh_ratelimit *
vh_app_ratelimit(const struct vh_app *app)
{
	return (app->ratelimit);
}

struct vh_tus *
vh_app_tus(const struct vh_app *app)
{
	return (app->tus);
}

struct vh_api_metrics *
vh_app_metrics(const struct vh_app *app)
{
	return (app->metrics);
}

int
vh_app_connections(const struct vh_app *app)
{
	return (app->http != NULL ? vh_http_server_nconns(app->http) : 0);
}

struct event_base *
vh_app_base(const struct vh_app *app)
{
	return (app->base);
}
