/* Migration plans: ordering by number, and rejected names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_migrate.h"
#include "vh_unused.h"

static void
test_orders_by_number(void **state VH_UNUSED)
{
	const struct vh_migration ms[] = {
		{ "0010_ten", "" }, { "0002_two", "" }, { "0001_one", "" },
		{ "0003_three", "" },
	};
	struct vh_migrate_plan *p = vh_migrate_plan_new(ms, 4, NULL);

	assert_non_null(p);
	assert_int_equal(vh_migrate_plan_count(p), 4);
	assert_string_equal(vh_migrate_plan_name(p, 0), "0001_one");
	assert_string_equal(vh_migrate_plan_name(p, 1), "0002_two");
	assert_string_equal(vh_migrate_plan_name(p, 2), "0003_three");
	assert_string_equal(vh_migrate_plan_name(p, 3), "0010_ten");
	assert_int_equal(vh_migrate_plan_version(p, 3), 10);
	assert_int_equal(vh_migrate_plan_latest(p), 10);
	vh_migrate_plan_free(p);
}

static void
expect_reject(const char *a, const char *b, const char *want)
{
	const struct vh_migration ms[] = { { a, "" }, { b, "" } };
	char *err = NULL;

	assert_null(vh_migrate_plan_new(ms, 2, &err));
	assert_non_null(err);
	if (strstr(err, want) == NULL)
		fail_msg("got '%s', want '%s'", err, want);
	free(err);
}

static void
test_rejects(void **state VH_UNUSED)
{
	expect_reject("0001_a", "0001_b", "share number 0001");
	expect_reject("0001_a", "1_b", "'1_b': name must be");
	expect_reject("0001_a", "0002-b", "'0002-b'");
	expect_reject("0001_a", "0000_zero", "'0000_zero'");
	expect_reject("0001_a", "0002_Upper", "'0002_Upper'");
	expect_reject("0001_a", "0002_", "'0002_'");
}

/* The migrations compiled into this build form a valid plan. */
static void
test_built_in_plan(void **state VH_UNUSED)
{
	char *err = NULL;
	struct vh_migrate_plan *p = vh_migrate_plan_new(vh_schema_migrations,
	    vh_schema_nmigrations, &err);

	if (p == NULL)
		fail_msg("%s", err);
	assert_true(vh_migrate_plan_count(p) >= 1);
	assert_string_equal(vh_migrate_plan_name(p, 0), "0001_foundation");
	vh_migrate_plan_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orders_by_number),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_built_in_plan),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
