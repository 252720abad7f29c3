/* Range header parsing against RFC 9110's rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vh_error.h"
#include "vh_unused.h"
#include "vh_serve.h"

static void
expect(const char *v, int64_t size, int rc, int64_t first, int64_t last)
{
	int64_t a = -1, b = -1;

	assert_int_equal(vh_serve_parse_range(v, size, &a, &b), rc);
	if (rc == 0) {
		assert_int_equal(a, first);
		assert_int_equal(b, last);
	}
}

static void
test_ranges(void **state VH_UNUSED)
{
	expect("bytes=0-99", 1000, 0, 0, 99);
	expect("bytes=100-", 1000, 0, 100, 999);
	expect("bytes=-100", 1000, 0, 900, 999);
	expect("bytes=-5000", 1000, 0, 0, 999);
	expect("bytes=990-2000", 1000, 0, 990, 999);
	expect("bytes=1000-", 1000, VH_EINVAL, 0, 0);
	expect("bytes=-0", 1000, VH_EINVAL, 0, 0);
	/* Ignored: served whole. */
	expect("bytes=5-1", 1000, VH_ENOENT, 0, 0);
	expect("bytes=0-1,5-6", 1000, VH_ENOENT, 0, 0);
	expect("items=0-1", 1000, VH_ENOENT, 0, 0);
	expect("bytes=a-b", 1000, VH_ENOENT, 0, 0);
	expect("bytes=99999999999999999999-", 1000, VH_ENOENT, 0, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_ranges) };
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
