/* OpenRosa submission XML: identity in the plain and the orx namespace,
 * the werkbezoek fields, file names, and every refusal (no DTD, so no
 * entity is ever expanded; depth; size; missing ids). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_error.h"
#include "vh_unused.h"
#include "vh_odkxml.h"

static struct vh_odkxml_instance in;
static char why[512];

static int
parse(const char *s)
{
	return (vh_odkxml_parse(s, strlen(s), &in, why, sizeof why));
}

static void
test_plain(void **state VH_UNUSED)
{
	assert_int_equal(parse("<?xml version='1.0' ?><data id=\"werkbezoek\" "
	    "version=\"v12\"><titel>T</titel><notitie>a\nb &amp; c</notitie>"
	    "<datum>2026-11-30</datum><themas>geweld autokraak</themas>"
	    "<buurt>BU03440111</buurt><locatie>52.1 5.1 0 4</locatie>"
	    "<fotos><foto>1.jpg</foto></fotos><fotos><foto>2.jpg</foto></fotos>"
	    "<spraakmemo>m.webm</spraakmemo><meta><instanceID>uuid:a</instanceID>"
	    "</meta></data>"), 0);
	assert_string_equal(in.form_id, "werkbezoek");
	assert_string_equal(in.version, "v12");
	assert_string_equal(in.instance_id, "uuid:a");
	assert_string_equal(in.deprecated_id, "");
	assert_string_equal(in.note, "a\nb & c");
	assert_string_equal(in.themes, "geweld autokraak");
	assert_string_equal(in.buurt, "BU03440111");
	assert_string_equal(in.location, "52.1 5.1 0 4");
	assert_int_equal(in.nfiles, 3);
	assert_string_equal(in.files[0], "1.jpg");
	assert_string_equal(in.files[2], "m.webm");
}

static void
test_orx(void **state VH_UNUSED)
{
	assert_int_equal(parse("<data xmlns:orx=\"http://openrosa.org/xforms\" "
	    "id=\"werkbezoek\" orx:version=\"v3\"><orx:meta><orx:instanceID>"
	    "uuid:b</orx:instanceID><orx:deprecatedID>uuid:a</orx:deprecatedID>"
	    "</orx:meta></data>"), 0);
	assert_string_equal(in.version, "v3");
	assert_string_equal(in.instance_id, "uuid:b");
	assert_string_equal(in.deprecated_id, "uuid:a");
}

static void
test_refusals(void **state VH_UNUSED)
{
	char *big;

	assert_int_equal(parse("<data id=\"w\"><x>"), VH_EINVAL);
	assert_int_equal(parse("<!DOCTYPE d [<!ENTITY x SYSTEM "
	    "\"file:///etc/passwd\">]><data id=\"w\">&x;<meta><instanceID>u"
	    "</instanceID></meta></data>"), VH_EINVAL);
	assert_non_null(strstr(why, "document type"));
	assert_int_equal(parse("<data id=\"w\"><n/></data>"), VH_EINVAL);
	assert_non_null(strstr(why, "instanceID"));
	assert_int_equal(parse("<data><meta><instanceID>u</instanceID></meta>"
	    "</data>"), VH_EINVAL);
	big = calloc(1, 8192);
	strcpy(big, "<data id=\"w\">");
	for (int i = 0; i < 40; i++)
		strcat(big, "<a>");
	for (int i = 0; i < 40; i++)
		strcat(big, "</a>");
	strcat(big, "<meta><instanceID>u</instanceID></meta></data>");
	assert_int_equal(parse(big), VH_EINVAL);
	assert_non_null(strstr(why, "deeper"));
	free(big);
	big = malloc(VH_ODKXML_MAX_SIZE + 2);
	memset(big, ' ', VH_ODKXML_MAX_SIZE + 1);
	big[VH_ODKXML_MAX_SIZE + 1] = '\0';
	assert_int_equal(parse(big), VH_ETOOBIG);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_orx),
		cmocka_unit_test(test_refusals),
	};

	vh_odkxml_init();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
