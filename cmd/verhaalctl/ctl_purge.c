/*
 * verhaalctl purge [--dry-run]: erases every entry past its retention
 * period now, as verhaald's daily purge does, printing one line per entry
 * (id, kind, scope, status, arrival; never content). With --dry-run it
 * only lists them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "vh_blobstore.h"
#include "vh_retention.h"

#define BATCH 500

static void
print_expired(const json_t *report, const char *verb)
{
	const json_t	*e;
	size_t		 i;

	json_array_foreach(json_object_get(report, "expired"), i, e) {
		const char *scope = json_string_value(json_object_get(e, "scope"));

		printf("%s entry %lld\t%s\t%s\t%s\t%s\n", verb,
		    (long long)json_integer_value(json_object_get(e, "id")),
		    json_string_value(json_object_get(e, "kind")),
		    scope != NULL ? scope : "-",
		    json_string_value(json_object_get(e, "status")),
		    json_string_value(json_object_get(e, "created_at")));
	}
}

int
ctl_purge(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct vh_blobstore	*bs;
	json_t			*report = NULL;
	char			*err = NULL;
	bool			 dry = false;
	int			 ch, erased = 0, failed = 0, n;
	long long		 trimmed = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "n", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': dry = true; break;
		default: ctl_die("usage: purge [--dry-run]");
		}
	}
	if ((bs = vh_blobstore_new(c->cfg->data_dir, &err)) == NULL)
		ctl_die("blob store %s: %s", c->cfg->data_dir, err);
	do {
		if (vh_retention_purge(ctl_db(c), bs, c->cfg, dry, BATCH, &report,
		    &err) != 0)
			ctl_die("%s", err);
		print_expired(report, dry ? "would erase" : "erased");
		n = (int)json_array_size(json_object_get(report, "expired"));
		erased += (int)json_integer_value(json_object_get(report,
		    "erased"));
		failed += (int)json_integer_value(json_object_get(report,
		    "failed"));
		trimmed += json_integer_value(json_object_get(report,
		    "audit_trimmed"));
		json_decref(report);
		/* A full batch may hide more; failures would repeat forever. */
	} while (!dry && n == BATCH && failed == 0);
	if (dry)
		printf("%d entr%s past their retention period (dry run)\n", n,
		    n == 1 ? "y" : "ies");
	else {
		printf("%d erased, %d failed\n", erased, failed);
		printf("%lld audit rows trimmed (audit_retention)\n", trimmed);
	}
	vh_blobstore_free(bs);
	return (failed > 0 ? 1 : 0);
}
