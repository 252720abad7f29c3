/* Area codes and their hierarchy, the CBS region list and GeoJSON
 * boundary parsing, without a database; then the real Utrecht files
 * from ../shared/data/areas when they are there. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_areas.h"
#include "vh_unused.h"
#include "vh_error.h"
#include "vh_import.h"

#define DATA	"../shared/data/areas/"

struct seen {
	size_t	n[3];
	char	codes[200][16];
	char	parents[200][16];
	char	names[200][64];
	size_t	ncodes;
	size_t	geoms;
};

static int
collect(const struct vh_area_rec *rec, void *arg)
{
	struct seen	*s = arg;

	s->n[rec->level]++;
	if (s->ncodes < 200) {
		snprintf(s->codes[s->ncodes], 16, "%s", rec->code);
		snprintf(s->parents[s->ncodes], 16, "%s", rec->parent);
		snprintf(s->names[s->ncodes], 64, "%s", rec->name);
		s->ncodes++;
	}
	s->geoms += rec->geometry != NULL;
	return (0);
}

static void
test_codes(void **state VH_UNUSED)
{
	enum vh_area_level	l;
	char			p[16];

	assert_int_equal(vh_area_level_of("GM0344", &l), 0);
	assert_int_equal(l, VH_AREA_GEMEENTE);
	assert_int_equal(vh_area_level_of("WK034401", &l), 0);
	assert_int_equal(l, VH_AREA_WIJK);
	assert_int_equal(vh_area_level_of("BU03440111", &l), 0);
	assert_int_equal(l, VH_AREA_BUURT);
	assert_int_equal(vh_area_level_of("BU0344011", &l), VH_EINVAL);
	assert_int_equal(vh_area_level_of("BU034401111", &l), VH_EINVAL);
	assert_int_equal(vh_area_level_of("WK03440A", &l), VH_EINVAL);
	assert_int_equal(vh_area_level_of("NL00", &l), VH_EINVAL);
	vh_area_parent_of("BU03440111", p);
	assert_string_equal(p, "WK034401");
	vh_area_parent_of("WK034401", p);
	assert_string_equal(p, "GM0344");
	vh_area_parent_of("GM0344", p);
	assert_string_equal(p, "");
}

static FILE *
text_file(const char *s)
{
	FILE	*f = tmpfile();

	assert_non_null(f);
	fputs(s, f);
	rewind(f);
	return (f);
}

static void
test_region_csv(void **state VH_UNUSED)
{
	FILE		*f = text_file(
	    "\"Key\",\"Title\",\"Description\",\"Municipality\"\r\n"
	    "\"NL01      \",\"Nederland\",\"\",\"\"\r\n"
	    "\"GM0344    \",\"Utrecht\",\"x\",\"GM0344\"\r\n"
	    "\"WK034401  \",\"Wijk 01 West\",\"x\",\"GM0344\"\r\n"
	    "\"BU03440111\",\"Welgelegen, Den Hommel\",\"a\nb\",\"GM0344\"\r\n");
	struct seen	 s = { 0 };
	size_t		 skipped = 0;
	char		*err = NULL;

	assert_int_equal(vh_areas_parse_csv(f, "r.csv", collect, &s, &skipped,
	    &err), 0);
	assert_null(err);
	assert_int_equal(skipped, 1);
	assert_int_equal(s.ncodes, 3);
	/* Keys are padded in the file and trimmed here. */
	assert_string_equal(s.codes[0], "GM0344");
	assert_string_equal(s.codes[1], "WK034401");
	assert_string_equal(s.parents[1], "GM0344");
	assert_string_equal(s.codes[2], "BU03440111");
	assert_string_equal(s.parents[2], "WK034401");
	assert_string_equal(s.names[2], "Welgelegen, Den Hommel");
	fclose(f);
}

static void
expect_csv_error(const char *text, const char *want)
{
	FILE		*f = text_file(text);
	struct seen	 s = { 0 };
	size_t		 skipped = 0;
	char		*err = NULL;

	assert_int_equal(vh_areas_parse_csv(f, "r.csv", collect, &s, &skipped,
	    &err), VH_EINVAL);
	assert_non_null(err);
	if (strcmp(err, want) != 0)
		fail_msg("got '%s', want '%s'", err, want);
	free(err);
	fclose(f);
}

static void
test_region_csv_errors(void **state VH_UNUSED)
{
	expect_csv_error("\"Key\",\"Title\"\n\"GM0344\",\"Utrecht\"\n"
	    "\"BU0344011X\",\"Kapot\"\n", "r.csv:3: malformed area code "
	    "'BU0344011X'");
	expect_csv_error("\"Key\",\"Title\"\n\"GM0344\",\"Utrecht\",\"x\"\n",
	    "r.csv:2: 3 fields, the header has 2");
	expect_csv_error("\"Code\";\"Naam\"\n", "r.csv:1: not a CBS region "
	    "list (no Key and Title columns)");
}

static int
parse_json(const char *json, struct seen *s, char **err)
{
	return (vh_areas_parse_geojson(json, strlen(json), "b.geojson",
	    "0344", collect, s, err));
}

static void
test_geojson(void **state VH_UNUSED)
{
	struct seen	 s = { 0 };
	char		*err = NULL;
	const char	*json = "{\"type\":\"FeatureCollection\",\"features\":["
	    "{\"type\":\"Feature\",\"properties\":{\"KODE\":\"0111\","
	    "\"WIJKKODE\":\"01\",\"NAAM\":\"Welgelegen, Den Homm\"},"
	    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[5.0,52.0],"
	    "[5.1,52.0],[5.1,52.1],[5.0,52.0]]]}},"
	    "{\"type\":\"Feature\",\"properties\":{\"KODE\":\"01\","
	    "\"NAAM\":\"WEST\"},\"geometry\":{\"type\":\"MultiPolygon\","
	    "\"coordinates\":[[[[5.0,52.0],[5.1,52.0],[5.1,52.1],[5.0,52.0]]]]}},"
	    "{\"type\":\"Feature\",\"properties\":{\"KODE\":\"0344\"},"
	    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[5.0,52.0],"
	    "[5.1,52.0],[5.1,52.1],[5.0,52.0]]]}}]}";

	assert_int_equal(parse_json(json, &s, &err), 0);
	assert_int_equal(s.ncodes, 3);
	assert_string_equal(s.codes[0], "BU03440111");
	assert_string_equal(s.codes[1], "WK034401");
	assert_string_equal(s.codes[2], "GM0344");
	assert_int_equal(s.geoms, 3);
}

static void
expect_json_error(const char *json, const char *want)
{
	struct seen	 s = { 0 };
	char		*err = NULL;

	assert_int_equal(parse_json(json, &s, &err), VH_EINVAL);
	if (err == NULL || strstr(err, want) == NULL)
		fail_msg("got '%s', want '%s'", err, want);
	free(err);
}

static void
test_geojson_errors(void **state VH_UNUSED)
{
	/* RD New metres are no degrees. */
	expect_json_error("{\"features\":[{\"properties\":{\"KODE\":\"01\"},"
	    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[136000,"
	    "455000],[136100,455000],[136000,455100],[136000,455000]]]}}]}",
	    "b.geojson: feature 1 (WK034401): coordinates are not WGS84");
	expect_json_error("{\"features\":[{\"properties\":{\"KODE\":\"01\"},"
	    "\"geometry\":{\"type\":\"Point\",\"coordinates\":[5,52]}}]}",
	    "geometry is Point");
	expect_json_error("{\"features\":[{\"properties\":{\"X\":\"01\"},"
	    "\"geometry\":null}]}", "feature 1: no usable area code");
	expect_json_error("{\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
	    "\"urn:ogc:def:crs:EPSG::28992\"}},\"features\":[]}",
	    "need WGS84");
	expect_json_error("{\"features\":[", "b.geojson:1:");
}

static void
test_real_files(void **state VH_UNUSED)
{
	const char	*gj[] = { DATA "utrecht_buurten_gemeente2013_wgs84.geojson",
	    DATA "utrecht_wijken_gemeente2013_wgs84.geojson",
	    DATA "utrecht_gemeentegrens2013_wgs84.geojson" };
	struct seen	*csv, *geo;
	FILE		*f;
	size_t		 skipped = 0, len, found;
	char		*err = NULL, *text;

	if ((f = fopen(DATA "cbs_47018NED_WijkenEnBuurten_indeling2024_"
	    "utrecht.csv", "rb")) == NULL)
		skip();
	csv = calloc(1, sizeof *csv);
	geo = calloc(1, sizeof *geo);
	assert_int_equal(vh_areas_parse_csv(f, "indeling", collect, csv,
	    &skipped, &err), 0);
	fclose(f);
	assert_int_equal(csv->n[VH_AREA_GEMEENTE], 1);
	assert_int_equal(csv->n[VH_AREA_WIJK], 10);
	assert_int_equal(csv->n[VH_AREA_BUURT], 111);
	for (size_t i = 0; i < 3; i++) {
		text = vh_import_slurp(gj[i], 1 << 24, &len, &err);
		assert_non_null(text);
		assert_int_equal(vh_areas_parse_geojson(text, len, gj[i],
		    "0344", collect, geo, &err), 0);
		free(text);
	}
	assert_int_equal(geo->n[VH_AREA_BUURT], 111);
	assert_int_equal(geo->n[VH_AREA_WIJK], 10);
	assert_int_equal(geo->n[VH_AREA_GEMEENTE], 1);
	/* Every boundary belongs to an area of the region list. */
	for (size_t i = 0; i < geo->ncodes; i++) {
		found = 0;
		for (size_t j = 0; j < csv->ncodes; j++)
			found += strcmp(geo->codes[i], csv->codes[j]) == 0;
		if (found != 1)
			fail_msg("%s is not in the region list", geo->codes[i]);
	}
	free(csv);
	free(geo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_region_csv),
		cmocka_unit_test(test_region_csv_errors),
		cmocka_unit_test(test_geojson),
		cmocka_unit_test(test_geojson_errors),
		cmocka_unit_test(test_real_files),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
