/* Indicator parsing without a database: periods, name folding, each
 * format from a small sample written as the real exports are, rejected
 * rows with file:line, and the real files from ../shared/data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zip.h>

#include "vh_error.h"
#include "vh_unused.h"
#include "vh_indicators.h"

#define DATA	"../shared/data/indicators/"

struct got {
	size_t	n, missing;
	double	sum;
	char	key[8][160], title[8][160], unit[8][32], area[8][64];
	char	period[8][16], ptype[8][8], value[8][16];
	size_t	line[8];
};

static int
collect(const struct vh_ind_value *v, void *arg)
{
	struct got	*g = arg;
	size_t		 i = g->n++;

	if (v->value == NULL)
		g->missing++;
	else
		g->sum += strtod(v->value, NULL);
	if (i >= 8)
		return (0);
	snprintf(g->key[i], 160, "%s", v->key);
	snprintf(g->title[i], 160, "%s", v->title);
	snprintf(g->unit[i], 32, "%s", v->unit != NULL ? v->unit : "(null)");
	snprintf(g->area[i], 64, "%s", v->area_code != NULL ? v->area_code :
	    v->area_name);
	snprintf(g->period[i], 16, "%s", v->period);
	snprintf(g->ptype[i], 8, "%s", v->period_type);
	snprintf(g->value[i], 16, "%s", v->value != NULL ? v->value : "NULL");
	g->line[i] = v->line;
	return (0);
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

static int
parse(const char *name, const char *text, struct vh_ind_meta *meta,
    struct got *g, struct vh_ind_counts *n, char **err)
{
	struct vh_ind_opts	 o = { name, NULL, meta };
	FILE			*f = text_file(text);
	int			 rc;

	rc = vh_indicators_parse(f, &o, collect, g, n, err);
	fclose(f);
	return (rc);
}

static void
test_periods(void **state VH_UNUSED)
{
	char	t[8], p[16], s[16];

	assert_true(vh_ind_period_parse("2023JJ00", t, p, s));
	assert_string_equal(t, "year");
	assert_string_equal(p, "2023");
	assert_string_equal(s, "2023-01-01");
	assert_true(vh_ind_period_parse("2023MM01", t, p, s));
	assert_string_equal(t, "month");
	assert_string_equal(p, "2023-01");
	assert_string_equal(s, "2023-01-01");
	assert_true(vh_ind_period_parse("2024-12", t, p, s));
	assert_string_equal(p, "2024-12");
	assert_false(vh_ind_period_parse("2023MM13", t, p, s));
	assert_false(vh_ind_period_parse("2023KW01", t, p, s));
	assert_false(vh_ind_period_parse("20x3", t, p, s));
	assert_true(vh_ind_wave_parse("2021/2022", t, p, s));
	assert_string_equal(t, "wave");
	assert_string_equal(s, "2021-01-01");
}

static void
test_name_fold(void **state VH_UNUSED)
{
	char	*a = vh_ind_name_fold("Buurt Julianapark e.o.");
	char	*b = vh_ind_name_fold("Julianapark en omgeving");
	char	*c = vh_ind_name_fold("Buurt Zuilen-noord");
	char	*d = vh_ind_name_fold("Wijk 02 Noordwest");

	assert_string_equal(a, "julianapark en omgeving");
	assert_string_equal(a, b);
	assert_string_equal(c, "zuilen noord");
	assert_string_equal(d, "noordwest");
	free(a);
	free(b);
	free(c);
	free(d);
}

static struct vh_ind_meta *
odata_meta(void)
{
	struct vh_ind_meta	*m = vh_ind_meta_new();
	char			*err = NULL;
	FILE			*f;

	f = text_file("\"odata.type\",\"ID\",\"Position\",\"ParentID\",\"Type\","
	    "\"Key\",\"Title\",\"Description\",\"MapYear\",\"ReleasePolicy\","
	    "\"Datatype\",\"Unit\",\"Decimals\",\"Default\",\"PresentationType\"\r\n"
	    "\"Cbs.OData.Dimension\",0,0,,\"Dimension\",\"SoortMisdrijf\","
	    "\"Soort misdrijf\",\"\",,,,,,,\r\n"
	    "\"Cbs.OData.GeoDetail\",1,1,,\"GeoDetail\",\"WijkenEnBuurten\","
	    "\"Wijken en buurten\",\"\",2019,,,,,,\r\n"
	    "\"Cbs.OData.TimeDimension\",2,2,,\"TimeDimension\",\"Perioden\","
	    "\"Perioden\",\"\",,FALSE,,,,,\r\n"
	    "\"Cbs.OData.Topic\",3,3,,\"Topic\",\"GeregistreerdeMisdrijven_1\","
	    "\"Geregistreerde misdrijven\",\"a\r\nb\",,,\"Long\",\"aantal\",0,"
	    "\"Zero\",\"Absolute\"\r\n"
	    "\"Cbs.OData.Topic\",5,4,4,\"Topic\",\"Gemeentenaam_2\","
	    "\"Gemeentenaam\",\"\",,,\"String\",\"naam\",0,\"Missing\",\"\"\r\n");
	assert_int_equal(vh_ind_meta_load(m, f, "dp.csv", &err), 0);
	fclose(f);
	f = text_file("\"Key\",\"Title\",\"Description\",\"CategoryGroupID\"\r\n"
	    "\"0.0.0 \",\"Totaal misdrijven\",,\r\n"
	    "\"1.1.1 \",\"1.1.1 Diefstal/inbraak woning\",\"A20\r\r\nA30\",\r\n");
	assert_int_equal(vh_ind_meta_load(m, f, "codes.csv", &err), 0);
	fclose(f);
	assert_string_equal(vh_ind_meta_dimension(m, 0), "SoortMisdrijf");
	assert_null(vh_ind_meta_dimension(m, 1));
	return (m);
}

static const char odata[] = "\"ID\",\"SoortMisdrijf\",\"WijkenEnBuurten\","
    "\"Perioden\",\"GeregistreerdeMisdrijven_1\",\"Gemeentenaam_2\"\n"
    "1,\"0.0.0 \",\"BU03440111\",\"2023JJ00\",114,\"Utrecht   \"\n"
    "2,\"1.1.1 \",\"BU03440111\",\"2023MM02\",3,\"Utrecht   \"\n"
    "3,\"1.1.1 \",\"BU03440112\",\"2023MM02\",,\"Utrecht   \"\n";

static void
test_odata(void **state VH_UNUSED)
{
	struct vh_ind_meta	*m = odata_meta();
	struct vh_ind_counts	 n;
	struct got		 g = { 0 };
	char			*err = NULL;

	assert_int_equal(parse("cbs_47018NED_x.csv", odata, m, &g, &n, &err),
	    0);
	assert_int_equal(n.format, VH_IND_ODATA);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.key[0],
	    "47018NED/GeregistreerdeMisdrijven_1/0.0.0");
	assert_string_equal(g.title[0],
	    "Geregistreerde misdrijven: Totaal misdrijven");
	assert_string_equal(g.unit[0], "aantal");
	assert_string_equal(g.area[0], "BU03440111");
	assert_string_equal(g.period[0], "2023");
	assert_string_equal(g.key[1],
	    "47018NED/GeregistreerdeMisdrijven_1/1.1.1");
	assert_string_equal(g.ptype[1], "month");
	assert_string_equal(g.period[1], "2023-02");
	/* Empty is missing, not zero. */
	assert_string_equal(g.value[2], "NULL");
	assert_int_equal(n.missing, 1);
	vh_ind_meta_free(m);
}

static void
test_odata_needs_meta(void **state VH_UNUSED)
{
	struct vh_ind_counts	 n;
	struct got		 g = { 0 };
	char			*err = NULL;

	assert_int_equal(parse("x.csv", odata, NULL, &g, &n, &err), VH_EINVAL);
	assert_non_null(strstr(err, "DataProperties"));
	free(err);
}

static void
test_statline(void **state VH_UNUSED)
{
	struct vh_ind_counts	 n;
	struct got		 g = { 0 };
	char			*err = NULL;

	assert_int_equal(parse("nabijheid_2023_statline.csv",
	    "\xef\xbb\xbf\"Wijken en buurten\";\"Regioaanduiding/Gemeentenaam "
	    "(naam)\";\"Regioaanduiding/Codering (code)\";\"Zorg/Afstand tot "
	    "apotheek (km)\";\"Zorg/Binnen 1 km (aantal)\"\r\n"
	    "\"Nederland\";\"Nederland  \";\"NL00      \";\"     1.0\";\"  .\"\r\n"
	    "\"Wijk 01 West\";\"Utrecht  \";\"WK034401  \";\"     0.6\";"
	    "\"       .\"\r\n", NULL, &g, &n, &err), 0);
	assert_int_equal(n.format, VH_IND_STATLINE);
	assert_int_equal(n.rows, 2);
	assert_int_equal(n.skipped, 1);		/* Nederland */
	assert_int_equal(g.n, 2);
	assert_string_equal(g.key[0], "statline/Zorg/Afstand tot apotheek (km)");
	assert_string_equal(g.title[0], "Zorg/Afstand tot apotheek");
	assert_string_equal(g.unit[0], "km");
	assert_string_equal(g.value[0], "0.6");
	assert_string_equal(g.period[0], "2023");	/* from the name */
	assert_string_equal(g.value[1], "NULL");
	assert_int_equal(g.line[1], 3);
}

static void
test_kwb(void **state VH_UNUSED)
{
	struct vh_ind_counts	 n;
	struct got		 g = { 0 };
	char			*err = NULL;

	assert_int_equal(parse("cbs_kwb-2024_utrecht.derived.csv",
	    "gwb_code_10;gwb_code_8;regio;gm_naam;recs;gwb_code;ind_wbi;"
	    "a_inw;p_koopw;g_hhgro\n"
	    "GM0344;0344;Utrecht;Utrecht;Gemeente;GM0344;1;374238;.;2.0\n",
	    NULL, &g, &n, &err), 0);
	assert_int_equal(n.format, VH_IND_KWB);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.key[0], "kwb/a_inw");
	assert_string_equal(g.unit[0], "aantal");
	assert_string_equal(g.unit[1], "%");
	assert_string_equal(g.value[1], "NULL");
	assert_string_equal(g.unit[2], "(null)");
	assert_string_equal(g.period[0], "2024");
}

static void
test_incijfers(void **state VH_UNUSED)
{
	struct vh_ind_counts	 n;
	struct got		 g = { 0 };
	char			*err = NULL;

	assert_int_equal(parse("incijfers.csv",
	    "\"Buurten\";\"vrouwen|2024\";\"vrouwen|2024\";\"woningen|2023\"\n"
	    "\"Buurt Julianapark e.o.\";17;\".\";400\n"
	    "\"Buurten totaal\";142;148;900\n", NULL, &g, &n, &err), 0);
	assert_int_equal(n.format, VH_IND_INCIJFERS);
	assert_int_equal(n.skipped, 1);		/* the total row */
	assert_int_equal(g.n, 3);
	assert_string_equal(g.area[0], "Buurt Julianapark e.o.");
	assert_string_equal(g.key[0], "incijfers/vrouwen#1");
	assert_string_equal(g.key[1], "incijfers/vrouwen#2");
	assert_string_equal(g.value[1], "NULL");
	assert_string_equal(g.key[2], "incijfers/woningen");
	assert_string_equal(g.period[2], "2023");
}

static void
expect_error(const char *name, const char *text, const char *want)
{
	struct vh_ind_counts	 n;
	struct got		 g = { 0 };
	char			*err = NULL;

	assert_int_equal(parse(name, text, NULL, &g, &n, &err), VH_EINVAL);
	if (err == NULL || strcmp(err, want) != 0)
		fail_msg("got '%s', want '%s'", err, want);
	free(err);
}

static void
test_bad_rows(void **state VH_UNUSED)
{
	expect_error("k_2023.csv", "gwb_code_10;a_inw\nGM0344;1\n"
	    "BU03440111;12a\n", "k_2023.csv:3: column 'a_inw': '12a' is not "
	    "a number");
	/* "1,5" is no number here: CBS writes decimal points. */
	expect_error("k_2023.csv", "gwb_code_10;a_inw\nGM0344;1,5\n",
	    "k_2023.csv:2: column 'a_inw': '1,5' is not a number");
	expect_error("k_2023.csv", "gwb_code_10;a_inw;a_man\nGM0344;1;2\n"
	    "WK034401,1,2\n", "k_2023.csv:3: 1 fields where the header has 3 "
	    "(wrong separator?)");
	expect_error("k_2023.csv", "gwb_code_10;a_inw\nBU0344X;1\n",
	    "k_2023.csv:2: malformed area code 'BU0344X'");
	expect_error("k.csv", "gwb_code_10;a_inw\nGM0344;1\n",
	    "k.csv:1: the file has no period column and its name no single "
	    "year; give one with --period");
	expect_error("x.csv", "foo,bar\n1,2\n",
	    "x.csv:1: unknown format (header starts 'foo', 2 columns)");
}

static void
test_not_indicators(void **state VH_UNUSED)
{
	struct vh_ind_counts	 n;
	struct got		 g = { 0 };
	char			*err = NULL;

	assert_int_equal(parse("pc4.csv", "Postcode,Datum,Soort\r\n"
	    "3451,22-06-2023,Woninginbraak\r\n", NULL, &g, &n, &err),
	    VH_ENOTSUP);
	free(err);
	err = NULL;
	assert_int_equal(parse("b.xlsx", "PK\003\004rest", NULL, &g, &n, &err),
	    VH_ENOTSUP);
	free(err);
}

/* The whole 2023 crime file through the parser: 111 buurten, 25,395. */
static void
test_real_odata(void **state VH_UNUSED)
{
	struct vh_ind_meta	*m = vh_ind_meta_new();
	struct vh_ind_opts	 o = { "misdrijven", NULL, m };
	struct vh_ind_counts	 n;
	struct got		 g = { 0 };
	char			*err = NULL;
	FILE			*f;

	if ((f = fopen(DATA "cbs_47018NED_DataProperties.csv", "rb")) == NULL)
		skip();
	assert_int_equal(vh_ind_meta_load(m, f, "dp", &err), 0);
	fclose(f);
	f = fopen(DATA "cbs_47018NED_SoortMisdrijf_codelist.csv", "rb");
	assert_int_equal(vh_ind_meta_load(m, f, "codes", &err), 0);
	fclose(f);
	f = fopen(DATA "cbs_47018NED_misdrijven_totaal_2023_utrecht_buurt.csv",
	    "rb");
	assert_int_equal(vh_indicators_parse(f, &o, collect, &g, &n, &err), 0);
	fclose(f);
	assert_int_equal(n.rows, 111);
	assert_int_equal(g.n, 111);
	assert_int_equal((long)g.sum, 25395);
	assert_string_equal(g.title[0],
	    "Geregistreerde misdrijven: Totaal misdrijven");
	vh_ind_meta_free(m);
}

/* A workbook written with libzip, parts as Excel writes them. */
static void
write_xlsx(const char *path, const char *sheet, const char *strings)
{
	static const char wb[] = "<?xml version=\"1.0\"?><workbook xmlns="
	    "\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
	    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	    "relationships\"><sheets><sheet name=\"kwb\" sheetId=\"4\" "
	    "r:id=\"rId7\"/></sheets></workbook>";
	static const char rels[] = "<?xml version=\"1.0\"?><Relationships "
	    "xmlns=\"http://schemas.openxmlformats.org/package/2006/"
	    "relationships\"><Relationship Id=\"rId1\" Type=\"x\" Target="
	    "\"styles.xml\"/><Relationship Id=\"rId7\" Type=\"x\" Target="
	    "\"worksheets/data.xml\"/></Relationships>";
	const char	*names[] = { "xl/workbook.xml",
	    "xl/_rels/workbook.xml.rels", "xl/worksheets/data.xml",
	    "xl/sharedStrings.xml" };
	const char	*parts[] = { wb, rels, sheet, strings };
	zip_t		*z;
	int		 e;

	assert_non_null(z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &e));
	for (int i = 0; i < 4; i++) {
		zip_source_t *src = zip_source_buffer(z, parts[i],
		    strlen(parts[i]), 0);

		assert_non_null(src);
		assert_true(zip_file_add(z, names[i], src, 0) >= 0);
	}
	assert_int_equal(zip_close(z), 0);
}

static void
test_xlsx(void **state VH_UNUSED)
{
	char		 path[] = "/tmp/test_vh_xlsx_XXXXXX";
	char		*csv, *err = NULL;
	size_t		 len;
	int		 fd;

	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	/* Shared and inline strings, a missing row, a blank cell in the
	 * middle and two at the end, a rich-text run, an exponent. */
	write_xlsx(path,
	    "<worksheet xmlns=\"http://schemas.openxmlformats.org/"
	    "spreadsheetml/2006/main\"><sheetData>"
	    "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c>"
	    "<c r=\"B1\" t=\"s\"><v>1</v></c><c r=\"C1\" t=\"inlineStr\">"
	    "<is><t>p_koopw</t></is></c><c r=\"D1\" t=\"s\"><v>3</v></c>"
	    "</row>"
	    "<row r=\"3\"><c r=\"A3\" t=\"s\"><v>2</v></c>"
	    "<c r=\"B3\"><v>1.1000000000000001</v></c>"
	    "<c r=\"D3\"><v>1.5E-3</v></c></row>"
	    "<row r=\"4\"><c r=\"A4\" t=\"s\"><v>4</v></c>"
	    "<c r=\"B4\"><v>7</v></c></row>"
	    "</sheetData></worksheet>",
	    "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/"
	    "2006/main\"><si><t>gwb_code_10</t></si><si><t>a_inw</t></si>"
	    "<si><t>GM0344</t></si><si><r><t>g_</t></r><r><t>hhgro</t></r>"
	    "<rPh><t>x</t></rPh></si><si><t>WK034401</t></si></sst>");
	csv = vh_ind_xlsx_to_csv(path, &len, &err);
	assert_non_null(csv);
	assert_string_equal(csv,
	    "\"gwb_code_10\";\"a_inw\";\"p_koopw\";\"g_hhgro\"\n"
	    "\n"
	    "\"GM0344\";1.1000000000000001;;0.0015\n"
	    "\"WK034401\";7;;\n");
	assert_int_equal(len, strlen(csv));
	free(csv);
	/* Not a workbook: said plainly. */
	write_xlsx(path, "<worksheet><sheetData><row r=\"1\"><c t=\"s\">"
	    "<v>9</v></c></row></sheetData></worksheet>", "<sst/>");
	assert_null(vh_ind_xlsx_to_csv(path, &len, &err));
	assert_non_null(strstr(err, "shared string that does not exist"));
	free(err);
	err = NULL;
	assert_null(vh_ind_xlsx_to_csv("/nonexistent.xlsx", &len, &err));
	assert_non_null(strstr(err, "not a readable workbook"));
	free(err);
	unlink(path);
}

/* The real workbooks read as their CSV exports do, value for value. */
static void
test_real_xlsx(void **state VH_UNUSED)
{
	static const char *years[] = { "2023", "2024" };

	for (int y = 0; y < 2; y++) {
		char		 px[128], pc[128];
		struct vh_ind_opts o1 = { px, NULL, NULL }, o2 = { pc, NULL, NULL };
		struct vh_ind_counts n1, n2;
		struct got	 g1 = { 0 }, g2 = { 0 };
		char		*csv, *err = NULL;
		size_t		 len;
		FILE		*f;

		snprintf(px, sizeof px, DATA "cbs_kwb-%s_utrecht.xlsx", years[y]);
		snprintf(pc, sizeof pc, DATA "cbs_kwb-%s_utrecht.derived.csv",
		    years[y]);
		if ((f = fopen(pc, "rb")) == NULL)
			skip();
		assert_int_equal(vh_indicators_parse(f, &o2, collect, &g2, &n2,
		    &err), 0);
		fclose(f);
		csv = vh_ind_xlsx_to_csv(px, &len, &err);
		assert_non_null(csv);
		assert_non_null(f = fmemopen(csv, len, "rb"));
		assert_int_equal(vh_indicators_parse(f, &o1, collect, &g1, &n1,
		    &err), 0);
		fclose(f);
		free(csv);
		assert_int_equal(n1.format, VH_IND_KWB);
		assert_int_equal(n1.rows, 122);
		assert_int_equal(n1.values, n2.values);
		assert_int_equal(g1.missing, g2.missing);
		assert_true(g1.sum == g2.sum);
		assert_string_equal(g1.period[0], years[y]);
	}
}

/* Every variable of the real kwb files has a label from the codebook. */
static int
no_bare_title(const struct vh_ind_value *v, void *arg)
{
	const char	*code = strrchr(v->key, '/') + 1;

	(void)arg;
	if (strcmp(v->title, code) == 0 || strstr(v->title, "kwb-variabele"))
		fail_msg("%s has no label", v->key);
	assert_non_null(v->aggregate);
	return (0);
}

static void
test_kwb_codebook(void **state VH_UNUSED)
{
	struct vh_ind_opts	 o = { DATA "cbs_kwb-2023_utrecht.derived.csv",
	    NULL, NULL };
	struct vh_ind_counts	 n;
	const struct vh_ind_label *l;
	char			*err = NULL;
	FILE			*f;

	assert_non_null(l = vh_ind_kwb_label("a_00_14"));
	assert_string_equal(l->title, "Personen 0 tot 15 jaar");
	assert_string_equal(l->aggregate, "sum");
	assert_non_null(l = vh_ind_kwb_label("p_geb"));
	assert_string_equal(l->aggregate, "ratio");
	assert_string_equal(l->numerator, "a_geb");
	assert_string_equal(l->denominator, "a_inw");
	assert_string_equal(vh_ind_kwb_label("g_wozbag")->aggregate, "none");
	assert_null(vh_ind_kwb_label("a_nonsense"));
	if ((f = fopen(o.file, "rb")) == NULL)
		skip();
	assert_int_equal(vh_indicators_parse(f, &o, no_bare_title, NULL, &n,
	    &err), 0);
	fclose(f);
}

static void
test_real_statline(void **state VH_UNUSED)
{
	struct vh_ind_opts	 o = { "cbs_nabijheid_voorzieningen_buurt_2023_"
	    "utrecht_statline.csv", NULL, NULL };
	struct vh_ind_counts	 n;
	struct got		 g = { 0 };
	char			*err = NULL;
	FILE			*f;

	if ((f = fopen(DATA "cbs_nabijheid_voorzieningen_buurt_2023_utrecht_"
	    "statline.csv", "rb")) == NULL)
		skip();
	assert_int_equal(vh_indicators_parse(f, &o, collect, &g, &n, &err), 0);
	fclose(f);
	/* 123 rows; Nederland skipped; 110 figures for 122 areas. */
	assert_int_equal(n.rows, 123);
	assert_int_equal(n.skipped, 1);
	assert_int_equal(g.n, 110 * 122);
	assert_true(g.missing > 0 && g.missing < g.n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_periods),
		cmocka_unit_test(test_name_fold),
		cmocka_unit_test(test_odata),
		cmocka_unit_test(test_odata_needs_meta),
		cmocka_unit_test(test_statline),
		cmocka_unit_test(test_kwb),
		cmocka_unit_test(test_incijfers),
		cmocka_unit_test(test_bad_rows),
		cmocka_unit_test(test_not_indicators),
		cmocka_unit_test(test_real_odata),
		cmocka_unit_test(test_real_statline),
		cmocka_unit_test(test_xlsx),
		cmocka_unit_test(test_real_xlsx),
		cmocka_unit_test(test_kwb_codebook),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
