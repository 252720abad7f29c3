/*
 * verhaalctl fsck [--repair [--from BACKUP]] [--grace DURATION] [--sample N]:
 * compares the blob store under data_dir with the database (lib/domain/vh_fsck.c)
 * and prints one line per finding, "KIND OUTCOME NAME: detail", then a
 * summary. --from names a backup (verhaalctl backup) that lost or damaged
 * blobs are copied back from. Exits 0 when nothing is left to fix, 1 when
 * problems remain.
 */
#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "vh_unused.h"
#include "vh_blobstore.h"
#include "vh_fsck.h"
#include "vh_xmalloc.h"

#define USAGE "usage: fsck [--repair [--from BACKUP]] [--grace DURATION] " \
	"[--sample N]"

static void
print_finding(const struct vh_fsck_finding *f, void *arg VH_UNUSED)
{
	printf("%s\t%s\t%s: %s\n", vh_fsck_kind_name(f->kind),
	    vh_fsck_outcome_name(f->outcome), f->name, f->detail);
	fflush(stdout);
}

int
ctl_fsck(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ "grace", required_argument, NULL, 'g' },
		{ "sample", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct vh_fsck_opts	 o = { .grace_s = 3600, .sample = -1 };
	struct vh_fsck_stats	 st;
	struct vh_blobstore	*bs;
	struct stat		 sb;
	char			*err = NULL, *end, *blobs;
	int64_t			 ms;
	int			 ch;
	bool			 ok;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': o.repair = true; break;
		case 'g':
			if (vh_parse_duration_ms(optarg, &ms) != 0)
				ctl_die("--grace: expected a duration such as 30m, "
				    "1h or 0s, not '%s'", optarg);
			o.grace_s = ms / 1000;
			break;
		case 's':
			o.sample = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o.sample < 0)
				ctl_die("--sample: expected a count of blobs, "
				    "not '%s'", optarg);
			break;
		case 'f': o.from = optarg; break;
		default: ctl_die(USAGE);
		}
	}
	if (optind != argc)
		ctl_die(USAGE);
	if (o.from != NULL) {
		if (!o.repair)
			ctl_die("--from is a source for --repair");
		blobs = vh_xasprintf("%s/MANIFEST", o.from);
		ok = access(blobs, R_OK) == 0;
		free(blobs);
		if (!ok)
			ctl_die("%s is not a backup (no MANIFEST)", o.from);
	}
	/* Opening a store creates it: a mistyped data_dir would look like
	 * a store that lost every file. */
	blobs = vh_xasprintf("%s/blobs", c->cfg->data_dir);
	ok = stat(blobs, &sb) == 0 && S_ISDIR(sb.st_mode);
	free(blobs);
	if (!ok)
		ctl_die("no blob store at %s (is data_dir right?)",
		    c->cfg->data_dir);
	if ((bs = vh_blobstore_new(c->cfg->data_dir, &err)) == NULL)
		ctl_die("%s", err);
	if (vh_fsck_run(ctl_db(c), bs, &o, print_finding, NULL, &st, &err) != 0)
		ctl_die("fsck stopped: %s", err);
	vh_blobstore_free(bs);
	printf("%lld blob rows, %lld files, %lld hashed; %lld repaired, "
	    "%lld problem%s left", (long long)st.rows, (long long)st.files,
	    (long long)st.hashed, (long long)st.repaired,
	    (long long)st.problems, st.problems == 1 ? "" : "s");
	if (st.young > 0)
		printf("; %lld unnamed file%s younger than the grace period "
		    "not judged", (long long)st.young, st.young == 1 ? "" : "s");
	printf("\n");
	return (st.problems > 0 ? 1 : 0);
}
