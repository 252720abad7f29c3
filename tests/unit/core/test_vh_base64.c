/* Base64: RFC 4648 test vectors both ways, every strictness rule of the
 * decoder, and the unpadded url-safe encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_base64.h"
#include "vh_unused.h"
#include "vh_error.h"

static const struct {
	const char	*plain, *b64, *url;
} vectors[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static void
test_rfc4648_vectors(void **state VH_UNUSED)
{
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		uint8_t	 out[16];
		uint8_t	*dup;
		size_t	 n;
		char	*e;

		e = vh_base64_encode(vectors[i].plain, strlen(vectors[i].plain));
		assert_string_equal(e, vectors[i].b64);
		free(e);
		e = vh_base64url_encode(vectors[i].plain,
		    strlen(vectors[i].plain));
		assert_string_equal(e, vectors[i].url);
		free(e);
		assert_int_equal(vh_base64_decode(vectors[i].b64,
		    strlen(vectors[i].b64), out, &n), 0);
		assert_int_equal(n, strlen(vectors[i].plain));
		assert_memory_equal(out, vectors[i].plain, n);
		assert_int_equal(vh_base64_decode_alloc(vectors[i].b64,
		    strlen(vectors[i].b64), &dup, &n), 0);
		assert_string_equal((char *)dup, vectors[i].plain);
		free(dup);
	}
}

static void
test_binary_roundtrip(void **state VH_UNUSED)
{
	uint8_t	 all[256], out[256];
	size_t	 n;
	char	*e;

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	for (size_t len = 0; len <= sizeof all; len++) {
		e = vh_base64_encode(all, len);
		assert_int_equal(strlen(e), (len + 2) / 3 * 4);
		assert_int_equal(vh_base64_decode(e, strlen(e), out, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, all, len);
		free(e);
	}
	/* 0xfb 0xff encodes to '+' and '/' or '-' and '_'. */
	e = vh_base64_encode("\xfb\xff\xbf", 3);
	assert_string_equal(e, "+/+/");
	free(e);
	e = vh_base64url_encode("\xfb\xff\xbf", 3);
	assert_string_equal(e, "-_-_");
	free(e);
}

static void
expect_bad(const char *s)
{
	uint8_t	 out[64];
	uint8_t	*dup = (uint8_t *)"x";
	size_t	 n;

	if (vh_base64_decode(s, strlen(s), out, &n) != VH_EINVAL)
		fail_msg("'%s' was accepted", s);
	assert_int_equal(vh_base64_decode_alloc(s, strlen(s), &dup, &n),
	    VH_EINVAL);
	assert_null(dup);
}

static void
test_strict_decode(void **state VH_UNUSED)
{
	expect_bad("Zg");		/* padding required */
	expect_bad("Zg=");
	expect_bad("Zm9vY");
	expect_bad("Zm9v YmFy");	/* no whitespace */
	expect_bad("Zm9v\nYmFy");
	expect_bad(" Zm9v");
	expect_bad("Zm9vYmFy\r\n");
	expect_bad("Zg==Zg==");		/* padding only at the end */
	expect_bad("Z===");
	expect_bad("====");
	expect_bad("Zm=v");
	expect_bad("Zh==");		/* stray bits under the padding */
	expect_bad("Zm9=");
	expect_bad("-_-_");		/* url-safe alphabet is not standard */
	expect_bad("Zm9v*mFy");
	expect_bad("Zm9v\x80mFy");
}

static void
test_decode_embedded_nul(void **state VH_UNUSED)
{
	uint8_t	*dup;
	size_t	 n;

	/* "AGEA" is "\0a\0": binary values keep their length. */
	assert_int_equal(vh_base64_decode_alloc("AGEA", 4, &dup, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(dup, "\0a\0", 4);
	free(dup);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_binary_roundtrip),
		cmocka_unit_test(test_strict_decode),
		cmocka_unit_test(test_decode_embedded_nul),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
