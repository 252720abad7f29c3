/* Search filter checks that run on the loop thread before any query:
 * slugs, periods, and the viewer object every filter starts from. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_api_search.h"
#include "vh_config.h"

static void
test_slugs(void **state)
{
	char long_slug[70];

	(void)state;
	assert_true(vh_search_slug_ok("woninginbraak"));
	assert_true(vh_search_slug_ok("overlast-en-leefbaarheid"));
	assert_true(vh_search_slug_ok("wg-2018"));
	assert_false(vh_search_slug_ok(""));
	assert_false(vh_search_slug_ok("-geweld"));
	assert_false(vh_search_slug_ok("Geweld"));
	assert_false(vh_search_slug_ok("geweld'; DROP TABLE entry; --"));
	assert_false(vh_search_slug_ok("a b"));
	memset(long_slug, 'a', 65);
	long_slug[65] = '\0';
	assert_false(vh_search_slug_ok(long_slug));
	long_slug[64] = '\0';
	assert_true(vh_search_slug_ok(long_slug));
}

static void
test_periods(void **state)
{
	(void)state;
	assert_true(vh_search_period_ok("2023"));
	assert_true(vh_search_period_ok("2023-05"));
	assert_true(vh_search_period_ok("2023-05-10"));
	assert_false(vh_search_period_ok("23"));
	assert_false(vh_search_period_ok("2023-5"));
	assert_false(vh_search_period_ok("2023/05/10"));
	assert_false(vh_search_period_ok("2023-05-10T00"));
	assert_false(vh_search_period_ok("abcd"));
	assert_false(vh_search_period_ok(""));
}

static void
test_viewer(void **state)
{
	struct vh_principal	 p = { .role = VH_ROLE_ANALYST, .account_id = 42 };
	json_t			*f;

	(void)state;
	f = vh_search_viewer(&p, 7);
	assert_string_equal(json_string_value(json_object_get(f, "role")),
	    "analyst");
	assert_int_equal(json_integer_value(json_object_get(f, "account")), 42);
	assert_int_equal(json_integer_value(json_object_get(f, "k")), 7);
	json_decref(f);
}

static void
test_k_default(void **state)
{
	struct vh_config *cfg = vh_config_new();

	(void)state;
	assert_int_equal(cfg->small_count_k, 5);
	vh_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slugs),
		cmocka_unit_test(test_periods),
		cmocka_unit_test(test_viewer),
		cmocka_unit_test(test_k_default),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
