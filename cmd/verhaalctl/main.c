/*
 * verhaalctl: the administrator's tool. Reads the same configuration as
 * verhaald (-c FILE, then VERHAAL_<KEY> variables) and runs one command.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "vh_db.h"
#include "vh_log.h"
#include "vh_migrate.h"
#include "vh_version.h"

extern char **environ;

static const struct {
	const char	*name;
	int		(*fn)(struct ctl *, int, char **);
	const char	*usage;
} commands[] = {
	{ "migrate", ctl_migrate, "migrate [--status]" },
	{ "token", ctl_token, "token create --user NAME [--role ROLE] [--expires '90 days'] | revoke ID | list" },
	{ "collection", ctl_collection, "collection create --slug SLUG --title TITLE | list" },
	{ "import-areas", ctl_import_areas, "import-areas FILE..." },
	{ "import-indicators", ctl_import_indicators, "import-indicators FILE..." },
	{ "user", ctl_user, "user add NAME --role ROLE | passwd NAME | disable NAME | enable NAME | list" },
	{ "audit", ctl_audit, "audit [--since T] [--until T] [--actor NAME] [--action A] [--object TYPE[:ID]] [--limit N]" },
	{ "purge", ctl_purge, "purge [--dry-run]" },
	{ "fsck", ctl_fsck, "fsck [--repair [--from BACKUP]] [--grace DURATION] [--sample N]" },
	{ "backup", ctl_backup, "backup DIR" },
	{ "restore", ctl_restore, "restore DIR" },
	{ "first-run", ctl_first_run, "first-run [--admin NAME] [--seed DIR] [--gemeente NNNN]" },
	{ "db-url", ctl_db_url, "db-url" },
	{ "demo", ctl_demo, "demo remove" },
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

static void
usage(void)
{
	fprintf(stderr, "usage: verhaalctl [-c file] command [args]\n"
	    "       verhaalctl --version\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(stderr, "  %s\n", commands[i].usage);
	exit(2);
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
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
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
