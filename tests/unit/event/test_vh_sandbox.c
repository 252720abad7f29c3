/* The sandbox: a child that succeeds hands its result back; one that
 * crashes, hangs, burns CPU or fails gets a reason, and the parent lives.
 * The child is the real verhaal-media helper under its real confinement:
 * it cannot open a file, reach a socket or outlive its parent. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "vh_error.h"
#include "vh_unused.h"
#include "vh_sandbox.h"

/* What probe-echo answers. */
struct echo {
	char		 req[64];
	unsigned char	 open[64];	/* descriptors 0-63 */
	int		 uid, pid, ns;
};

static char dir[] = "/tmp/vh_sandbox_XXXXXX";

static void
limits(struct vh_sandbox_limits *l, int64_t timeout_ms)
{
	vh_sandbox_limits_default(l);
	l->timeout_ms = timeout_ms;
}

static int
setup(void **state VH_UNUSED)
{
	if (mkdtemp(dir) == NULL)
		return (-1);
	return (0);
}

static int
teardown(void **state VH_UNUSED)
{
	char	cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return (system(cmd) == 0 ? 0 : -1);
}

static void
test_success(void **state VH_UNUSED)
{
	struct vh_sandbox_limits l;
	struct echo	 a;
	char		*err = NULL, out[16] = "";
	int		 p[2];

	limits(&l, 10000);
	assert_int_equal(pipe(p), 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(vh_sandbox_run(&l, "probe-echo", "twenty-one", 11,
	    &p[1], 1, &a, sizeof(a), &err), 0);
	assert_null(err);
	assert_string_equal(a.req, "twenty-one");
	assert_int_not_equal(a.pid, getpid());
	/* The descriptor it was given is its fd 5, and it wrote to it. */
	assert_true(a.open[5]);
	close(p[1]);
	assert_int_equal(read(p[0], out, sizeof(out) - 1), 5);
	assert_string_equal(out, "hello");
	close(p[0]);
	/* Root became nobody (or the user namespace's overflow id). */
	if (getuid() == 0)
		assert_int_not_equal(a.uid, 0);
	printf("  child uid %d, namespaces %s\n", a.uid, a.ns ? "yes" : "no");
}

static void
test_crash(void **state VH_UNUSED)
{
	struct vh_sandbox_limits l;
	char		 a[16];
	char		*err = NULL;

	limits(&l, 10000);
	assert_int_equal(vh_sandbox_run(&l, "probe-crash", NULL, 0, NULL, 0,
	    a, sizeof(a), &err), VH_EIO);
	assert_non_null(err);
	assert_string_equal(err, "decoder crashed (signal 11)");
	free(err);
	assert_int_equal(vh_sandbox_run(&l, "probe-abort", NULL, 0, NULL, 0,
	    a, sizeof(a), &err), VH_EIO);
	assert_string_equal(err, "decoder crashed (signal 6)");
	free(err);
}

static void
test_timeout(void **state VH_UNUSED)
{
	struct vh_sandbox_limits l;
	struct timespec	 t0, t1;
	char		 a[16];
	char		*err = NULL;
	double		 s;

	limits(&l, 1000);
	l.what = "photo decoder";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vh_sandbox_run(&l, "probe-hang", NULL, 0, NULL, 0,
	    a, sizeof(a), &err), VH_EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_string_equal(err, "photo decoder timed out after 1 s");
	assert_true(s >= 0.9 && s < 5.0);
	free(err);
}

static void
test_cpu_limit(void **state VH_UNUSED)
{
	struct vh_sandbox_limits l;
	char		 a[16];
	char		*err = NULL;

	limits(&l, 20000);
	l.cpu_seconds = 1;
	assert_int_equal(vh_sandbox_run(&l, "probe-spin", NULL, 0, NULL, 0,
	    a, sizeof(a), &err), VH_EIO);
	assert_non_null(strstr(err, "more than 1 s of CPU time"));
	free(err);
}

static void
test_child_error(void **state VH_UNUSED)
{
	char	 a[16];
	char	*err = NULL;

	assert_int_equal(vh_sandbox_run(NULL, "probe-fail", NULL, 0, NULL, 0,
	    a, sizeof(a), &err), VH_EINVAL);
	assert_string_equal(err, "not an audio file");
	free(err);
}

static void
test_fds_closed(void **state VH_UNUSED)
{
	struct echo	 a;
	char		*err = NULL;
	int		 fd;

	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(dup2(fd, 20), 20);
	close(fd);
	assert_int_equal(vh_sandbox_run(NULL, "probe-echo", "x", 2, NULL, 0,
	    &a, sizeof(a), &err), 0);
	/* stdin/out/err, the reply pipe, nothing else. */
	for (int i = 0; i < 64; i++)
		if (a.open[i] != (i <= 3))
			fail_msg("fd %d is %s in the child", i,
			    a.open[i] ? "open" : "closed");
	close(20);
}

/* Neither a system file nor one in the blob store can be opened. */
static void
test_cannot_open(void **state VH_UNUSED)
{
	const char	*paths[3];
	char		 blob[128], *err = NULL;
	int		 r[2], fd;

	snprintf(blob, sizeof(blob), "%s/blobs", dir);
	assert_int_equal(mkdir(blob, 0755), 0);
	snprintf(blob, sizeof(blob), "%s/blobs/0123abcd", dir);
	assert_true((fd = open(blob, O_WRONLY | O_CREAT, 0644)) != -1);
	assert_int_equal(write(fd, "secret", 6), 6);
	close(fd);
	paths[0] = "/etc/passwd";
	paths[1] = blob;
	paths[2] = "/proc/self/fd/0";
	for (int i = 0; i < 3; i++) {
		assert_int_equal(vh_sandbox_run(NULL, "probe-open", paths[i],
		    strlen(paths[i]) + 1, NULL, 0, r, sizeof(r), &err), 0);
		if (r[0] != -1)
			fail_msg("the child opened %s", paths[i]);
		assert_int_equal(r[1], EACCES);
	}
}

/* A Unix socket (as PostgreSQL's) listening in the parent is out of reach:
 * the child is stopped at socket(2), and nothing connects. */
static void
test_cannot_connect(void **state VH_UNUSED)
{
	struct sockaddr_un sun;
	char		 a[16], *err = NULL;
	int		 s, c;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/.s.PGSQL.5432", dir);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(s != -1);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(s, 8), 0);
	assert_true(chmod(sun.sun_path, 0777) == 0);
	assert_int_equal(vh_sandbox_run(NULL, "probe-connect", sun.sun_path,
	    strlen(sun.sun_path) + 1, NULL, 0, a, sizeof(a), &err), VH_EIO);
	assert_non_null(err);
	assert_non_null(strstr(err, "forbidden system call"));
	free(err);
	c = accept(s, NULL, NULL);
	assert_int_equal(c, -1);
	assert_int_equal(errno, EAGAIN);
	close(s);
}

/* Many runs in a row leave no zombie and no descriptor behind. */
static void
test_no_leaks(void **state VH_UNUSED)
{
	struct echo	 a;
	char		*err = NULL;
	int		 before, after;

	before = open("/dev/null", O_RDONLY);
	close(before);
	for (int i = 0; i < 20; i++)
		assert_int_equal(vh_sandbox_run(NULL, "probe-echo", "x", 2,
		    NULL, 0, &a, sizeof(a), &err), 0);
	after = open("/dev/null", O_RDONLY);
	close(after);
	assert_int_equal(before, after);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static bool
alive(pid_t pid)
{
	char	 path[64], st = 0;
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (false);
	if (fscanf(f, "%*d %*s %c", &st) != 1)
		st = 0;
	fclose(f);
	return (st != 0 && st != 'Z' && st != 'X');
}

/* A parent killed with SIGKILL mid-run takes its child along. */
static void
test_dies_with_parent(void **state VH_UNUSED)
{
	char	 path[96], buf[64] = "";
	pid_t	 mid, child = 0;
	FILE	*f;

	if ((mid = fork()) == 0) {
		struct vh_sandbox_limits l;
		char	 a[16], *err = NULL;

		limits(&l, 60000);
		_exit(vh_sandbox_run(&l, "probe-hang", NULL, 0, NULL, 0, a,
		    sizeof(a), &err) == 0 ? 0 : 1);
	}
	assert_true(mid > 0);
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)mid,
	    (long)mid);
	for (int i = 0; i < 100 && child == 0; i++) {
		usleep(20000);
		if ((f = fopen(path, "r")) != NULL) {
			if (fgets(buf, sizeof(buf), f) != NULL)
				child = (pid_t)atol(buf);
			fclose(f);
		}
	}
	assert_true(child > 0);
	usleep(200000);
	assert_true(alive(child));
	kill(mid, SIGKILL);
	assert_int_equal(waitpid(mid, NULL, 0), mid);
	for (int i = 0; i < 50 && alive(child); i++)
		usleep(20000);
	if (alive(child)) {
		kill(child, SIGKILL);
		fail_msg("the child %ld outlived its parent", (long)child);
	}
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
		cmocka_unit_test(test_cannot_open),
		cmocka_unit_test(test_cannot_connect),
		cmocka_unit_test(test_no_leaks),
		cmocka_unit_test(test_dies_with_parent),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
