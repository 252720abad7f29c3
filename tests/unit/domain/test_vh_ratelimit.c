/*
 * Rate limiting: the key an address counts under. The counting itself is
 * one SQL statement against PostgreSQL (tests/e2e/uploads_tus_security
 * checks it across restarts).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vh_ratelimit.h"
#include "vh_unused.h"

static void
test_ipv4(void **state VH_UNUSED)
{
	char a[VH_RATELIMIT_KEY_LEN], b[VH_RATELIMIT_KEY_LEN];

	vh_ratelimit_key("10.0.0.1", a);
	assert_string_equal(a, "10.0.0.1");
	vh_ratelimit_key("10.0.0.2", b);
	assert_string_not_equal(a, b);
	/* An IPv4-mapped IPv6 address is the IPv4 address. */
	vh_ratelimit_key("::ffff:10.0.0.1", b);
	assert_string_equal(a, b);
}

static void
test_ipv6_by_64(void **state VH_UNUSED)
{
	char a[VH_RATELIMIT_KEY_LEN], b[VH_RATELIMIT_KEY_LEN];

	/* A host rotating its interface id stays one client. */
	vh_ratelimit_key("2001:db8:1:2::1", a);
	vh_ratelimit_key("2001:db8:1:2:dead:beef:0:7", b);
	assert_string_equal(a, b);
	assert_string_equal(a, "2001:db8:1:2::/64");
	/* The next /64 is another client. */
	vh_ratelimit_key("2001:db8:1:3::1", b);
	assert_string_not_equal(a, b);
}

static void
test_not_an_address(void **state VH_UNUSED)
{
	char a[VH_RATELIMIT_KEY_LEN];

	vh_ratelimit_key("", a);
	assert_string_equal(a, "-");
	vh_ratelimit_key("unix:/run/x", a);
	assert_string_equal(a, "-");
}

static void
test_window_length_kept(void **state VH_UNUSED)
{
	struct vh_ratelimit *rl = vh_ratelimit_new(1000);

	assert_non_null(rl);
	vh_ratelimit_free(rl);
	vh_ratelimit_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6_by_64),
		cmocka_unit_test(test_not_an_address),
		cmocka_unit_test(test_window_length_kept),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
