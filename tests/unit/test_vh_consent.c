/* Consent: parsing {scope, version, language}, the scope-to-use rules per
 * role, the SQL scope lists and entry filtering. */
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

static void
test_rules(void **state)
{
	(void)state;
	/* Analysts: exactly what the resident agreed to. */
	assert_true(vh_consent_allows(VH_SCOPE_ANALYSIS_ONLY, VH_ROLE_ANALYST,
	    VH_USE_COUNT));
	assert_true(vh_consent_allows(VH_SCOPE_ANALYSIS_ONLY, VH_ROLE_ANALYST,
	    VH_USE_SEARCH));
	assert_false(vh_consent_allows(VH_SCOPE_ANALYSIS_ONLY, VH_ROLE_ANALYST,
	    VH_USE_READ));
	assert_false(vh_consent_allows(VH_SCOPE_ANALYSIS_ONLY, VH_ROLE_ANALYST,
	    VH_USE_PLAY));
	assert_true(vh_consent_allows(VH_SCOPE_QUOTE_ANONYMISED,
	    VH_ROLE_ANALYST, VH_USE_QUOTE));
	assert_false(vh_consent_allows(VH_SCOPE_QUOTE_ANONYMISED,
	    VH_ROLE_ANALYST, VH_USE_PLAY));
	assert_true(vh_consent_allows(VH_SCOPE_AUDIO_TO_STAFF, VH_ROLE_ANALYST,
	    VH_USE_PLAY));
	assert_false(vh_consent_allows(VH_SCOPE_AUDIO_TO_STAFF, VH_ROLE_ANALYST,
	    VH_USE_QUOTE));
	assert_true(vh_consent_allows(VH_SCOPE_PUBLISH, VH_ROLE_ANALYST,
	    VH_USE_PLAY | VH_USE_QUOTE | VH_USE_PUBLISH));
	/* Reviewers read and hear everything, but quote only by consent. */
	assert_true(vh_consent_allows(VH_SCOPE_ANALYSIS_ONLY, VH_ROLE_MODERATOR,
	    VH_USE_READ | VH_USE_PLAY));
	assert_false(vh_consent_allows(VH_SCOPE_ANALYSIS_ONLY, VH_ROLE_ADMIN,
	    VH_USE_QUOTE));
	/* Staff's own notes carry no consent and are not restricted. */
	assert_true(vh_consent_allows(VH_SCOPE_NONE, VH_ROLE_ANALYST,
	    VH_USE_READ | VH_USE_PLAY | VH_USE_QUOTE));
	assert_false(vh_consent_allows(VH_SCOPE_NONE, VH_ROLE_ANALYST,
	    VH_USE_PUBLISH));
	/* Residents and strangers get nothing. */
	assert_int_equal(vh_consent_uses(VH_SCOPE_PUBLISH, VH_ROLE_RESIDENT), 0);
	assert_int_equal(vh_consent_uses(VH_SCOPE_PUBLISH, VH_ROLE_NONE), 0);
}

static void
test_sql(void **state)
{
	char buf[VH_CONSENT_SQL_LEN];

	(void)state;
	assert_string_equal(vh_consent_scopes_sql(buf, sizeof buf,
	    VH_ROLE_ANALYST, VH_USE_PLAY), "{\"\",audio_to_staff,publish}");
	assert_string_equal(vh_consent_scopes_sql(buf, sizeof buf,
	    VH_ROLE_ANALYST, VH_USE_QUOTE),
	    "{\"\",quote_anonymised,publish}");
	assert_string_equal(vh_consent_scopes_sql(buf, sizeof buf,
	    VH_ROLE_ANALYST, VH_USE_PUBLISH), "{publish}");
	assert_string_equal(vh_consent_scopes_sql(buf, sizeof buf,
	    VH_ROLE_RESIDENT, VH_USE_READ), "{}");
}

static void
test_filter(void **state)
{
	json_t *e;

	(void)state;
	e = json_loads("{\"title\":\"t\",\"text\":\"geheim\",\"media\":"
	    "[{\"id\":1,\"filename\":\"a.m4a\"}]}", 0, NULL);
	vh_consent_filter_entry(e, VH_SCOPE_ANALYSIS_ONLY, VH_ROLE_ANALYST);
	assert_true(json_is_null(json_object_get(e, "text")));
	assert_true(json_is_null(json_object_get(e, "title")));
	assert_non_null(json_object_get(e, "withheld"));
	assert_true(json_is_false(json_object_get(json_array_get(
	    json_object_get(e, "media"), 0), "playable")));
	json_decref(e);

	e = json_loads("{\"title\":\"t\",\"text\":\"hier\",\"media\":"
	    "[{\"id\":1}]}", 0, NULL);
	vh_consent_filter_entry(e, VH_SCOPE_AUDIO_TO_STAFF, VH_ROLE_ANALYST);
	assert_string_equal(json_string_value(json_object_get(e, "text")),
	    "hier");
	assert_true(json_is_true(json_object_get(json_array_get(
	    json_object_get(e, "media"), 0), "playable")));
	json_decref(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_sql),
		cmocka_unit_test(test_filter),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
