/* verhaalctl migrate [--status]: apply pending migrations, or list them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "vh_unused.h"
#include "vh_migrate.h"

static void
on_applied(int version VH_UNUSED, const char *name, void *arg)
{
	int *n = arg;

	printf("applied %s\n", name);
	(*n)++;
}

static void
on_status(int version VH_UNUSED, const char *name, const char *applied_at,
    void *arg VH_UNUSED)
{
	printf("%-40s %s\n", name, applied_at != NULL ? applied_at : "pending");
}

int
ctl_migrate(struct ctl *c, int argc, char **argv)
{
	struct vh_migrate_plan	*plan;
	char			*err = NULL;
	bool			 status = false;
	int			 n = 0, rc;

	if (argc == 2 && strcmp(argv[1], "--status") == 0)
		status = true;
	else if (argc != 1)
		ctl_die("usage: verhaalctl migrate [--status]");
	if ((plan = vh_migrate_plan_new(vh_schema_migrations,
	    vh_schema_nmigrations, &err)) == NULL)
		ctl_die("%s", err);
	if (status)
		rc = vh_migrate_status(ctl_db(c), plan, on_status, NULL, &err);
	else
		rc = vh_migrate_apply(ctl_db(c), plan, on_applied, &n, &err);
	vh_migrate_plan_free(plan);
	if (rc != 0)
		ctl_die("%s", err);
	if (!status)
		printf("schema is current (%d migration(s) applied now)\n", n);
	return (0);
}
