/*
 * verhaalctl demo remove: takes out what contrib/dev/demo.sh (make demo)
 * put in. Demo data is marked by where it lives: the collection "demo",
 * and the two accounts the script makes (DEMO_ACCOUNTS, the same names as
 * in demo.sh). Every entry of either is erased as an admin erasure would
 * (vh_erase: rows, originals, renditions, files), and since demo entries
 * were never anyone's story, their tombstones and deletion-log lines go
 * too. The audit trail is kept as it is: it records what the demo did and
 * gains a demo_remove row. Indicators the demo imported are real open data
 * and stay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "vh_audit.h"
#include "vh_blobstore.h"
#include "vh_db.h"
#include "vh_erase.h"
#include "vh_error.h"
#include "vh_xmalloc.h"

#define DEMO_COLLECTION	"demo"
#define DEMO_ACCOUNTS	"{demo-beheer,demo-veldwerk}"

static int
demo_remove(struct ctl *c)
{
	static const char *const p[2] = { DEMO_COLLECTION, DEMO_ACCOUNTS };
	struct vh_audit_actor	 a;
	struct vh_blobstore	*bs;
	json_t			*report = NULL;
	PGresult		*r;
	char			*err = NULL, *ids;
	long long		 files = 0;
	int			 n, failed = 0;

	if ((bs = vh_blobstore_new(c->cfg->data_dir, &err)) == NULL)
		ctl_die("blob store %s: %s", c->cfg->data_dir, err);
	r = ctl_query(c, "SELECT e.id FROM entry e LEFT JOIN collection c ON"
	    " c.id = e.collection_id LEFT JOIN account a ON a.id = e.account_id"
	    " WHERE c.slug = $1 OR a.name = ANY ($2::text[]) ORDER BY e.id", 2,
	    p);
	n = PQntuples(r);
	ids = vh_xstrdup("{");
	for (int i = 0; i < n; i++) {
		const char	*id = PQgetvalue(r, i, 0);
		char		*next;
		int		 rc;

		rc = vh_erase_entry(ctl_db(c), bs, strtoll(id, NULL, 10),
		    VH_ERASE_ADMIN, "verhaalctl", &report, &err);
		if (rc != 0 && rc != VH_ENOENT) {
			fprintf(stderr, "verhaalctl: demo entry %s: %s\n", id,
			    err != NULL ? err : "not erased");
			free(err);
			err = NULL;
			failed++;
			continue;
		}
		if (report != NULL)
			files += json_integer_value(json_object_get(report,
			    "files"));
		json_decref(report);
		report = NULL;
		next = vh_xasprintf("%s%s%s", ids, i > 0 ? "," : "", id);
		free(ids);
		ids = next;
	}
	PQclear(r);
	vh_blobstore_free(bs);
	if (failed > 0) {
		free(ids);
		ctl_die("%d demo entr%s could not be erased; nothing else "
		    "removed", failed, failed == 1 ? "y" : "ies");
	}
	{
		char		*brace = vh_xasprintf("%s}", ids);
		const char	*p3[1] = { brace };

		PQclear(ctl_query(c, "BEGIN", 0, NULL));
		PQclear(ctl_query(c, "DELETE FROM tombstone WHERE entry_id ="
		    " ANY ($1::bigint[])", 1, p3));
		PQclear(ctl_query(c, "DELETE FROM deletion_log WHERE entry_id ="
		    " ANY ($1::bigint[])", 1, p3));
		/* Unfinished tus uploads of the demo (none, unless it was
		 * interrupted) hold a foreign key to both. */
		PQclear(ctl_query(c, "DELETE FROM upload WHERE collection_id IN"
		    " (SELECT id FROM collection WHERE slug = $1) OR account_id"
		    " IN (SELECT id FROM account WHERE name = ANY ($2::text[]))",
		    2, p));
		r = ctl_query(c, "WITH c AS (DELETE FROM collection WHERE slug = $1"
		    " RETURNING 1), a AS (DELETE FROM account WHERE name ="
		    " ANY ($2::text[]) RETURNING 1)"
		    " SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM a)",
		    2, p);
		vh_audit_actor_local(&a, "verhaalctl");
		if (vh_audit_record(ctl_db(c), &a, "demo_remove", "collection",
		    DEMO_COLLECTION, "verhaalctl demo remove", &err) != 0)
			ctl_die("audit: %s", err);
		PQclear(ctl_query(c, "COMMIT", 0, NULL));
		printf("demo: removed %d entr%s (%lld file(s)), %s collection, "
		    "%s account(s)\n", n, n == 1 ? "y" : "ies", files,
		    PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
		PQclear(r);
		free(brace);
	}
	free(ids);
	return (0);
}

int
ctl_demo(struct ctl *c, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "remove") == 0)
		return (demo_remove(c));
	ctl_die("usage: demo remove");
}
