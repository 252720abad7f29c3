/* Rate limiting: the limit holds within a window and resets after it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vh_ratelimit.h"

static void
test_window(void **state)
{
	struct vh_ratelimit *rl = vh_ratelimit_new(1000);
	int64_t retry = 0;

	for (int i = 0; i < 3; i++)
		assert_true(vh_ratelimit_hit(rl, "10.0.0.1", 3, 100, &retry));
	assert_false(vh_ratelimit_hit(rl, "10.0.0.1", 3, 400, &retry));
	assert_int_equal(retry, 1);
	/* Another address has its own count. */
	assert_true(vh_ratelimit_hit(rl, "10.0.0.2", 3, 400, &retry));
	/* A new window starts over. */
	assert_true(vh_ratelimit_hit(rl, "10.0.0.1", 3, 1100, &retry));
	vh_ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_window) };
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
