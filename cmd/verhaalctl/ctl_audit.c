/*
 * verhaalctl audit [--since T] [--until T] [--actor NAME] [--action A]
 * [--object TYPE[:ID]] [--limit N]: the audit trail, newest first, through
 * the same query as GET /api/v1/audit. T is an ISO 8601 time or a
 * duration back from now (24h, 7d). audit --verify walks the hash chain
 * and names the first bad row; audit --actions prints the list of
 * audited actions (the one in lib/domain/vh_audit.c, which docs/privacy.md
 * repeats). ctl_audit_row() is how the other commands record changes.
 */
#include <pwd.h>
#include <unistd.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "vh_audit.h"
#include "vh_error.h"

void
ctl_audit_row(struct ctl *c, const char *action, const char *object_type,
    const char *id, const char *detail)
{
	struct vh_audit_actor	 a;
	struct passwd		*pw = getpwuid(getuid());
	char			 why[512], *err = NULL;

	/* The Unix user is the author, since verhaalctl has no account. */
	vh_audit_actor_local(&a, "verhaalctl");
	snprintf(why, sizeof why, "unix user %s%s%s", pw != NULL ?
	    pw->pw_name : "?", detail != NULL ? "; " : "",
	    detail != NULL ? detail : "");
	if (vh_audit_record(ctl_db(c), &a, action, object_type, id, why,
	    &err) != 0)
		ctl_die("audit: %s", err);
}

static int
verify(struct ctl *c)
{
	struct vh_audit_check	 chk;
	char			*err = NULL;

	if (vh_audit_verify(ctl_db(c), &chk, &err) != 0)
		ctl_die("%s", err);
	if (chk.ok) {
		printf("audit chain intact: %lld rows\n", (long long)chk.rows);
		return (0);
	}
	printf("audit chain broken at row %lld (seq %lld): %s\n",
	    (long long)chk.bad_id, (long long)chk.bad_seq, chk.problem);
	return (1);
}

/* Tab-separated: action, object types, what it records. */
static int
list_actions(void)
{
	const struct vh_audit_action	*a;
	size_t				 n;

	a = vh_audit_actions(&n);
	for (size_t i = 0; i < n; i++)
		printf("%s\t%s\t%s\n", a[i].name, a[i].objects, a[i].what);
	return (0);
}

int
ctl_audit(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "actor", required_argument, NULL, 'a' },
		{ "action", required_argument, NULL, 'x' },
		{ "object", required_argument, NULL, 'o' },
		{ "limit", required_argument, NULL, 'n' },
		{ "verify", no_argument, NULL, 'V' },
		{ "actions", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct vh_audit_filter	 f = { .limit = 100 };
	char			 since[40], until[40], *obj = NULL, *colon;
	char			*err = NULL;
	json_t			*rows, *row;
	int64_t			 next;
	size_t			 i;
	int			 ch;

	optind = 0;	/* 0: glibc starts over, permuting again */
	while ((ch = getopt_long(argc, argv, "s:u:a:x:o:n:", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (vh_audit_parse_time(optarg, time(NULL), since) != 0)
				ctl_die("--since takes an ISO 8601 time or 7d");
			f.since = since;
			break;
		case 'u':
			if (vh_audit_parse_time(optarg, time(NULL), until) != 0)
				ctl_die("--until takes an ISO 8601 time or 7d");
			f.until = until;
			break;
		case 'V': return (verify(c));
		case 'L': return (list_actions());
		case 'a': f.actor = optarg; break;
		case 'x': f.action = optarg; break;
		case 'o':
			obj = optarg;
			if ((colon = strchr(obj, ':')) != NULL) {
				*colon = '\0';
				f.object_id = colon + 1;
			}
			f.object_type = obj;
			break;
		case 'n':
			f.limit = atoi(optarg);
			if (f.limit < 1 || f.limit > 100000)
				ctl_die("--limit is 1 to 100000");
			break;
		default:
			ctl_die("usage: audit [--since T] [--until T] [--actor NAME]"
			    " [--action A] [--object TYPE[:ID]] [--limit N] |"
			    " --verify | --actions");
		}
	}
	if (vh_audit_list(ctl_db(c), &f, &rows, &next, &err) != 0)
		ctl_die("%s", err);
	printf("%-8s %-27s %-16s %-14s %-22s %-15s %s\n", "id", "at (UTC)",
	    "actor", "action", "object", "from", "reason");
	json_array_foreach(rows, i, row) {
		char o[64];

		snprintf(o, sizeof o, "%s%s%s",
		    json_string_value(json_object_get(row, "object_type")),
		    *json_string_value(json_object_get(row, "object_id")) ?
		    ":" : "", json_string_value(json_object_get(row, "object_id")));
		printf("%-8lld %-27s %-16s %-14s %-22s %-15s %s\n",
		    (long long)json_integer_value(json_object_get(row, "id")),
		    json_string_value(json_object_get(row, "at")),
		    json_string_value(json_object_get(row, "actor")),
		    json_string_value(json_object_get(row, "action")), o,
		    json_string_value(json_object_get(row, "client_addr")),
		    json_string_value(json_object_get(row, "reason")));
	}
	if (next > 0)
		fprintf(stderr, "(more rows: raise --limit or narrow the period)\n");
	json_decref(rows);
	return (0);
}
