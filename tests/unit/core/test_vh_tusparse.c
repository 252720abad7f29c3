/* tus headers: Upload-Metadata pairs and each rule that rejects one,
 * Upload-Checksum algorithms and digest lengths, strict integers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_base64.h"
#include "vh_unused.h"
#include "vh_error.h"
#include "vh_tusparse.h"

static struct vh_tus_metadata *
parse_ok(const char *s)
{
	struct vh_tus_metadata *md = NULL;
	const char	*why = NULL;

	if (vh_tus_metadata_parse(s, strlen(s), &md, &why) != 0)
		fail_msg("'%s' rejected: %s", s, why);
	assert_non_null(md);
	return (md);
}

static void
test_metadata_good(void **state VH_UNUSED)
{
	struct vh_tus_metadata *md;
	size_t		 len;
	const char	*v;

	/* filename "world_domination_plan.pdf", is_confidential without value */
	md = parse_ok("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,"
	    "is_confidential, filetype YXBwbGljYXRpb24vcGRm");
	assert_int_equal(vh_tus_metadata_count(md), 3);
	assert_string_equal(vh_tus_metadata_key(md, 0), "filename");
	assert_string_equal(vh_tus_metadata_key(md, 1), "is_confidential");
	assert_string_equal(vh_tus_metadata_key(md, 2), "filetype");
	assert_null(vh_tus_metadata_key(md, 3));
	v = vh_tus_metadata_get(md, "filename", &len);
	assert_string_equal(v, "world_domination_plan.pdf");
	assert_int_equal(len, 25);
	v = vh_tus_metadata_get(md, "is_confidential", &len);
	assert_string_equal(v, "");
	assert_int_equal(len, 0);
	assert_string_equal(vh_tus_metadata_get(md, "filetype", NULL),
	    "application/pdf");
	assert_null(vh_tus_metadata_get(md, "FILENAME", NULL));
	assert_null(vh_tus_metadata_get(md, "missing", &len));
	vh_tus_metadata_free(md);

	/* Empty header, binary value, empty value, spaces around pairs. */
	md = parse_ok("");
	assert_int_equal(vh_tus_metadata_count(md), 0);
	vh_tus_metadata_free(md);
	md = parse_ok("\tbin AGEA ,  e ");
	v = vh_tus_metadata_get(md, "bin", &len);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "\0a\0", 4);
	assert_string_equal(vh_tus_metadata_get(md, "e", &len), "");
	vh_tus_metadata_free(md);
	vh_tus_metadata_free(NULL);
}

static void
expect_bad(const char *s, size_t len, const char *why_part)
{
	struct vh_tus_metadata *md = (struct vh_tus_metadata *)1;
	const char	*why = NULL;

	if (vh_tus_metadata_parse(s, len, &md, &why) != VH_EINVAL)
		fail_msg("'%.60s' accepted", s);
	assert_null(md);
	assert_non_null(why);
	if (strstr(why, why_part) == NULL)
		fail_msg("'%.60s': got '%s', want '%s'", s, why, why_part);
}

static void
test_metadata_bad(void **state VH_UNUSED)
{
	char	 big[20000], key[80];
	size_t	 n = 0;

	expect_bad("a Zg==,", 7, "empty");
	expect_bad(",a Zg==", 7, "empty");
	expect_bad("a Zg==,,b", 9, "empty");
	expect_bad("a Zg", 4, "base64");
	expect_bad("a Zg==x", 7, "base64");
	expect_bad("a  Zg==", 7, "base64");
	expect_bad("a Zg== Zg==", 11, "base64");
	expect_bad("a Zg==,a", 8, "duplicate");
	expect_bad("k\x01 Zg==", 7, "character");
	expect_bad("k\xc3\xa9 Zg==", 8, "character");
	expect_bad("k\x7f", 2, "character");
	memset(key, 'k', 65);
	expect_bad(key, 65, "1 to 64");
	assert_int_equal(sizeof big > 16 * 1024 + 1, 1);
	memset(big, ' ', sizeof big);
	expect_bad(big, 16 * 1024 + 1, "too long");
	/* 65 distinct keys. */
	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "%sk%d",
		    i ? "," : "", i);
	expect_bad(big, n, "too many");
}

static void
test_metadata_limits_ok(void **state VH_UNUSED)
{
	struct vh_tus_metadata *md;
	char	 buf[1024];
	size_t	 n = 0;

	/* Exactly 64 pairs and a 64-character key are fine. */
	for (int i = 0; i < 63; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "k%d,", i);
	memset(buf + n, 'x', 64);
	buf[n + 64] = '\0';
	md = parse_ok(buf);
	assert_int_equal(vh_tus_metadata_count(md), 64);
	assert_int_equal(strlen(vh_tus_metadata_key(md, 63)), 64);
	vh_tus_metadata_free(md);
}

static void
test_checksum(void **state VH_UNUSED)
{
	enum vh_tus_algo algo;
	uint8_t	 d[32], want[32];
	size_t	 n;
	char	*b64, line[80];

	for (int i = 0; i < 32; i++)
		want[i] = (uint8_t)(i * 7 + 1);
	b64 = vh_base64_encode(want, 20);
	snprintf(line, sizeof line, "sha1 %s", b64);
	free(b64);
	assert_int_equal(vh_tus_checksum_parse(line, &algo, d, &n), 0);
	assert_int_equal(algo, VH_TUS_SHA1);
	assert_int_equal(n, 20);
	assert_memory_equal(d, want, 20);

	b64 = vh_base64_encode(want, 32);
	snprintf(line, sizeof line, "SHA256 %s", b64);
	assert_int_equal(vh_tus_checksum_parse(line, &algo, d, &n), 0);
	assert_int_equal(algo, VH_TUS_SHA256);
	assert_int_equal(n, 32);
	assert_memory_equal(d, want, 32);

	/* The other algorithm's digest length does not fit. */
	snprintf(line, sizeof line, "sha1 %s", b64);
	assert_int_equal(vh_tus_checksum_parse(line, &algo, d, &n), VH_EINVAL);
	snprintf(line, sizeof line, "md5 %s", b64);
	assert_int_equal(vh_tus_checksum_parse(line, &algo, d, &n), VH_ENOTSUP);
	snprintf(line, sizeof line, "sha256  %s", b64);
	assert_int_equal(vh_tus_checksum_parse(line, &algo, d, &n), VH_EINVAL);
	snprintf(line, sizeof line, "sha256 %s ", b64);
	assert_int_equal(vh_tus_checksum_parse(line, &algo, d, &n), VH_EINVAL);
	free(b64);
	/* 44 characters without padding would decode to 33 bytes. */
	assert_int_equal(vh_tus_checksum_parse("sha256 "
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &algo, d, &n),
	    VH_EINVAL);
	assert_int_equal(vh_tus_checksum_parse("sha1", &algo, d, &n), VH_EINVAL);
	assert_int_equal(vh_tus_checksum_parse("", &algo, d, &n), VH_EINVAL);
	assert_int_equal(vh_tus_checksum_parse(" sha1 x", &algo, d, &n),
	    VH_EINVAL);
	assert_int_equal(vh_tus_checksum_parse("sha1 ", &algo, d, &n),
	    VH_EINVAL);
	assert_int_equal(vh_tus_checksum_parse("sha1 !!!!", &algo, d, &n),
	    VH_EINVAL);
}

static void
test_int64_strict(void **state VH_UNUSED)
{
	int64_t	 v = -1;

	assert_int_equal(vh_parse_int64_strict("0", 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(vh_parse_int64_strict("0012", 4, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(vh_parse_int64_strict("9223372036854775807", 19, &v),
	    0);
	assert_int_equal(v, INT64_MAX);
	/* Only len bytes count. */
	assert_int_equal(vh_parse_int64_strict("12x", 2, &v), 0);
	assert_int_equal(v, 12);
	v = 5;
	assert_int_equal(vh_parse_int64_strict("9223372036854775808", 19, &v),
	    VH_EINVAL);
	assert_int_equal(vh_parse_int64_strict("99999999999999999999", 20,
	    &v), VH_EINVAL);
	assert_int_equal(vh_parse_int64_strict("", 0, &v), VH_EINVAL);
	assert_int_equal(vh_parse_int64_strict("-1", 2, &v), VH_EINVAL);
	assert_int_equal(vh_parse_int64_strict("+1", 2, &v), VH_EINVAL);
	assert_int_equal(vh_parse_int64_strict(" 1", 2, &v), VH_EINVAL);
	assert_int_equal(vh_parse_int64_strict("1 ", 2, &v), VH_EINVAL);
	assert_int_equal(vh_parse_int64_strict("0x1", 3, &v), VH_EINVAL);
	assert_int_equal(vh_parse_int64_strict("1\0", 2, &v), VH_EINVAL);
	assert_int_equal(v, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadata_good),
		cmocka_unit_test(test_metadata_bad),
		cmocka_unit_test(test_metadata_limits_ok),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_int64_strict),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
