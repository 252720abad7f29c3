/*
 * A child process per risky job. vh_sandbox_run forks (without exec: the
 * function to run is already in our address space), the child sets
 * rlimits, closes every inherited descriptor but the result pipe, runs the
 * function and writes one fixed-size message {code, error text, result}
 * into the pipe before _exit. The parent waits on a pidfd for the child's
 * end and on the pipe for its message, kills it with SIGKILL when the
 * wall-clock timeout passes, and turns the exit status into a reason.
 *
 * About fork in a threaded daemon: only the calling thread exists in the
 * child, so a lock another thread held at fork time stays held. glibc
 * resets malloc's locks across fork, and the functions run here (libav*,
 * libopusenc, libebur128, jansson, libvips when first initialised in the
 * child) take no locks another thread of ours could be holding, so this
 * works in practice; if it ever does not, the child hangs and the timeout
 * turns that into an error rather than an outage. The child ends with
 * _exit, so no atexit handler or stdio buffer of the parent runs twice.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vh_time.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_sandbox.h"
#include "vh_xmalloc.h"

/* ASan reserves terabytes of shadow memory: an address-space limit would
 * make every allocation fail, so sanitizer builds go without it. */
#if defined(__SANITIZE_ADDRESS__)
#define NO_RLIMIT_AS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_RLIMIT_AS 1
#endif
#endif

struct msg_head {
	int32_t	code;
	char	err[VH_SANDBOX_ERRLEN];
};

void
vh_sandbox_limits_default(struct vh_sandbox_limits *l)
{
	l->what = "decoder";
	l->max_memory = 1024ULL * 1024 * 1024;
	l->cpu_seconds = 600;
	l->max_file_size = 2048ULL * 1024 * 1024;
	l->timeout_ms = 15 * 60 * 1000;
}

static void
set_limit(int resource, uint64_t value)
{
	struct rlimit	rl;

	if (value == 0)
		return;
	rl.rlim_cur = rl.rlim_max = (rlim_t)value;
	/* At the hard CPU limit the kernel sends SIGKILL, at the soft one
	 * SIGXCPU: a second between them lets the reason name the limit. */
	if (resource == RLIMIT_CPU)
		rl.rlim_max++;
	(void)setrlimit(resource, &rl);
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

static __attribute__((noreturn)) void
child_main(const struct vh_sandbox_limits *l, int fd, vh_sandbox_fn fn,
    void *arg, size_t result_size)
{
	struct msg_head	 head;
	struct rlimit	 core = { 0, 0 };
	sigset_t	 set;
	void		*result;

	/* Keep only the result pipe: the child must not be able to touch
	 * the daemon's sockets or database connections. */
	if (fd != 3) {
		if (dup2(fd, 3) == -1)
			_exit(120);
		fd = 3;
	}
	(void)close_range(4, ~0U, 0);

	/* The daemon's (or a test harness's) handlers and the worker
	 * thread's blocked signals must not hide a crash or a limit. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);

	(void)setrlimit(RLIMIT_CORE, &core);
#ifndef NO_RLIMIT_AS
	set_limit(RLIMIT_AS, l->max_memory);
#endif
	set_limit(RLIMIT_CPU, (uint64_t)l->cpu_seconds);
	set_limit(RLIMIT_FSIZE, l->max_file_size);

	result = calloc(1, result_size > 0 ? result_size : 1);
	memset(&head, 0, sizeof(head));
	if (result == NULL) {
		head.code = VH_EIO;
		snprintf(head.err, sizeof(head.err), "out of memory");
	} else
		head.code = fn(arg, result, result_size, head.err);
	head.err[sizeof(head.err) - 1] = '\0';
	if (write_all(fd, &head, sizeof(head)) == -1 ||
	    (result != NULL && write_all(fd, result, result_size) == -1))
		_exit(121);
	_exit(0);
}

static int
pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return ((int)syscall(SYS_pidfd_open, pid, 0));
#else
	errno = ENOSYS;
	return (-1);
#endif
}

/* Reads what is in the pipe without blocking; returns bytes now held. */
static size_t
drain(int fd, char *buf, size_t have, size_t want)
{
	ssize_t	n;

	while (have < want) {
		n = read(fd, buf + have, want - have);
		if (n > 0)
			have += (size_t)n;
		else if (n == -1 && errno == EINTR)
			continue;
		else
			break;
	}
	return (have);
}

static char *
describe(const struct vh_sandbox_limits *l, int status, bool timed_out)
{
	int	sig;

	if (timed_out)
		return (vh_xasprintf("%s timed out after %lld s", l->what,
		    (long long)(l->timeout_ms + 999) / 1000));
	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		if (sig == SIGXCPU)
			return (vh_xasprintf("%s used more than %d s of CPU "
			    "time (signal %d)", l->what, l->cpu_seconds, sig));
		if (sig == SIGXFSZ)
			return (vh_xasprintf("%s wrote a file over the size "
			    "limit (signal %d)", l->what, sig));
		return (vh_xasprintf("%s crashed (signal %d)", l->what, sig));
	}
	if (WIFEXITED(status))
		return (vh_xasprintf("%s exited with status %d", l->what,
		    WEXITSTATUS(status)));
	return (vh_xasprintf("%s ended abnormally", l->what));
}

int
vh_sandbox_run(const struct vh_sandbox_limits *limits, vh_sandbox_fn fn,
    void *arg, void *result, size_t result_size, char **err)
{
	struct vh_sandbox_limits def;
	struct msg_head	*head;
	struct pollfd	 pfd[2];
	size_t		 want = sizeof(*head) + result_size, have = 0;
	char		*buf;
	int		 p[2], pidfd, status = 0, rc, nfd;
	int64_t		 deadline = 0, left;
	bool		 exited = false, timed_out = false;
	pid_t		 pid;

	*err = NULL;
	if (limits == NULL) {
		vh_sandbox_limits_default(&def);
		limits = &def;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		*err = vh_xasprintf("pipe: %s", strerror(errno));
		return (VH_EIO);
	}
	buf = vh_xcalloc(1, want);
	if ((pid = fork()) == -1) {
		*err = vh_xasprintf("fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		free(buf);
		return (VH_EIO);
	}
	if (pid == 0) {
		close(p[0]);
		child_main(limits, p[1], fn, arg, result_size);
	}
	close(p[1]);
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);

	/* Without pidfds (old kernels) poll the pipe in short ticks and ask
	 * waitpid in between; EOF alone is not enough, as a sibling child
	 * forked by another thread may hold a copy of our pipe's write end. */
	pidfd = pidfd_open_(pid);
	if (limits->timeout_ms > 0)
		deadline = vh_now_ms() + limits->timeout_ms;
	while (!exited) {
		nfd = 0;
		pfd[nfd].fd = p[0];
		pfd[nfd++].events = POLLIN;
		if (pidfd != -1) {
			pfd[nfd].fd = pidfd;
			pfd[nfd++].events = POLLIN;
		}
		left = pidfd == -1 ? 100 : -1;
		if (deadline != 0) {
			int64_t	rem = deadline - vh_now_ms();

			if (rem <= 0) {
				kill(pid, SIGKILL);
				timed_out = true;
				break;
			}
			if (left == -1 || rem < left)
				left = rem;
		}
		if (poll(pfd, (nfds_t)nfd, (int)left) == -1 && errno != EINTR)
			break;
		have = drain(p[0], buf, have, want);
		if (waitpid(pid, &status, WNOHANG) == pid)
			exited = true;
	}
	if (!exited && waitpid(pid, &status, 0) == -1)
		vh_log_warn("waitpid %ld", (long)pid);
	have = drain(p[0], buf, have, want);
	if (pidfd != -1)
		close(pidfd);
	close(p[0]);

	head = (struct msg_head *)buf;
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    have == want) {
		rc = head->code;
		if (result_size > 0)
			memcpy(result, buf + sizeof(*head), result_size);
		if (rc != 0) {
			head->err[sizeof(head->err) - 1] = '\0';
			*err = vh_xstrdup(head->err[0] != '\0' ? head->err :
			    vh_strerror(rc));
		}
	} else {
		rc = VH_EIO;
		*err = describe(limits, status, timed_out);
	}
	free(buf);
	return (rc);
}
