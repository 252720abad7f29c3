/*
 * Which database verhaalctl talks to, and the first run of an installation.
 *
 * The rule, written only here (make run asks `verhaalctl db-url` for its
 * connection string): a configured database_url (the file, or
 * VERHAAL_DATABASE_URL) wins. Without one, the private PostgreSQL cluster
 * of `make run` is used while it runs: a socket var/pg/run/.s.PGSQL.5432
 * under the current directory, else under the checkout that holds this
 * program (build/verhaalctl, so ../var/pg). verhaalctl says on stderr when
 * it uses that cluster, so that nobody is surprised which database changed.
 *
 * verhaalctl first-run brings an empty database to a usable state once:
 * migrations, a first admin with a generated password printed once (only
 * while there is no account at all), and the seed areas (only while the
 * area table is empty). Run again, it changes nothing.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "vh_unused.h"
#include "vh_areas.h"
#include "vh_audit.h"
#include "vh_db.h"
#include "vh_migrate.h"
#include "vh_password.h"
#include "vh_xmalloc.h"

#define PRIVATE_RUN	"var/pg/run"
#define PG_SOCKET	".s.PGSQL.5432"

/* The socket directory of a running private cluster under top ("." or a
 * checkout), resolved (caller frees), or NULL. */
static char *
private_run_dir(const char *top)
{
	char		 dir[PATH_MAX], sock[PATH_MAX + 32];
	struct stat	 st;

	snprintf(dir, sizeof dir, "%s/%s", top, PRIVATE_RUN);
	snprintf(sock, sizeof sock, "%s/%s", dir, PG_SOCKET);
	if (stat(sock, &st) != 0 || !S_ISSOCK(st.st_mode))
		return (NULL);
	/* The resolved path is the one pgcluster.sh checked against
	 * sun_path's length (./var/pg/run may link to /var/tmp). */
	return (realpath(dir, NULL));
}

/* The checkout this program was built in: the parent of its directory. */
static char *
program_top(void)
{
	char	 exe[PATH_MAX], *slash;
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
		return (NULL);
	exe[n] = '\0';
	for (int i = 0; i < 2; i++) {
		if ((slash = strrchr(exe, '/')) == NULL || slash == exe)
			return (NULL);
		*slash = '\0';
	}
	return (vh_xstrdup(exe));
}

/* A libpq conninfo value in single quotes, as libpq unquotes it. */
static char *
conninfo_quote(const char *s)
{
	char	*q = vh_xmalloc(2 * strlen(s) + 3), *o = q;

	*o++ = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '\'';
	*o = '\0';
	return (q);
}

int
ctl_find_database(struct ctl *c, char **why)
{
	char	*run = NULL, *top, *host;

	if (c->cfg->database_url[0] != '\0' || c->db_found)
		return (0);
	if ((run = private_run_dir(".")) == NULL &&
	    (top = program_top()) != NULL) {
		run = private_run_dir(top);
		free(top);
	}
	if (run == NULL) {
		*why = vh_xstrdup("no database configured (database_url in the "
		    "config file, or VERHAAL_DATABASE_URL), and no private "
		    "cluster of make run is running in ./" PRIVATE_RUN "; start "
		    "make run, or set database_url");
		return (-1);
	}
	host = conninfo_quote(run);
	free(c->cfg->database_url);
	c->cfg->database_url = vh_xasprintf("host=%s dbname=verhaal "
	    "user=verhaal", host);
	free(host);
	c->db_found = true;
	fprintf(stderr, "verhaalctl: no database_url configured; using the "
	    "private cluster of make run in %s\n", run);
	free(run);
	return (0);
}

/* verhaalctl db-url: the connection string the rule gives, for make run
 * and for `psql "$(verhaalctl db-url)"`. */
int
ctl_db_url(struct ctl *c, int argc, char **argv VH_UNUSED)
{
	char *why = NULL;

	if (argc != 1)
		ctl_die("usage: db-url");
	if (ctl_find_database(c, &why) != 0)
		ctl_die("%s", why);
	printf("%s\n", c->cfg->database_url);
	return (0);
}

/*
 * A password of 24 characters in groups of four from 32 letters and
 * digits that cannot be mistaken for each other (no 0/O, 1/l/I): 100
 * bits, and nothing a shell or JSON would need quoted.
 */
static void
generate_password(char out[30])
{
	static const char	 alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
	unsigned char		 r[24];
	size_t			 o = 0;

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		ctl_die("no random bytes from the kernel");
	for (size_t i = 0; i < sizeof r; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = '-';
		out[o++] = alphabet[r[i] % (sizeof alphabet - 1)];
	}
	out[o] = '\0';
	explicit_bzero(r, sizeof r);
}

static void
on_applied(int version VH_UNUSED, const char *name VH_UNUSED, void *arg)
{
	(*(int *)arg)++;
}

static void
migrate(struct ctl *c)
{
	struct vh_migrate_plan	*plan;
	char			*err = NULL;
	int			 n = 0;

	if ((plan = vh_migrate_plan_new(vh_schema_migrations,
	    vh_schema_nmigrations, &err)) == NULL ||
	    vh_migrate_apply(ctl_db(c), plan, on_applied, &n, &err) != 0)
		ctl_die("%s", err);
	vh_migrate_plan_free(plan);
	if (n > 0)
		printf("first run: applied %d migration(s); the schema is "
		    "current\n", n);
}

/* Creates the first admin while no account exists; true when it did. */
static bool
first_admin(struct ctl *c, const char *name)
{
	struct vh_audit_actor	 a;
	char			 pw[30], *hash, *err = NULL;
	const char		*p[2];
	PGresult		*r;
	bool			 made = false;

	generate_password(pw);
	hash = vh_password_hash(pw);
	PQclear(ctl_query(c, "BEGIN", 0, NULL));
	/* Two first runs at once (two make runs) make one admin. */
	PQclear(ctl_query(c, "SELECT pg_advisory_xact_lock(hashtext('verhaal "
	    "first-run'))", 0, NULL));
	r = ctl_query(c, "SELECT count(*) FROM account", 0, NULL);
	if (strcmp(PQgetvalue(r, 0, 0), "0") == 0) {
		p[0] = name;
		p[1] = hash;
		PQclear(ctl_query(c, "INSERT INTO account (name, role, password_hash,"
		    " password_changed_at) VALUES ($1, 'admin', $2, now())", 2,
		    p));
		vh_audit_actor_local(&a, "verhaalctl");
		if (vh_audit_record(ctl_db(c), &a, "user_add", "account", name,
		    "first run: the first admin", &err) != 0)
			ctl_die("audit: %s", err);
		made = true;
	}
	PQclear(r);
	PQclear(ctl_query(c, "COMMIT", 0, NULL));
	free(hash);
	if (made) {
		printf("first run: created the first admin account\n"
		    "first run: sign in as %s with password %s (shown only "
		    "this once)\n", name, pw);
		printf("first run:   e.g. curl -c cookies.txt -H 'Content-Type: "
		    "application/json' -d '{\"name\":\"%s\",\"password\":\"%s\"}' "
		    "http://%s:%lld/api/v1/session\n", name, pw,
		    c->cfg->listen_address, (long long)c->cfg->listen_port);
		printf("first run:   change it with: verhaalctl user passwd %s\n",
		    name);
		fflush(stdout);
	}
	explicit_bzero(pw, sizeof pw);
	return (made);
}

static int
cmp_str(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return (n >= m && strcmp(s + n - m, suffix) == 0);
}

/* Imports the seed areas while the area table is empty. */
static void
seed_areas(struct ctl *c, const char *dir, const char *gm)
{
	struct vh_areas_stats	 st;
	struct dirent		*de;
	DIR			*d;
	PGresult		*r;
	char			**paths = NULL, *err = NULL;
	size_t			 n = 0;

	r = ctl_query(c, "SELECT count(*) FROM area", 0, NULL);
	if (strcmp(PQgetvalue(r, 0, 0), "0") != 0) {
		PQclear(r);
		return;
	}
	PQclear(r);
	if ((d = opendir(dir)) == NULL)
		ctl_die("seed directory %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!ends_with(de->d_name, ".csv") &&
		    !ends_with(de->d_name, ".geojson"))
			continue;
		paths = vh_xreallocarray(paths, n + 1, sizeof *paths);
		paths[n++] = vh_xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (n == 0)
		ctl_die("seed directory %s holds no .csv or .geojson file", dir);
	/* Region lists and boundaries in a fixed order, whatever readdir
	 * gives; the importer takes them in one transaction. */
	qsort(paths, n, sizeof *paths, cmp_str);
	if (vh_areas_import(ctl_db(c), (const char *const *)paths, n, gm, &st,
	    &err) != 0)
		ctl_die("seed areas from %s: %s", dir, err);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	r = ctl_query(c, "SELECT count(*) FILTER (WHERE level = 'gemeente'),"
	    " count(*) FILTER (WHERE level = 'wijk'),"
	    " count(*) FILTER (WHERE level = 'buurt'), count(boundary)"
	    " FROM area", 0, NULL);
	printf("first run: loaded the areas from %s: %s gemeente, %s wijken, "
	    "%s buurten, %s with boundaries\n", dir, PQgetvalue(r, 0, 0),
	    PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
	PQclear(r);
}

int
ctl_first_run(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "admin", required_argument, NULL, 'a' },
		{ "seed", required_argument, NULL, 's' },
		{ "gemeente", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*admin = "admin", *seed = NULL, *gm = "0344";
	int		 ch;

	optind = 0;	/* 0: glibc starts over, permuting again */
	while ((ch = getopt_long(argc, argv, "a:s:g:", opts, NULL)) != -1) {
		switch (ch) {
		case 'a': admin = optarg; break;
		case 's': seed = optarg; break;
		case 'g': gm = optarg; break;
		default: goto usage;
		}
	}
	if (optind != argc || strlen(gm) != 4 || strspn(gm, "0123456789") != 4)
		goto usage;
	/* The account table's own rule, said before the database says it. */
	if (strlen(admin) > 64 || strchr("abcdefghijklmnopqrstuvwxyz0123456789",
	    admin[0]) == NULL || admin[0] == '\0' || admin[strspn(admin,
	    "abcdefghijklmnopqrstuvwxyz0123456789._-")] != '\0')
		ctl_die("admin name '%s': 1 to 64 of a-z 0-9 . _ -, starting "
		    "with a letter or digit", admin);
	migrate(c);
	if (!first_admin(c, admin))
		fprintf(stderr, "verhaalctl: accounts exist already; no admin "
		    "created (verhaalctl user list shows them)\n");
	if (seed != NULL)
		seed_areas(c, seed, gm);
	return (0);
usage:
	ctl_die("usage: first-run [--admin NAME] [--seed DIR] [--gemeente NNNN]");
}
