/* Thread roles are per thread: a role stated on one thread is not seen by
 * another, so a worker's role never leaks to the loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <cmocka.h>

#include "vh_thread.h"

static void *
other(void *arg)
{
	enum vh_thread_role *seen = arg;

	*seen = vh_thread_role();
	vh_thread_set_role(VH_THREAD_WORKER);
	return (NULL);
}

static void
test_roles_are_per_thread(void **state)
{
	pthread_t		t;
	enum vh_thread_role	seen = VH_THREAD_LOOP;

	(void)state;
	assert_int_equal(vh_thread_role(), VH_THREAD_ANY);
	vh_thread_set_role(VH_THREAD_LOOP);
	assert_int_equal(pthread_create(&t, NULL, other, &seen), 0);
	pthread_join(t, NULL);
	assert_int_equal(seen, VH_THREAD_ANY);
	assert_int_equal(vh_thread_role(), VH_THREAD_LOOP);
	VH_ASSERT_LOOP();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles_are_per_thread),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
