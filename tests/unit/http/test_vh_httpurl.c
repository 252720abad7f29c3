/* Request-target helpers: path decoding and what it refuses, raw query,
 * and form-urlencoded lookups. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_error.h"
#include "vh_unused.h"
#include "vh_httpparse.h"

static void
split_ok(const char *target, const char *want_path, const char *want_query)
{
	char	*path = NULL, *query = NULL;

	if (vh_http_split_target(target, strlen(target), &path, &query) != 0)
		fail_msg("'%s' rejected", target);
	assert_string_equal(path, want_path);
	assert_string_equal(query, want_query);
	free(path);
	free(query);
}

static void
split_bad(const char *target, size_t len)
{
	char	*path = (char *)1, *query = (char *)1;

	if (vh_http_split_target(target, len, &path, &query) != VH_EINVAL)
		fail_msg("'%s' accepted", target);
	assert_null(path);
	assert_null(query);
}

#define SPLIT_BAD(s)	split_bad(s, sizeof(s) - 1)

static void
test_split_good(void **state VH_UNUSED)
{
	split_ok("/", "/", "");
	split_ok("/files/abc", "/files/abc", "");
	split_ok("/files/abc?", "/files/abc", "");
	split_ok("/a%20b/c%2Bd+e?x=%41&y", "/a b/c+d+e", "x=%41&y");
	split_ok("/a?b?c", "/a", "b?c");
	split_ok("/caf%C3%A9", "/caf\xc3\xa9", "");
	split_ok("//double//slash/", "//double//slash/", "");
	split_ok("/.well-known/x", "/.well-known/x", "");
	split_ok("/a.b/..c/c..", "/a.b/..c/c..", "");
	split_ok("/a?../..", "/a", "../..");
	split_ok("*", "*", "");
	/* Only len bytes count. */
	{
		char	*p, *q;

		assert_int_equal(vh_http_split_target("/ab?cd", 2, &p, &q), 0);
		assert_string_equal(p, "/a");
		assert_string_equal(q, "");
		free(p);
		free(q);
	}
}

static void
test_split_bad(void **state VH_UNUSED)
{
	SPLIT_BAD("");
	SPLIT_BAD("files");
	SPLIT_BAD("http://h/x");
	SPLIT_BAD("**");
	SPLIT_BAD("/a#frag");
	SPLIT_BAD("/a%00b");
	SPLIT_BAD("/a\0b");
	SPLIT_BAD("/a%");
	SPLIT_BAD("/a%4");
	SPLIT_BAD("/a%4g");
	SPLIT_BAD("/a%g4");
	SPLIT_BAD("/a%%41");
	SPLIT_BAD("/.");
	SPLIT_BAD("/..");
	SPLIT_BAD("/./a");
	SPLIT_BAD("/a/../b");
	SPLIT_BAD("/a/..");
	SPLIT_BAD("/a/.?x");
	SPLIT_BAD("/%2e%2e/etc");
	SPLIT_BAD("/a/%2E");
	SPLIT_BAD("/a%2F..%2Fb");
	SPLIT_BAD("/a%2f.");
}

static void
query_is(const char *query, const char *name, const char *want)
{
	char	*v = vh_http_query_get(query, name);

	if (want == NULL) {
		if (v != NULL)
			fail_msg("%s: got '%s'", name, v);
		return;
	}
	if (v == NULL)
		fail_msg("%s: missing", name);
	assert_string_equal(v, want);
	free(v);
}

static void
test_query_get(void **state VH_UNUSED)
{
	const char	*q = "a=1&b=two+words&c=%3D%26%2B&d&e=&a=2&f%5Bx%5D=y&"
	    "g+h=i&bad=%zz&nul=%00";

	query_is(q, "a", "1");
	query_is(q, "b", "two words");
	query_is(q, "c", "=&+");
	query_is(q, "d", "");
	query_is(q, "e", "");
	query_is(q, "f[x]", "y");
	query_is(q, "g h", "i");
	query_is(q, "bad", NULL);
	query_is(q, "nul", NULL);
	query_is(q, "missing", NULL);
	query_is(q, "A", NULL);
	query_is(q, "", NULL);
	query_is("", "a", NULL);
	query_is("&&a=1&", "a", "1");
	query_is("x=1=2", "x", "1=2");
	query_is(NULL, "a", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_good),
		cmocka_unit_test(test_split_bad),
		cmocka_unit_test(test_query_get),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
