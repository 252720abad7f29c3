/*
 * verhaalctl import-areas and import-indicators: thin wrappers that
 * take file names, call the importers and print what happened. Areas go
 * in as one transaction for all files; indicators one file at a time,
 * so one bad file does not stop the others (but fails the command).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "vh_areas.h"
#include "vh_error.h"
#include "vh_indicators.h"

static int
usage_areas(void)
{
	fprintf(stderr, "usage: verhaalctl import-areas [--gemeente NNNN] "
	    "file.csv|file.geojson ...\n");
	return (2);
}

int
ctl_import_areas(struct ctl *c, int argc, char **argv)
{
	struct vh_areas_stats	 st;
	const char		*gm = "0344";
	char			*err = NULL;
	int			 i = 1, rc;

	if (i + 1 < argc && strcmp(argv[i], "--gemeente") == 0) {
		gm = argv[i + 1];
		i += 2;
	}
	if (strlen(gm) != 4 || strspn(gm, "0123456789") != 4)
		return (usage_areas());
	if (i >= argc)
		return (usage_areas());
	rc = vh_areas_import(ctl_db(c), (const char *const *)argv + i,
	    (size_t)(argc - i), gm, &st, &err);
	if (rc != 0) {
		fprintf(stderr, "verhaalctl: %s\nnothing imported\n", err);
		free(err);
		return (1);
	}
	printf("areas: %d file(s), %zu from region lists, %zu boundaries, "
	    "%zu new, %zu other regions skipped\n", argc - i, st.areas,
	    st.boundaries, st.inserted, st.skipped);
	return (0);
}

static int
usage_indicators(void)
{
	fprintf(stderr, "usage: verhaalctl import-indicators [--period P] "
	    "file.csv|file.xlsx ...\n");
	return (2);
}

int
ctl_import_indicators(struct ctl *c, int argc, char **argv)
{
	struct vh_ind_summary	 s;
	const char		*period = NULL;
	char			*err = NULL;
	size_t			 ok = 0, failed = 0, skipped = 0;
	size_t			 stored = 0, missing = 0, unmatched = 0;
	int			 i = 1, rc;

	if (i + 1 < argc && strcmp(argv[i], "--period") == 0) {
		period = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return (usage_indicators());
	for (; i < argc; i++) {
		rc = vh_indicators_import(ctl_db(c), argv[i], period, &s, &err);
		if (rc == VH_ENOTSUP) {
			printf("skipped: %s\n", err);
			skipped++;
		} else if (rc != 0) {
			fprintf(stderr, "verhaalctl: %s\n%s: nothing imported\n",
			    err, argv[i]);
			failed++;
		} else {
			printf("%s: %s%s, %zu rows, %zu values, %zu missing, "
			    "%zu rows skipped, %zu unmatched names, "
			    "%zu indicators, %zu empty series left out, "
			    "%zu values derived for wijken and gemeenten\n",
			    argv[i], vh_ind_format_name(s.counts.format),
			    s.workbook ? " (xlsx)" : "", s.counts.rows,
			    s.stored, s.missing, s.counts.skipped, s.unmatched,
			    s.indicators, s.empty, s.derived);
			ok++;
			stored += s.stored;
			missing += s.missing;
			unmatched += s.unmatched;
		}
		free(err);
		err = NULL;
		fflush(stdout);
	}
	printf("indicators: %zu file(s) imported, %zu failed, %zu skipped; "
	    "%zu values, %zu missing, %zu unmatched names\n", ok, failed,
	    skipped, stored, missing, unmatched);
	return (failed > 0 ? 1 : 0);
}
