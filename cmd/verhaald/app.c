/*
 * The composition root: builds everything the daemon runs (worker pool,
 * blob store, HTTP servers, tus state, media runners, retention and the
 * other periodic tasks) and the handler context (struct vh_ctx) that the
 * route table hands to every handler. Nothing in lib/ includes this file;
 * lib/ gets what it needs from here, explicitly.
 *
 * The configuration is a chain of immutable snapshots: app->cfg is the
 * current one, and a reload (SIGHUP) builds the next from it, validated,
 * and swaps it in on the loop thread; the requests and jobs that started
 * with the old one hold a reference and keep it to their end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app.h"
#include "vh_api_metrics.h"
#include "vh_audit.h"
#include "vh_blobgc.h"
#include "vh_blobstore.h"
#include "vh_clientaddr.h"
#include "vh_ctx.h"
#include "vh_dbworker.h"
#include "vh_entry.h"
#include "vh_error.h"
#include "vh_jobs.h"
#include "vh_log.h"
#include "vh_migrate.h"
#include "vh_periodic.h"
#include "vh_pool.h"
#include "vh_ratelimit.h"
#include "vh_retention.h"
#include "vh_routes.h"
#include "vh_tus.h"
#include "vh_upload.h"
#include "vh_xmalloc.h"

struct vh_app {
	struct event_base	*base;
	struct vh_config	*cfg;		/* the current snapshot (a ref) */
	struct vh_pool		*pool;
	struct vh_dbworker	*dbw;
	struct vh_migrate_plan	*plan;
	struct vh_http_server	*http;
	struct vh_blobstore	*blobs;
	struct vh_ratelimit	*ratelimit;
	struct vh_tus		*tus;
	struct vh_jobs		*jobs;
	struct vh_retention	*retention;
	struct vh_clientaddr	*trust;
	struct vh_api_metrics	*metrics;
	struct vh_http_server	*metrics_http;
	bool			 metrics_tried;
	struct vh_ctx		 ctx;		/* what handlers get */

	/* periodic tasks (vh_periodic): the schema when the database was
	 * down at start, blob collection, the tus reaper */
	struct vh_periodic	*migrate;
	bool			 migrate_done;
	struct vh_periodic	*gc;
	bool			 gc_ran;
	struct vh_periodic	*reaper;
	int64_t			 started_ms;	/* monotonic, for the first sweep */
	bool			 reaper_ran;
};

#define MIGRATE_RETRY_MS 3000
#define GC_FIRST_MS	(60 * 1000)
#define GC_INTERVAL_MS	(3600 * 1000)
#define GC_GRACE_S	(24 * 3600)	/* far longer than any store takes */
#define REAP_FIRST_MS	1000
#define REAP_MS		(60 * 1000)	/* at most; and the litter sweep */

/* Blob collection: an hour apart, the first a minute after the start. */

struct gc_job {
	struct vh_blobstore	*blobs;
	int			 n;
	char			*err;
};

static int64_t
gc_interval(void *arg)
{
	struct vh_app *app = arg;

	return (app->gc_ran ? GC_INTERVAL_MS : GC_FIRST_MS);
}

static void *
gc_start(void *arg)
{
	struct vh_app	*app = arg;
	struct gc_job	*j = vh_xcalloc(1, sizeof *j);

	app->gc_ran = true;
	j->blobs = app->blobs;
	return (j);
}

static void
gc_work(struct vh_worker *w, void *arg)
{
	struct gc_job	*j = arg;
	PGconn		*db;

	if ((db = vh_worker_db(w, &j->err)) != NULL &&
	    vh_blobgc_collect(db, j->blobs, GC_GRACE_S, &j->n, &j->err) != 0)
		vh_log_warnx("blob gc: %s", j->err);
}

static void
gc_done(void *arg)
{
	struct gc_job *j = arg;

	if (j->n > 0)
		vh_log_info("blob gc: removed %d unreferenced blob(s)", j->n);
	free(j->err);
	free(j);
}

static const struct vh_periodic_ops gc_ops = {
	"blob gc", gc_interval, gc_start, gc_work, gc_done
};

/* The reaper of expired tus uploads, and of the files a crash left. */

struct reap_job {
	struct vh_blobstore	*blobs;
	int64_t			 litter_age_s;	/* 0: no sweep this run */
	int			 n;
	char			*err;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Once a minute, or as often as litter may be removed when that is
 * sooner: a bound on how long a crash's files stay. */
static int64_t
sweep_interval(const struct vh_app *app)
{
	int64_t ms = app->cfg->litter_age;

	return (ms < 1000 ? 1000 : ms > REAP_MS ? REAP_MS : ms);
}

static int64_t
reap_interval(void *arg)
{
	struct vh_app *app = arg;

	return (app->reaper_ran ? sweep_interval(app) : REAP_FIRST_MS);
}

static void *
reap_start(void *arg)
{
	struct vh_app	*app = arg;
	struct reap_job	*j = vh_xcalloc(1, sizeof *j);

	app->reaper_ran = true;
	vh_tus_trim(app->tus);
	j->blobs = app->blobs;
	/* Expired uploads go at once after a start; the first litter sweep
	 * waits one interval, so a restarted daemon sees its files settle. */
	if (now_ms() - app->started_ms >= sweep_interval(app) - 50)
		j->litter_age_s = app->cfg->litter_age / 1000;
	return (j);
}

static void
reap_work(struct vh_worker *w, void *arg)
{
	struct reap_job	*j = arg;
	PGconn		*db;
	int64_t		 folded;
	int		 swept = 0;

	if ((db = vh_worker_db(w, &j->err)) == NULL)
		return;
	if (vh_upload_reap(db, j->blobs, &j->n, &j->err) != 0) {
		vh_log_warnx("reaping uploads: %s", j->err);
		return;
	}
	/* The entry counts' deltas (schema/0026), so that the readers that
	 * sum them have few rows to scan. */
	if (vh_entry_count_fold(db, &folded, &j->err) != 0) {
		vh_log_warnx("folding entry counts: %s", j->err);
		free(j->err);
		j->err = NULL;
	}
	/* Crash litter too, so that a restart is clean within minutes. */
	if (j->litter_age_s > 0 && vh_blobgc_sweep(db, j->blobs,
	    j->litter_age_s, &swept, &j->err) != 0)
		vh_log_warnx("sweeping crash litter: %s", j->err);
	else if (swept > 0)
		vh_log_info("removed %d file(s) a crash left behind", swept);
}

static void
reap_done(void *arg)
{
	struct reap_job *j = arg;

	if (j->n > 0)
		vh_log_info("removed %d expired upload(s)", j->n);
	free(j->err);
	free(j);
}

static const struct vh_periodic_ops reap_ops = {
	"tus reaper", reap_interval, reap_start, reap_work, reap_done
};

/* Migrations when the database did not answer at start: every few
 * seconds until it does (or says the schema is newer than this build). */

struct migrate_job {
	struct vh_app	*app;
	int		 rc;
	char		*err;
};

static int64_t
migrate_interval(void *arg)
{
	struct vh_app *app = arg;

	return (app->migrate_done ? 0 : MIGRATE_RETRY_MS);
}

static void *
migrate_start(void *arg)
{
	struct migrate_job *j = vh_xcalloc(1, sizeof *j);

	j->app = arg;
	return (j);
}

static void
migrate_work(struct vh_worker *w, void *arg)
{
	struct migrate_job	*j = arg;
	PGconn			*db;

	if ((db = vh_worker_db(w, &j->err)) == NULL) {
		j->rc = VH_EDB;
		return;
	}
	/* The plan is made once and never changes: workers may read it. */
	j->rc = vh_migrate_apply(db, j->app->plan, NULL, NULL, &j->err);
}

static void
migrate_done(void *arg)
{
	struct migrate_job *j = arg;

	if (j->rc == 0)
		vh_log_info("database answers; schema is current");
	else if (j->rc == VH_ECONFLICT)
		vh_log_error("%s", j->err);
	if (j->rc == 0 || j->rc == VH_ECONFLICT)
		j->app->migrate_done = true;
	free(j->err);
	free(j);
}

static const struct vh_periodic_ops migrate_ops = {
	"migrations", migrate_interval, migrate_start, migrate_work,
	migrate_done
};

void
vh_app_migrate_later(struct vh_app *app)
{
	vh_periodic_start(app->migrate);
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
	vh_routes_dispatch(&app->ctx, req);
}

/* The metrics listener serves one resource, to anyone who can reach it:
 * keep it on loopback or a monitoring network. */
static void
metrics_dispatch(struct vh_http_req *req, void *arg)
{
	struct vh_app		*app = arg;
	enum vh_http_method	 m = vh_http_req_method(req);

	if (strcmp(vh_http_req_path(req), "/metrics") != 0)
		vh_http_respond_problem(req, 404, "not-found",
		    "this listener serves only /metrics");
	else if (m != VH_HTTP_GET && m != VH_HTTP_HEAD) {
		vh_http_add_header(req, "Allow", "GET, HEAD");
		vh_http_respond_problem(req, 405, "method-not-allowed",
		    "/metrics accepts GET and HEAD");
	} else
		vh_api_metrics_get(&app->ctx, req, NULL, NULL);
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
	app->started_ms = now_ms();
	/* Our own snapshot, finished here (an absolute data_dir) before
	 * anyone else sees it. */
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
	app->metrics = vh_api_metrics_new(vh_routes_each);
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
	app->tus = vh_tus_new();
	app->jobs = vh_jobs_new(app->cfg, app->blobs);
	app->ctx.base = base;
	app->ctx.pool = app->pool;
	app->ctx.blobs = app->blobs;
	app->ctx.ratelimit = app->ratelimit;
	app->ctx.tus = app->tus;
	app->ctx.metrics = app->metrics;
	app->ctx.plan = app->plan;
	app->ctx.http = app->http;
	app->ctx.cfg = app->cfg;

	app->retention = vh_retention_new(base, app->pool, app->blobs,
	    &app->ctx.cfg);
	app->migrate = vh_periodic_new(base, app->pool, &migrate_ops, app);
	app->gc = vh_periodic_new(base, app->pool, &gc_ops, app);
	vh_periodic_start(app->gc);
	app->reaper = vh_periodic_new(base, app->pool, &reap_ops, app);
	vh_periodic_start(app->reaper);
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
	app->ctx.http = NULL;
	/* Runners use the blob store: they go before it. */
	vh_jobs_free(app->jobs);
	/* A run in flight frees its task when the pool finishes it. */
	vh_periodic_free(app->migrate);
	vh_periodic_free(app->gc);
	vh_periodic_free(app->reaper);
	vh_retention_free(app->retention);
	/* The pool runs the completions still pending; they may use tus,
	 * so it goes after it. */
	vh_pool_free(app->pool);
	vh_dbworker_free(app->dbw);
	vh_tus_free(app->tus);
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

	/* Other verhaald processes may share the port: the kernel hands
	 * each new connection to one of them (docs/operations.md). */
	vh_http_server_reuseport(app->http, app->cfg->listen_reuseport);
	if ((rc = vh_http_server_listen(app->http, app->cfg->listen_address,
	    (int)app->cfg->listen_port, port, err)) != 0)
		return (rc);
	if (app->cfg->listen_reuseport)
		vh_log_info("listen_reuseport: port %d may be shared with other "
		    "verhaald processes", *port);
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

/*
 * A new snapshot from the running one and next (already validated by
 * vh_config_load), swapped in here on the loop thread; requests and jobs
 * that hold the old one keep it until they end, and it is freed with the
 * last of them.
 */
void
vh_app_reload(struct vh_app *app, const struct vh_config *next)
{
	struct vh_http_limits	 lim;
	struct vh_audit_actor	 a;
	struct vh_config	*old = app->cfg;
	char			*changed = vh_config_diff(old, next);

	if (changed != NULL) {
		vh_audit_actor_local(&a, "system");
		vh_audit_submit(app->pool, &a, "config_reload", "config", "",
		    changed);
		free(changed);
	}
	app->cfg = vh_config_reloaded(old, next);
	app->ctx.cfg = app->cfg;
	vh_config_free(old);
	vh_log_set_level(app->cfg->log_level);
	limits_from(app->cfg, &lim);
	vh_http_server_set_limits(app->http, &lim);
}

void
vh_app_shutdown(struct vh_app *app, void (*done)(void *), void *arg)
{
	app->migrate_done = true;	/* no further try */
	vh_periodic_free(app->migrate);
	app->migrate = NULL;
	vh_jobs_stop(app->jobs);
	vh_http_server_free(app->metrics_http);
	app->metrics_http = NULL;
	vh_http_server_drain(app->http, done, arg);
}

struct vh_ctx *
vh_app_ctx(struct vh_app *app)
{
	return (&app->ctx);
}
