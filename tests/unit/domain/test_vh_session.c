/* Session helpers: Cookie header parsing, the Set-Cookie value, the
 * throttling key of an address, and which methods need a CSRF token. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_session.h"
#include "vh_unused.h"

static void
expect_cookie(const char *header, const char *name, const char *want)
{
	char *v = vh_cookie_get(header, name);

	if (want == NULL)
		assert_null(v);
	else {
		assert_non_null(v);
		assert_string_equal(v, want);
	}
	free(v);
}

static void
test_cookie_get(void **state VH_UNUSED)
{
	expect_cookie(NULL, "vh_session", NULL);
	expect_cookie("", "vh_session", NULL);
	expect_cookie("vh_session=abc", "vh_session", "abc");
	expect_cookie("a=1; vh_session=abc; b=2", "vh_session", "abc");
	expect_cookie("a=1;vh_session=abc", "vh_session", "abc");
	expect_cookie("vh_session=\"abc\"", "vh_session", "abc");
	expect_cookie("vh_session=abc  ", "vh_session", "abc");
	/* Names match whole: no prefix or suffix matches. */
	expect_cookie("xvh_session=abc; vh_sessionx=def", "vh_session", NULL);
	expect_cookie("vh_session", "vh_session", NULL);
	expect_cookie("vh_session=; other=1", "vh_session", NULL);
	/* The first of duplicates (the most specific path) wins. */
	expect_cookie("vh_session=one; vh_session=two", "vh_session", "one");
	/* A value may hold '='. */
	expect_cookie("t=a=b; vh_session=x=y", "vh_session", "x=y");
	expect_cookie("t=a=b", "t", "a=b");
}

static void
test_cookie_set(void **state VH_UNUSED)
{
	char *c = vh_cookie_session("vh_abc", 3600, false);

	assert_string_equal(c, "vh_session=vh_abc; Path=/api/; Max-Age=3600; "
	    "HttpOnly; SameSite=Strict");
	free(c);
	c = vh_cookie_session("", 0, true);
	assert_string_equal(c, "vh_session=; Path=/api/; Max-Age=0; HttpOnly; "
	    "SameSite=Strict; Secure");
	free(c);
}

static void
expect_key(const char *addr, const char *want)
{
	char out[64];

	vh_session_addr_key(addr, out, sizeof out);
	assert_string_equal(out, want);
}

static void
test_addr_key(void **state VH_UNUSED)
{
	expect_key("127.0.0.1", "127.0.0.1");
	expect_key("::ffff:192.0.2.7", "192.0.2.7");
	/* Every address of one /64 counts as one. */
	expect_key("2001:db8:1:2::1", "2001:db8:1:2::/64");
	expect_key("2001:db8:1:2:ffff:eeee:dddd:cccc", "2001:db8:1:2::/64");
	expect_key("2001:db8:1:3::1", "2001:db8:1:3::/64");
	expect_key("::1", "0:0:0:0::/64");
	expect_key("not an address", "");
	expect_key("?", "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_get),
		cmocka_unit_test(test_cookie_set),
		cmocka_unit_test(test_addr_key),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
