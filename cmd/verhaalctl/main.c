/*
 * verhaalctl: the administrator's tool. Reads the same configuration as
 * verhaald (-c FILE, then VERHAAL_<KEY> variables) and runs one command.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "vh_db.h"
#include "vh_log.h"
#include "vh_migrate.h"
#include "vh_version.h"

extern char **environ;

/* The subcommands: the one list that verhaalctl --help prints and that
 * docs/verhaalctl.1 documents (tests/e2e/ctl_help.test.mjs compares). */
static const struct {
	const char	*name;
	int		(*fn)(struct ctl *, int, char **);
	const char	*usage;
} commands[] = {
	{ "migrate", ctl_migrate, "migrate [--status]" },
	{ "token", ctl_token, "token create --user NAME [--role ROLE] [--label TEXT] [--expires '90 days'] | revoke ID | list" },
	{ "collection", ctl_collection, "collection create --slug SLUG --title TITLE | list |\n"
	  "             rotate-link SLUG |\n"
	  "             consent add --slug SLUG --version V --language L --file FILE |\n"
	  "             consent list --slug SLUG" },
	{ "import-areas", ctl_import_areas, "import-areas FILE..." },
	{ "import-indicators", ctl_import_indicators, "import-indicators FILE..." },
	{ "user", ctl_user, "user add NAME --role ROLE | passwd NAME | disable NAME | enable NAME | list" },
	{ "audit", ctl_audit, "audit [--since T] [--until T] [--actor NAME] [--action A] [--object TYPE[:ID]] [--limit N]\n"
	  "             | audit --verify | audit --actions" },
	{ "purge", ctl_purge, "purge [--dry-run]" },
	{ "fsck", ctl_fsck, "fsck [--repair [--from BACKUP]] [--grace DURATION] [--sample N]" },
	{ "backup", ctl_backup, "backup DIR" },
	{ "restore", ctl_restore, "restore DIR" },
	{ "first-run", ctl_first_run, "first-run [--admin NAME] [--seed DIR] [--gemeente NNNN]" },
	{ "db-url", ctl_db_url, "db-url" },
	{ "demo", ctl_demo, "demo remove" },
	{ "odk", ctl_odk, "odk token add NAME [--url URL] [--project NAME] | odk token list | odk token revoke ID" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

void
ctl_die(const char *fmt, ...)
{
	va_list ap;

	fputs("verhaalctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

PGconn *
ctl_db(struct ctl *c)
{
	char *err = NULL;

	if (c->db != NULL)
		return (c->db);
	if (ctl_find_database(c, &err) != 0)
		ctl_die("cannot connect to the database: %s", err);
	if ((c->db = vh_db_connect(c->cfg->database_url, c->cfg->db_timeout,
	    &err)) == NULL)
		ctl_die("cannot connect to the database: %s", err);
	return (c->db);
}

PGresult *
ctl_query(struct ctl *c, const char *sql, int n, const char *const *params)
{
	char		*err = NULL;
	PGresult	*r;

	if ((r = vh_db_exec(ctl_db(c), sql, n, params, &err)) == NULL)
		ctl_die("%s", err);
	return (r);
}

static void usage_to(FILE *, int) __attribute__((noreturn));
static void usage(void) __attribute__((noreturn));

/* The usage on f; exits with status (0 for --help, on stdout). */
static void
usage_to(FILE *f, int status)
{
	fprintf(f, "usage: verhaalctl [-c file] command [args]\n"
	    "       verhaalctl command --help\n"
	    "       verhaalctl --version\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	exit(status);
}

static void
usage(void)
{
	usage_to(stderr, 2);
}

static bool
is_help(const char *s)
{
	return (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 ||
	    strcmp(s, "help") == 0);
}

int
main(int argc, char **argv)
{
	struct ctl	 c = { 0 };
	const char	*path = NULL;
	char		*err = NULL;
	int		 ch, rc;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("verhaalctl %s (schema %s)\n", VH_VERSION,
		    vh_schema_migrations[vh_schema_nmigrations - 1].name);
		return (0);
	}
	if (argc >= 2 && is_help(argv[1]))
		usage_to(stdout, 0);
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'h': usage_to(stdout, 0);
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (is_help(argv[0]))
		usage_to(stdout, 0);
	/* "verhaalctl CMD --help", anywhere among its arguments: before the
	 * config is read or the database is asked for anything. */
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		for (int a = 1; a < argc; a++) {
			if (strcmp(argv[a], "--help") == 0 ||
			    strcmp(argv[a], "-h") == 0) {
				printf("usage: verhaalctl [-c file] %s\n",
				    commands[i].usage);
				return (0);
			}
		}
	}
	if ((c.cfg = vh_config_load(path, environ, &err)) == NULL)
		ctl_die("%s", err);
	vh_log_set_sink(vh_log_stderr_sink, NULL);
	vh_log_set_level(c.cfg->log_level);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		rc = commands[i].fn(&c, argc, argv);
		if (c.db != NULL)
			PQfinish(c.db);
		vh_config_free(c.cfg);
		return (rc);
	}
	fprintf(stderr, "verhaalctl: unknown command '%s'\n", argv[0]);
	usage();
}
