/* Audit helpers: filter times (dates kept, durations counted back from
 * now), action words, and the access names of the route table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_audit.h"
#include "vh_unused.h"
#include "vh_error.h"
#include "vh_routes.h"

static void
test_parse_time(void **state VH_UNUSED)
{
	char	out[40];
	time_t	now = 1700000000;	/* 2023-11-14T22:13:20Z */

	assert_int_equal(vh_audit_parse_time("24h", now, out), 0);
	assert_string_equal(out, "2023-11-13T22:13:20Z");
	assert_int_equal(vh_audit_parse_time("7d", now, out), 0);
	assert_string_equal(out, "2023-11-07T22:13:20Z");
	assert_int_equal(vh_audit_parse_time("90m", now, out), 0);
	assert_string_equal(out, "2023-11-14T20:43:20Z");
	assert_int_equal(vh_audit_parse_time("2024-01-02", now, out), 0);
	assert_string_equal(out, "2024-01-02");
	assert_int_equal(vh_audit_parse_time("2024-01-02T03:04:05+01:00", now,
	    out), 0);
	/* A bare number is neither a date nor a duration with a unit. */
	assert_int_equal(vh_audit_parse_time("2024", now, out), VH_EINVAL);
	assert_int_equal(vh_audit_parse_time("yesterday", now, out), VH_EINVAL);
	assert_int_equal(vh_audit_parse_time("2024-01-02'; DROP", now, out),
	    VH_EINVAL);
	assert_int_equal(vh_audit_parse_time("", now, out), VH_EINVAL);
}

static void
test_words(void **state VH_UNUSED)
{
	assert_true(vh_audit_word_ok("read", 0));
	assert_true(vh_audit_word_ok("login_failed", 0));
	assert_false(vh_audit_word_ok("", 0));
	assert_true(vh_audit_word_ok("", 1));
	assert_false(vh_audit_word_ok("Read", 0));
	assert_false(vh_audit_word_ok("_read", 0));
	assert_false(vh_audit_word_ok("re-ad", 0));
	assert_false(vh_audit_word_ok("abcdefghijklmnopqrstuvwxyzabcdefg", 0));
}

static void
expect_access(unsigned access, const char *want)
{
	char *s = vh_route_access_name(access);

	assert_string_equal(s, want);
	free(s);
}

static void
test_access_names(void **state VH_UNUSED)
{
	expect_access(VH_ACCESS_PUBLIC, "public");
	expect_access(VH_ACCESS_OPTIONAL, "optional");
	expect_access(VH_ROLE_ADMIN, "admin");
	expect_access(VH_ROLE_ADMIN | VH_ROLE_FIELDWORKER, "admin,fieldworker");
	expect_access(VH_ROLES_ACCOUNTS,
	    "admin,moderator,analyst,fieldworker");
	expect_access(VH_ROLE_RESIDENT | VH_ROLE_FIELDWORKER,
	    "fieldworker,resident");
	assert_string_equal(vh_route_method_name(VH_HTTP_DELETE), "DELETE");
}

/* Every route of the table: a rooted pattern, a known method, an access
 * mask of known bits, and no route twice. */
struct seen {
	char	*key[256];
	size_t	 n;
};

static void
check_route(enum vh_http_method m, const char *pattern, unsigned access,
    void *arg)
{
	struct seen	*s = arg;
	char		 key[300];

	assert_true(pattern[0] == '/');
	assert_string_not_equal(vh_route_method_name(m), "OTHER");
	assert_int_equal(access & ~(VH_ACCESS_OPTIONAL | VH_ROLES_ACCOUNTS |
	    VH_ROLE_RESIDENT), 0);
	snprintf(key, sizeof key, "%s %s", vh_route_method_name(m), pattern);
	for (size_t i = 0; i < s->n; i++)
		assert_string_not_equal(s->key[i], key);
	assert_true(s->n < 256);
	s->key[s->n++] = strdup(key);
}

static void
test_route_table(void **state VH_UNUSED)
{
	struct seen s = { .n = 0 };

	vh_routes_each(check_route, &s);
	assert_true(s.n >= 15);
	for (size_t i = 0; i < s.n; i++)
		free(s.key[i]);
}

/* The one list of audited actions: valid, distinct words, each saying
 * what it records; the lookup finds each and nothing else. */
static void
test_action_list(void **state)
{
	const struct vh_audit_action	*a;
	size_t				 n;

	(void)state;
	a = vh_audit_actions(&n);
	assert_true(n >= 20);
	for (size_t i = 0; i < n; i++) {
		assert_true(vh_audit_word_ok(a[i].name, 0));
		assert_non_null(a[i].objects);
		assert_true(strlen(a[i].what) > 5);
		assert_ptr_equal(vh_audit_action_find(a[i].name), &a[i]);
		for (size_t k = i + 1; k < n; k++)
			assert_string_not_equal(a[i].name, a[k].name);
	}
	assert_null(vh_audit_action_find("peek"));
	assert_non_null(vh_audit_action_find("play"));
	assert_true(vh_audit_action_find("play")->daily);
	assert_false(vh_audit_action_find("export")->daily);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_action_list),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_access_names),
		cmocka_unit_test(test_route_table),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
