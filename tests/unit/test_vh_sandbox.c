/* The sandbox: a child that succeeds hands its result back; one that
 * crashes, hangs, burns CPU or fails gets a reason, and the parent lives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "vh_error.h"
#include "vh_sandbox.h"

struct answer {
	int	value;
	pid_t	pid;
	char	text[32];
};

static int
work_ok(void *arg, void *result, size_t size, char *errbuf)
{
	struct answer *a = result;

	assert_int_equal(size, sizeof(*a));
	a->value = *(int *)arg * 2;
	a->pid = getpid();
	snprintf(a->text, sizeof(a->text), "done");
	return (0);
}

static int
work_crash(void *arg, void *result, size_t size, char *errbuf)
{
	raise(SIGSEGV);
	return (0);
}

static int
work_hang(void *arg, void *result, size_t size, char *errbuf)
{
	for (;;)
		pause();
	return (0);
}

static int
work_spin(void *arg, void *result, size_t size, char *errbuf)
{
	volatile unsigned long x = 0;

	for (;;)
		x++;
	return (0);
}

static int
work_fail(void *arg, void *result, size_t size, char *errbuf)
{
	snprintf(errbuf, VH_SANDBOX_ERRLEN, "not an audio file");
	return (VH_EINVAL);
}

/* Reports whether the parent's descriptor is still open in the child. */
static int
work_fd(void *arg, void *result, size_t size, char *errbuf)
{
	*(int *)result = fcntl(*(int *)arg, F_GETFD) != -1 ? 1 : 0;
	return (0);
}

static void
limits(struct vh_sandbox_limits *l, int64_t timeout_ms)
{
	vh_sandbox_limits_default(l);
	l->timeout_ms = timeout_ms;
}

static void
test_success(void **state)
{
	struct vh_sandbox_limits l;
	struct answer	 a;
	char		*err = NULL;
	int		 in = 21;

	limits(&l, 10000);
	memset(&a, 0, sizeof(a));
	assert_int_equal(vh_sandbox_run(&l, work_ok, &in, &a, sizeof(a), &err),
	    0);
	assert_null(err);
	assert_int_equal(a.value, 42);
	assert_string_equal(a.text, "done");
	assert_int_not_equal(a.pid, getpid());
}

static void
test_crash(void **state)
{
	struct vh_sandbox_limits l;
	struct answer	 a;
	char		*err = NULL;

	limits(&l, 10000);
	assert_int_equal(vh_sandbox_run(&l, work_crash, NULL, &a, sizeof(a),
	    &err), VH_EIO);
	assert_non_null(err);
	assert_string_equal(err, "decoder crashed (signal 11)");
	free(err);
}

static void
test_timeout(void **state)
{
	struct vh_sandbox_limits l;
	struct timespec	 t0, t1;
	struct answer	 a;
	char		*err = NULL;
	double		 s;

	limits(&l, 1000);
	l.what = "photo decoder";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vh_sandbox_run(&l, work_hang, NULL, &a, sizeof(a),
	    &err), VH_EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_string_equal(err, "photo decoder timed out after 1 s");
	assert_true(s >= 0.9 && s < 5.0);
	free(err);
}

static void
test_cpu_limit(void **state)
{
	struct vh_sandbox_limits l;
	struct answer	 a;
	char		*err = NULL;

	limits(&l, 20000);
	l.cpu_seconds = 1;
	assert_int_equal(vh_sandbox_run(&l, work_spin, NULL, &a, sizeof(a),
	    &err), VH_EIO);
	assert_non_null(strstr(err, "more than 1 s of CPU time"));
	free(err);
}

static void
test_child_error(void **state)
{
	struct answer	 a;
	char		*err = NULL;

	assert_int_equal(vh_sandbox_run(NULL, work_fail, NULL, &a, sizeof(a),
	    &err), VH_EINVAL);
	assert_string_equal(err, "not an audio file");
	free(err);
}

static void
test_fds_closed(void **state)
{
	char	*err = NULL;
	int	 fd, open_in_child = -1;

	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(dup2(fd, 20), 20);
	close(fd);
	fd = 20;
	assert_int_equal(vh_sandbox_run(NULL, work_fd, &fd, &open_in_child,
	    sizeof(open_in_child), &err), 0);
	assert_int_equal(open_in_child, 0);
	close(fd);
}

/* Many runs in a row leave no zombie and no descriptor behind. */
static void
test_no_leaks(void **state)
{
	struct answer	 a;
	char		*err = NULL;
	int		 in = 1, before, after;

	before = open("/dev/null", O_RDONLY);
	close(before);
	for (int i = 0; i < 20; i++)
		assert_int_equal(vh_sandbox_run(NULL, work_ok, &in, &a,
		    sizeof(a), &err), 0);
	after = open("/dev/null", O_RDONLY);
	close(after);
	assert_int_equal(before, after);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_crash),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_cpu_limit),
		cmocka_unit_test(test_child_error),
		cmocka_unit_test(test_fds_closed),
		cmocka_unit_test(test_no_leaks),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
