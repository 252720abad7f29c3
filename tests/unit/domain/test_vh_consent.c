/* Consent: parsing {scope, version, language}. What each scope allows
 * whom is the SQL access rule's (schema/0009_access.sql), tested end to
 * end in tests/e2e/access_matrix.test.mjs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_auth.h"
#include "vh_consent.h"
#include "vh_error.h"

static int
parse(const char *text, struct vh_consent *c)
{
	json_t	*j = json_loads(text, 0, NULL);
	char	*why = NULL;
	int	 rc;

	assert_non_null(j);
	rc = vh_consent_parse(j, c, &why);
	assert_true(rc == 0 ? why == NULL : why != NULL);
	free(why);
	json_decref(j);
	return (rc);
}

static void
test_parse(void **state)
{
	struct vh_consent c;

	(void)state;
	assert_int_equal(parse("{\"scope\":\"publish\",\"version\":\"2024-05\","
	    "\"language\":\"nl\"}", &c), 0);
	assert_int_equal(c.scope, VH_SCOPE_PUBLISH);
	assert_string_equal(c.version, "2024-05");
	assert_string_equal(c.language, "nl");
	assert_int_equal(parse("{\"scope\":\"analysis_only\",\"version\":3,"
	    "\"language\":\"en-GB\"}", &c), 0);
	assert_string_equal(c.version, "3");
	assert_int_equal(c.scope, VH_SCOPE_ANALYSIS_ONLY);
	/* Missing, unknown or malformed parts. */
	assert_int_equal(parse("{\"version\":\"1\",\"language\":\"nl\"}", &c),
	    VH_EINVAL);
	assert_int_equal(parse("{\"scope\":\"everything\",\"version\":\"1\","
	    "\"language\":\"nl\"}", &c), VH_EINVAL);
	assert_int_equal(parse("{\"scope\":\"publish\",\"language\":\"nl\"}",
	    &c), VH_EINVAL);
	assert_int_equal(parse("{\"scope\":\"publish\",\"version\":\"\","
	    "\"language\":\"nl\"}", &c), VH_EINVAL);
	assert_int_equal(parse("{\"scope\":\"publish\",\"version\":\"1\"}", &c),
	    VH_EINVAL);
	assert_int_equal(parse("{\"scope\":\"publish\",\"version\":\"1\","
	    "\"language\":\"Dutch\"}", &c), VH_EINVAL);
	assert_int_equal(parse("{\"scope\":\"publish\",\"version\":\"1\","
	    "\"language\":\"nl\",\"extra\":1}", &c), VH_EINVAL);
	assert_int_equal(parse("[]", &c), VH_EINVAL);
	assert_int_equal(parse("{\"scope\":\"publish\",\"version\":-1,"
	    "\"language\":\"nl\"}", &c), VH_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
