/* Text notes: valid UTF-8 passes with BOM and CRs normalised; every
 * malformed form is rejected with its offset; size limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vh_error.h"
#include "vh_unused.h"
#include "vh_text.h"

static char	path[] = "/tmp/vh_text_XXXXXX";

static void
write_file(const char *data, size_t len)
{
	FILE	*f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int
validate(const char *data, size_t len, size_t max, char **out, char **err)
{
	write_file(data, len);
	return (vh_text_validate(path, max, out, err));
}

static void
expect_ok(const char *data, size_t len, const char *want)
{
	char	*out = NULL, *err = NULL;

	assert_int_equal(validate(data, len, 1024, &out, &err), 0);
	assert_null(err);
	assert_string_equal(out, want);
	free(out);
}

static void
expect_bad(const char *data, size_t len, const char *reason)
{
	char	*out = NULL, *err = NULL;

	assert_int_equal(validate(data, len, 1024, &out, &err), VH_EINVAL);
	assert_null(out);
	if (strstr(err, reason) == NULL)
		fail_msg("'%s' lacks '%s'", err, reason);
	free(err);
}

#define OK(s, w)	expect_ok(s, sizeof(s) - 1, w)
#define BAD(s, r)	expect_bad(s, sizeof(s) - 1, r)

static void
test_valid(void **state VH_UNUSED)
{
	OK("", "");
	OK("Hallo buurt\n", "Hallo buurt\n");
	/* Two, three and four byte forms at their edges. */
	OK("\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xef\xbf\xbf", "\xc2\x80 \xdf\xbf "
	    "\xe0\xa0\x80 \xef\xbf\xbf");
	OK("\xed\x9f\xbf \xee\x80\x80", "\xed\x9f\xbf \xee\x80\x80");
	OK("\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf", "\xf0\x90\x80\x80 "
	    "\xf4\x8f\xbf\xbf");
	OK("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 "
	    "\xe2\x82\xac \xf0\x9f\x98\x80");
}

static void
test_normalise(void **state VH_UNUSED)
{
	OK("\xef\xbb\xbfMet BOM", "Met BOM");
	OK("a\r\nb\r\n", "a\nb\n");
	OK("a\rb\r", "a\nb\n");
	OK("a\r\r\nb", "a\n\nb");
	/* Only a leading BOM goes. */
	OK("x\xef\xbb\xbfy", "x\xef\xbb\xbfy");
}

static void
test_invalid(void **state VH_UNUSED)
{
	BAD("ab\xc0\xaf", "byte 2");		/* overlong '/' */
	BAD("\xc1\xbf", "byte 0");		/* overlong */
	BAD("\xe0\x80\xaf", "byte 0");		/* overlong, 3 bytes */
	BAD("\xe0\x9f\xbf", "byte 0");
	BAD("\xf0\x8f\xbf\xbf", "byte 0");	/* overlong, 4 bytes */
	BAD("\xed\xa0\x80", "byte 0");		/* high surrogate */
	BAD("\xed\xbf\xbf", "byte 0");		/* low surrogate */
	BAD("\xf4\x90\x80\x80", "byte 0");	/* above U+10FFFF */
	BAD("\xf5\x80\x80\x80", "byte 0");
	BAD("\xff", "byte 0");
	BAD("\x80", "byte 0");			/* stray continuation */
	BAD("abc\xe2\x82", "byte 3");		/* truncated at the end */
	BAD("\xe2\x28\xa1", "byte 0");		/* bad continuation */
	BAD("\xf0\x9f\x98", "byte 0");
	BAD("a\0b", "NUL byte at offset 1");
	/* Latin-1 from an old editor. */
	BAD("caf\xe9\n", "byte 3");
	/* UTF-16 with its BOM is not UTF-8. */
	BAD("\xff\xfeh\0i\0", "byte 0");
}

static void
test_limits(void **state VH_UNUSED)
{
	char	*out = NULL, *err = NULL;

	assert_int_equal(validate("12345", 5, 5, &out, &err), 0);
	free(out);
	assert_int_equal(validate("123456", 6, 5, &out, &err), VH_ETOOBIG);
	assert_null(out);
	free(err);
	assert_int_equal(vh_text_validate("/nonexistent/x", 5, &out, &err),
	    VH_ENOENT);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_limits),
	};
	int	fd, rc;

	if ((fd = mkstemp(path)) == -1)
		return (1);
	close(fd);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return (rc);
}
