/*
 * verhaald: the ingestion daemon. Reads its configuration (file, then
 * VERHAAL_<KEY> environment variables), applies pending migrations, and
 * runs the event loop until SIGTERM or SIGINT, which drain in-flight
 * requests first. SIGHUP reloads the reloadable keys.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "app.h"
#include "vh_unused.h"
#include "vh_config.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_migrate.h"
#include "vh_routes.h"
#include "vh_version.h"
#include "vh_xmalloc.h"

extern char **environ;

struct daemon {
	struct event_base	*base;
	struct vh_app		*app;
	const char		*config_path;
	bool			 stopping;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: verhaald [-n] [-c file] [--get key] [--routes] [--jobs-only]\n"
	    "       verhaald --version\n"
	    "  -c file      configuration file (default: built-in defaults)\n"
	    "  -n           check the configuration and exit\n"
	    "  --get key    print the effective value of a key and exit\n"
	    "  --routes     print the route table (method, path, access) and exit\n"
	    "  --jobs-only  run media runners only, no HTTP server\n"
	    "  --version    print the version and the newest schema migration\n");
	exit(2);
}

/*
 * Makes data_dir (and its parents) and writes and removes a file in it, so
 * that a directory verhaald cannot use stops it at once with a message
 * naming the directory, instead of failing the first upload.
 */
static int
check_data_dir(const char *dir)
{
	char	*p = NULL, probe[4096];
	int	 fd;

	if (*dir == '\0') {
		vh_log_error("data_dir is empty; set it to a directory");
		return (-1);
	}
	p = vh_xstrdup(dir);
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0750) == -1 && errno != EEXIST) {
			vh_log_error("data directory %s cannot be created "
			    "(%s: %s); create it for uid %d or set data_dir",
			    dir, p, strerror(errno), (int)geteuid());
			free(p);
			return (-1);
		}
		if ((*s = c) == '\0')
			break;
	}
	free(p);
	snprintf(probe, sizeof probe, "%s/.verhaald-write-test.%d", dir,
	    (int)getpid());
	if ((fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		vh_log_error("data directory %s is not writable: %s; give uid "
		    "%d write access to it or set data_dir", dir,
		    strerror(errno), (int)geteuid());
		return (-1);
	}
	close(fd);
	unlink(probe);
	return (0);
}

/*
 * After the listener could not be set up: binds a socket to the same
 * address to learn why, and says it in words an operator can act on.
 */
static void
explain_listen(const char *addr, int port, bool reuseport, const char *err)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, one = 1, e = 0;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		len = sizeof *sin;
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof *sin6;
	} else {
		vh_log_error("%s", err);
		return;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&ss, len) == -1)
			e = errno;
		close(fd);
	}
	if (e == EADDRINUSE)
		vh_log_error("port %d on %s is already in use (another verhaald "
		    "or make run?); stop that one or set listen_port%s", port,
		    addr, reuseport ? " (processes share a port only if every "
		    "one of them sets listen_reuseport)" : "");
	else if (e == EACCES)
		vh_log_error("not allowed to listen on port %d on %s: ports "
		    "below 1024 need root or CAP_NET_BIND_SERVICE; set "
		    "listen_port", port, addr);
	else if (e == EADDRNOTAVAIL)
		vh_log_error("listen_address %s is not an address of this "
		    "machine; set listen_address", addr);
	else
		vh_log_error("%s", err);
}

/* One line of --routes: "METHOD PATTERN ACCESS". */
static void
print_route(enum vh_http_method m, const char *pattern, unsigned access,
    void *arg VH_UNUSED)
{
	char *a = vh_route_access_name(access);

	printf("%-7s %-40s %s\n", vh_route_method_name(m), pattern, a);
	free(a);
}

static void
on_migrated(int version VH_UNUSED, const char *name, void *arg VH_UNUSED)
{
	vh_log_info("applied migration %s", name);
}

/* A database without any account cannot be signed in to: say how to
 * make the first one (make run does it by itself). */
static void
hint_first_run(PGconn *db)
{
	PGresult *r = PQexec(db, "SELECT NOT EXISTS (SELECT 1 FROM account)");

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	    strcmp(PQgetvalue(r, 0, 0), "t") == 0)
		vh_log_warnx("no account exists yet: `verhaalctl first-run` "
		    "creates the first admin and prints its password once");
	PQclear(r);
}

/*
 * Brings the schema up to date before serving. A database that does not
 * answer yet is not fatal (readyz says so, and *later is set so that the
 * migrations are applied once it answers); one whose schema is newer than
 * this build is.
 */
static int
migrate_at_start(const struct vh_config *cfg, bool *later)
{
	struct vh_migrate_plan	*plan;
	PGconn			*db;
	char			*err = NULL;
	int			 rc;

	if ((plan = vh_migrate_plan_new(vh_schema_migrations,
	    vh_schema_nmigrations, &err)) == NULL) {
		vh_log_error("%s", err);
		free(err);
		return (-1);
	}
	if ((db = vh_db_connect(cfg->database_url, cfg->db_timeout, &err)) == NULL) {
		vh_log_warnx("database not available at start (%s); /readyz "
		    "answers 503 until it is", err);
		*later = cfg->migrate_on_start;
		free(err);
		vh_migrate_plan_free(plan);
		return (0);
	}
	if (cfg->migrate_on_start)
		rc = vh_migrate_apply(db, plan, on_migrated, NULL, &err);
	else {
		rc = vh_migrate_check(db, plan, &err);
		if (rc == VH_EAGAIN) {
			vh_log_warnx("%s; run verhaalctl migrate", err);
			rc = 0;
		}
	}
	if (rc != 0) {
		vh_log_error("%s", err);
		free(err);
	} else
		hint_first_run(db);
	PQfinish(db);
	vh_migrate_plan_free(plan);
	return (rc == 0 ? 0 : -1);
}

static void
drained(void *arg)
{
	struct daemon *d = arg;

	vh_log_info("shutdown complete");
	event_base_loopexit(d->base, NULL);
}

static void
on_stop(evutil_socket_t sig, short what VH_UNUSED, void *arg)
{
	struct daemon *d = arg;

	if (d->stopping) {
		vh_log_warnx("second signal: exiting now");
		event_base_loopexit(d->base, NULL);
		return;
	}
	d->stopping = true;
	vh_log_info("%s: finishing in-flight requests", strsignal((int)sig));
	vh_app_shutdown(d->app, drained, d);
}

static void
on_hup(evutil_socket_t sig VH_UNUSED, short what VH_UNUSED, void *arg)
{
	struct daemon		*d = arg;
	struct vh_config	*next;
	char			*err = NULL;

	if ((next = vh_config_load(d->config_path, environ, &err)) == NULL) {
		vh_log_warnx("reload refused, keeping the running config: %s",
		    err);
		free(err);
		return;
	}
	vh_log_info("reloading configuration");
	vh_app_reload(d->app, next);
	vh_config_free(next);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "get", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ "routes", no_argument, NULL, 'r' },
		{ "jobs-only", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon		 d = { 0 };
	struct vh_config	*cfg;
	struct event		*sigs[4];
	const char		*get = NULL;
	char			*err = NULL, *v;
	bool			 check = false, later = false, jobs_only = false;
	int			 ch, port, rc = 1;

	while ((ch = getopt_long(argc, argv, "c:nh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': d.config_path = optarg; break;
		case 'n': check = true; break;
		case 'g': get = optarg; break;
		case 'r':
			/* The table itself, for docs and the access-matrix test. */
			vh_routes_each(print_route, NULL);
			return (0);
		case 'j': jobs_only = true; break;
		case 'V':
			printf("verhaald %s (schema %s)\n", VH_VERSION,
			    vh_schema_migrations[vh_schema_nmigrations - 1].name);
			return (0);
		default: usage();
		}
	}
	if (optind != argc)
		usage();

	if ((cfg = vh_config_load(d.config_path, environ, &err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return (1);
	}
	if (check) {
		printf("%s: configuration ok\n", d.config_path != NULL ?
		    d.config_path : "(defaults)");
		vh_config_free(cfg);
		return (0);
	}
	if (get != NULL) {
		if ((v = vh_config_get(cfg, get)) == NULL) {
			fprintf(stderr, "verhaald: unknown key '%s'\n", get);
			vh_config_free(cfg);
			return (1);
		}
		printf("%s\n", v);
		free(v);
		vh_config_free(cfg);
		return (0);
	}

	vh_log_set_sink(cfg->log_format == VH_LOG_JSON ? vh_log_json_sink :
	    vh_log_stderr_sink, NULL);
	vh_log_set_level(cfg->log_level);
	vh_log_capture_libevent();
	evthread_use_pthreads();
	signal(SIGPIPE, SIG_IGN);

	/* Exit statuses from sysexits.h, documented in verhaald(8). */
	if (check_data_dir(cfg->data_dir) != 0) {
		rc = EX_CANTCREAT;
		goto fail;
	}
	if (migrate_at_start(cfg, &later) != 0)
		goto fail;
	d.base = event_base_new();
	if ((d.app = vh_app_new(d.base, cfg, &err)) == NULL) {
		vh_log_error("%s", err);
		goto fail;
	}
	if (!jobs_only && vh_app_start(d.app, &port, &err) != 0) {
		explain_listen(cfg->listen_address, (int)cfg->listen_port,
		    cfg->listen_reuseport, err);
		rc = EX_UNAVAILABLE;
		goto fail;
	}
	if (vh_app_start_jobs(d.app, &err) != 0) {
		vh_log_error("%s", err);
		goto fail;
	}
	if (jobs_only && cfg->media_runners == 0) {
		vh_log_error("--jobs-only with media_runners = 0 has nothing "
		    "to do");
		goto fail;
	}
	if (later)
		vh_app_migrate_later(d.app);
	sigs[0] = evsignal_new(d.base, SIGTERM, on_stop, &d);
	sigs[1] = evsignal_new(d.base, SIGINT, on_stop, &d);
	sigs[2] = evsignal_new(d.base, SIGHUP, on_hup, &d);
	for (int i = 0; i < 3; i++)
		event_add(sigs[i], NULL);
	if (jobs_only)
		vh_log_info("running media jobs only (data in %s)",
		    cfg->data_dir);
	else
		vh_log_info("listening on http://%s:%d/ (data in %s)",
		    cfg->listen_address, port, cfg->data_dir);
	vh_config_free(cfg);

	event_base_dispatch(d.base);

	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	vh_app_free(d.app);
	event_base_free(d.base);
	return (0);
fail:
	/* Freed, so that a sanitizer build exits with this status too. */
	vh_app_free(d.app);
	if (d.base != NULL)
		event_base_free(d.base);
	vh_config_free(cfg);
	free(err);
	return (rc);
}
