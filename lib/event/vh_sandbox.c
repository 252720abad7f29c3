/*
 * A confined child process per parse of untrusted bytes.
 *
 * The parent (vh_sandbox_run) writes the request into a pipe, forks, and
 * in the child does only async-signal-safe system calls before exec'ing
 * the verhaal-media helper: its own process group, SIGKILL when the
 * forking thread dies, default signals, the caller's descriptors moved
 * to 5, 6, ... and all others closed, rlimits, "nobody" instead of root,
 * no_new_privs, new user/network/mount/IPC namespaces when the kernel
 * allows them, "/" as working directory and an empty environment (the
 * daemon's holds the database URL). Exec, rather than running the work
 * in the forked copy, matters: only the forking thread survives fork, so
 * locks and library state (libvips' threads, glib, av_log) would be
 * copied half-held.
 *
 * The helper (cmd/verhaal-media) calls vh_sandbox_child_start, sets up
 * the libraries its operation needs while files can still be opened,
 * vh_sandbox_child_lockdown to load the seccomp allow-list, does the
 * work on its descriptors and vh_sandbox_child_finish to send one
 * fixed-size message {magic, code, flags, error text, result} into the
 * reply pipe. The parent waits on a pidfd for the child's end and on the
 * pipe for its message, kills the process group when the wall-clock
 * timeout passes, and turns the exit status into a reason.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "vh_error.h"
#include "vh_log.h"
#include "vh_sandbox.h"
#include "vh_time.h"
#include "vh_xmalloc.h"

/* The nice value a confined child runs its work at. */
#define CHILD_NICE	10

/* ASan and TSan reserve terabytes of shadow memory: an address-space
 * limit would make every allocation fail (TSan's runtime then dies with
 * SIGSEGV before main), so sanitizer builds go without it. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NO_RLIMIT_AS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NO_RLIMIT_AS 1
#endif
#endif

#define REQ_MAGIC	0x56485251u	/* "VHRQ" */
#define REP_MAGIC	0x56485250u	/* "VHRP" */
#define FD_REPLY	3
#define FD_REQUEST	4
#define FD_FIRST	5

/* Exit codes of the forked child before the helper runs. */
#define EX_ORPHAN	124	/* the parent went away */
#define EX_SETUP	125	/* descriptors or privileges */
#define EX_EXEC		126	/* the helper cannot be exec'd */
#define EX_START	VH_SANDBOX_EXIT_START	/* the helper did not start */

#define REP_NO_NS	0x1	/* namespaces were refused */

struct req_head {
	uint32_t	magic;
	uint32_t	req_size;
	uint32_t	result_size;
	uint32_t	nfds;
	int32_t		parent;
	char		op[32];
};

struct rep_head {
	uint32_t	magic;
	int32_t		code;
	uint32_t	flags;
	char		err[VH_SANDBOX_ERRLEN];
};

/* Process-wide, settled before the first child: who to become and what
 * to run. The override is for tests, set before any thread starts. */
static pthread_once_t	 once = PTHREAD_ONCE_INIT;
static uid_t		 nobody_uid = 65534;
static gid_t		 nobody_gid = 65534;
static char		 helper_default[PATH_MAX + 32];
static char		*helper_override;
static atomic_bool	 ns_warned;

void
vh_sandbox_limits_default(struct vh_sandbox_limits *l)
{
	l->what = "decoder";
	l->max_memory = 1024ULL * 1024 * 1024;
	l->cpu_seconds = 600;
	l->max_file_size = 2048ULL * 1024 * 1024;
	l->timeout_ms = 15 * 60 * 1000;
}

void
vh_sandbox_set_helper(const char *path)
{
	free(helper_override);
	helper_override = path != NULL ? vh_xstrdup(path) : NULL;
}

static void
init_once(void)
{
	struct passwd	 pw, *p = NULL;
	char		 buf[PATH_MAX + 32], exe[PATH_MAX], *slash;
	ssize_t		 n;

	if (getpwnam_r("nobody", &pw, buf, sizeof(buf), &p) == 0 &&
	    p != NULL) {
		nobody_uid = p->pw_uid;
		nobody_gid = p->pw_gid;
	}
	snprintf(helper_default, sizeof(helper_default), "verhaal-media");
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return;
	*slash = '\0';
	/* Beside the program, or one up for build/tests/test_*. */
	snprintf(helper_default, sizeof(helper_default), "%s/verhaal-media",
	    exe);
	if (access(helper_default, X_OK) == 0)
		return;
	if ((slash = strrchr(exe, '/')) != NULL) {
		*slash = '\0';
		snprintf(buf, sizeof(buf), "%s/verhaal-media", exe);
		if (access(buf, X_OK) == 0)
			snprintf(helper_default, sizeof(helper_default), "%s",
			    buf);
	}
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

static int
read_all(int fd, void *buf, size_t len)
{
	char	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		if ((n = read(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Between fork and exec: async-signal-safe calls only, no allocation. */
static __attribute__((noreturn)) void
child_exec(const struct vh_sandbox_limits *l, pid_t parent, int reply,
    int request, const int *fds, size_t nfds, const char *helper,
    char **argv, char **argv_nons)
{
	struct sigaction sa;
	struct rlimit	 core = { 0, 0 }, nofile;
	sigset_t	 set;
	int		 tmp[VH_SANDBOX_MAXFDS + 2], null, hfd;
	bool		 ns = true;

	(void)setpgid(0, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(EX_ORPHAN);

	/* Signals ignored or blocked by the daemon would survive exec and
	 * hide a crash or a limit. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);

	/* Out of the way first, so that no target number clobbers a source:
	 * 0-2 /dev/null, 3 reply, 4 request, 5... the caller's. */
	if ((tmp[0] = fcntl(reply, F_DUPFD, 64)) == -1 ||
	    (tmp[1] = fcntl(request, F_DUPFD, 64)) == -1)
		_exit(EX_SETUP);
	for (size_t i = 0; i < nfds; i++)
		if ((tmp[i + 2] = fcntl(fds[i], F_DUPFD, 64)) == -1)
			_exit(EX_SETUP);
	if ((null = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(null, 0) == -1 || dup2(null, 1) == -1 || dup2(null, 2) == -1)
		_exit(EX_SETUP);
	for (size_t i = 0; i < nfds + 2; i++)
		if (dup2(tmp[i], FD_REPLY + (int)i) == -1)
			_exit(EX_SETUP);
	(void)close_range(FD_FIRST + (unsigned)nfds, ~0U, 0);

	(void)setrlimit(RLIMIT_CORE, &core);
#ifndef NO_RLIMIT_AS
	set_limit(RLIMIT_AS, l->max_memory);
#endif
	set_limit(RLIMIT_CPU, (uint64_t)l->cpu_seconds);
	set_limit(RLIMIT_FSIZE, l->max_file_size);
	nofile.rlim_cur = nofile.rlim_max = 64;
	(void)setrlimit(RLIMIT_NOFILE, &nofile);

	/* The helper is opened while still the daemon's user: where nobody
	 * cannot reach its directory (a checkout under /root, say), it runs
	 * from that descriptor (an ELF file; a script needs its path). */
	if ((hfd = open(helper, O_PATH | O_CLOEXEC)) == -1)
		_exit(EX_EXEC);
	/* Raw system calls: glibc's setresuid would try to signal threads
	 * this copy of the process no longer has. */
	if (geteuid() == 0 && (syscall(SYS_setgroups, 0, NULL) == -1 ||
	    syscall(SYS_setresgid, nobody_gid, nobody_gid, nobody_gid) == -1 ||
	    syscall(SYS_setresuid, nobody_uid, nobody_uid, nobody_uid) == -1))
		_exit(EX_SETUP);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		_exit(EX_SETUP);
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS |
	    CLONE_NEWIPC) == -1)
		ns = false;
	/* A change of credentials clears the death signal: set it again,
	 * and make sure the parent did not die in between. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(EX_ORPHAN);
	if (chdir("/") == -1)
		_exit(EX_SETUP);
	{
		/* Nothing of the daemon's environment (it holds the database
		 * URL). glibc reserves 64 MiB of address space per thread's
		 * arena: with libheif's and libvips' threads that exceeded the
		 * address-space limit, and libde265 waits forever for a thread
		 * it failed to start. Two arenas keep a 12 MP HEIC in 600 MB. */
		char	*envp[] = { (char *)"MALLOC_ARENA_MAX=2",
#ifdef NO_RLIMIT_AS
		    /* A crash stays a signal in sanitizer builds too (ASan
		     * would report to the child's stderr: /dev/null). */
		    (char *)"ASAN_OPTIONS=handle_segv=0:handle_abort=0",
		    (char *)"TSAN_OPTIONS=handle_segv=0:handle_abort=0:"
			"ignore_noninstrumented_modules=1",
#endif
		    NULL };

		execve(helper, ns ? argv : argv_nons, envp);
		if (errno == EACCES)
			syscall(SYS_execveat, hfd, "", ns ? argv : argv_nons,
			    envp, AT_EMPTY_PATH);
	}
	_exit(EX_EXEC);
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
		if (sig == SIGALRM)
			return (vh_xasprintf("%s ran out of time for one of "
			    "its steps (signal %d)", l->what, sig));
		if (sig == SIGSYS)
			return (vh_xasprintf("%s made a forbidden system call "
			    "and was stopped (signal %d)", l->what, sig));
		return (vh_xasprintf("%s crashed (signal %d)", l->what, sig));
	}
	if (WIFEXITED(status)) {
		switch (WEXITSTATUS(status)) {
		case EX_ORPHAN:
		case EX_SETUP:
			return (vh_xasprintf("%s could not be confined",
			    l->what));
		case EX_EXEC:
			return (vh_xasprintf("%s could not be started (the "
			    "verhaal-media helper is missing or not "
			    "executable)", l->what));
		case EX_START:
			return (vh_xasprintf("%s could not be started (the "
			    "verhaal-media helper is of another version)",
			    l->what));
		default:
			return (vh_xasprintf("%s exited with status %d",
			    l->what, WEXITSTATUS(status)));
		}
	}
	return (vh_xasprintf("%s ended abnormally", l->what));
}

/* Waits for the child's end and message; true: it timed out. */
static bool
wait_child(const struct vh_sandbox_limits *l, pid_t pid, int fd, char *buf,
    size_t want, size_t *have, int *status)
{
	struct pollfd	 pfd[2];
	int64_t		 deadline = 0, left;
	int		 pidfd, nfd;
	bool		 exited = false, timed_out = false;

	/* Without pidfds (old kernels) poll the pipe in short ticks and ask
	 * waitpid in between; EOF alone is not enough, as a sibling child
	 * forked by another thread may hold a copy of our pipe's write end
	 * until its exec. */
	pidfd = pidfd_open_(pid);
	if (l->timeout_ms > 0)
		deadline = vh_now_ms() + l->timeout_ms;
	while (!exited) {
		nfd = 0;
		pfd[nfd].fd = fd;
		pfd[nfd++].events = POLLIN;
		if (pidfd != -1) {
			pfd[nfd].fd = pidfd;
			pfd[nfd++].events = POLLIN;
		}
		left = pidfd == -1 ? 100 : -1;
		if (deadline != 0) {
			int64_t	rem = deadline - vh_now_ms();

			if (rem <= 0) {
				/* The group too: nothing it started lives. */
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				timed_out = true;
				break;
			}
			if (left == -1 || rem < left)
				left = rem;
		}
		if (poll(pfd, (nfds_t)nfd, (int)left) == -1 && errno != EINTR)
			break;
		*have = drain(fd, buf, *have, want);
		if (waitpid(pid, status, WNOHANG) == pid)
			exited = true;
	}
	if (!exited && waitpid(pid, status, 0) == -1)
		vh_log_warn("waitpid %ld", (long)pid);
	*have = drain(fd, buf, *have, want);
	if (pidfd != -1)
		close(pidfd);
	return (timed_out);
}

int
vh_sandbox_run(const struct vh_sandbox_limits *limits, const char *op,
    const void *req, size_t req_size, const int *fds, size_t nfds,
    void *result, size_t result_size, char **err)
{
	struct vh_sandbox_limits def;
	struct req_head	 rq;
	struct rep_head	*head;
	size_t		 want = sizeof(*head) + result_size, have = 0;
	const char	*helper;
	char		*buf = NULL, *argv[4], *argv_nons[4];
	int		 rp[2] = { -1, -1 }, qp[2] = { -1, -1 }, status = 0;
	int		 rc = VH_EIO;
	bool		 timed_out;
	pid_t		 pid, self = getpid();

	*err = NULL;
	pthread_once(&once, init_once);
	if (limits == NULL) {
		vh_sandbox_limits_default(&def);
		limits = &def;
	}
	if (nfds > VH_SANDBOX_MAXFDS || req_size > VH_SANDBOX_MAXREQ ||
	    strlen(op) >= sizeof(rq.op) || result_size > 1024 * 1024) {
		*err = vh_xasprintf("%s: request too large", limits->what);
		return (VH_EINVAL);
	}
	helper = helper_override != NULL ? helper_override : helper_default;
	memset(&rq, 0, sizeof(rq));
	rq.magic = REQ_MAGIC;
	rq.req_size = (uint32_t)req_size;
	rq.result_size = (uint32_t)result_size;
	rq.nfds = (uint32_t)nfds;
	rq.parent = self;
	snprintf(rq.op, sizeof(rq.op), "%s", op);
	argv[0] = argv_nons[0] = (char *)"verhaal-media";
	argv[1] = argv_nons[1] = rq.op;
	argv[2] = (char *)"ns";
	argv_nons[2] = (char *)"no-ns";
	argv[3] = argv_nons[3] = NULL;

	/* The request fits in the pipe's buffer, so it is written whole
	 * before the child exists. Non-blocking: a user over its pipe quota
	 * gets one-page pipes, and then this fails instead of hanging. */
	if (pipe2(rp, O_CLOEXEC) == -1 || pipe2(qp, O_CLOEXEC) == -1) {
		*err = vh_xasprintf("%s: pipe: %s", limits->what,
		    strerror(errno));
		rc = VH_EAGAIN;
		goto out;
	}
	(void)fcntl(qp[1], F_SETPIPE_SZ, 65536);
	if (fcntl(qp[1], F_SETFL, O_NONBLOCK) == -1 ||
	    write_all(qp[1], &rq, sizeof(rq)) == -1 ||
	    (req_size > 0 && write_all(qp[1], req, req_size) == -1)) {
		*err = vh_xasprintf("%s: writing the request: %s",
		    limits->what, strerror(errno));
		rc = VH_EAGAIN;
		goto out;
	}
	close(qp[1]);
	qp[1] = -1;
	buf = vh_xcalloc(1, want);
	if ((pid = fork()) == -1) {
		*err = vh_xasprintf("%s: fork: %s", limits->what,
		    strerror(errno));
		rc = VH_EAGAIN;
		goto out;
	}
	if (pid == 0)
		child_exec(limits, self, rp[1], qp[0], fds, nfds, helper, argv,
		    argv_nons);
	(void)setpgid(pid, pid);
	close(rp[1]);
	rp[1] = -1;
	close(qp[0]);
	qp[0] = -1;
	(void)fcntl(rp[0], F_SETFL, O_NONBLOCK);
	timed_out = wait_child(limits, pid, rp[0], buf, want, &have, &status);

	head = (struct rep_head *)buf;
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    have == want && head->magic == REP_MAGIC) {
		rc = head->code;
		if (result_size > 0)
			memcpy(result, buf + sizeof(*head), result_size);
		if (rc != 0) {
			head->err[sizeof(head->err) - 1] = '\0';
			*err = vh_xstrdup(head->err[0] != '\0' ? head->err :
			    vh_strerror(rc));
		}
		if ((head->flags & REP_NO_NS) &&
		    !atomic_exchange(&ns_warned, true))
			vh_log_warnx("sandbox: the kernel refuses new "
			    "namespaces; media children run with seccomp, "
			    "rlimits and no privileges only");
	} else {
		rc = VH_EIO;
		*err = describe(limits, status, timed_out);
		/* Our fault, not the file's: say so, and let the caller retry
		 * rather than reject. */
		if (!timed_out && WIFEXITED(status) &&
		    (WEXITSTATUS(status) == EX_ORPHAN ||
		    WEXITSTATUS(status) == EX_SETUP ||
		    WEXITSTATUS(status) == EX_EXEC ||
		    WEXITSTATUS(status) == EX_START)) {
			vh_log_warnx("sandbox: %s (%s)", *err, helper);
			rc = VH_EAGAIN;
		}
	}
out:
	for (int i = 0; i < 2; i++) {
		if (rp[i] != -1)
			close(rp[i]);
		if (qp[i] != -1)
			close(qp[i]);
	}
	free(buf);
	return (rc);
}

/* The helper's side. */

int
vh_sandbox_child_start(int argc, char **argv, struct vh_sandbox_call *c)
{
	static int	 fds[VH_SANDBOX_MAXFDS];
	struct req_head	 rq;
	void		*req = NULL;

	memset(c, 0, sizeof(*c));
	/* Loaded now, as /etc/localtime cannot be opened after lockdown. */
	tzset();
	if (argc < 3 || read_all(FD_REQUEST, &rq, sizeof(rq)) == -1 ||
	    rq.magic != REQ_MAGIC || rq.nfds > VH_SANDBOX_MAXFDS ||
	    rq.req_size > VH_SANDBOX_MAXREQ || rq.result_size > 1024 * 1024 ||
	    rq.op[sizeof(rq.op) - 1] != '\0' || strcmp(rq.op, argv[1]) != 0 ||
	    getppid() != rq.parent)
		return (VH_EIO);
	req = vh_xcalloc(1, rq.req_size + 1);
	if (rq.req_size > 0 && read_all(FD_REQUEST, req, rq.req_size) == -1) {
		free(req);
		return (VH_EIO);
	}
	close(FD_REQUEST);
	/* Whatever else came through exec (an interpreter's script, say)
	 * goes too: the child holds exactly what it was given. */
	(void)close_range(FD_FIRST + rq.nfds, ~0U, 0);
	for (uint32_t i = 0; i < rq.nfds; i++)
		fds[i] = FD_FIRST + (int)i;
	c->op = argv[1];
	c->req = req;
	c->req_size = rq.req_size;
	c->fds = fds;
	c->nfds = rq.nfds;
	c->result = vh_xcalloc(1, rq.result_size + 1);
	c->result_size = rq.result_size;
	c->unconfined_ns = strcmp(argv[2], "ns") != 0;
	return (0);
}

struct rule {
	int		nr;
	uint32_t	action;
};

int
vh_sandbox_child_lockdown(void)
{
	/*
	 * What decoders need: memory, threads (libvips, libheif and glib
	 * start them), time, randomness, and I/O on descriptors they hold.
	 * Anything not listed fails with EPERM; opening a path fails with
	 * EACCES, which libraries that probe for optional files (locale,
	 * gconv, /proc) take in their stride. What only an attacker wants
	 * ends the process: a network, another program, another process's
	 * memory, new privileges or namespaces, kernel attack surface.
	 */
	static const int allow[] = {
		SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv),
		SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
		SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(fstat),
		SCMP_SYS(ftruncate), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
		SCMP_SYS(dup), SCMP_SYS(dup3), SCMP_SYS(fcntl),
		SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(eventfd2),
		SCMP_SYS(pipe2), SCMP_SYS(mmap), SCMP_SYS(munmap),
		SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
		SCMP_SYS(brk), SCMP_SYS(futex), SCMP_SYS(set_robust_list),
		SCMP_SYS(get_robust_list), SCMP_SYS(rseq),
		SCMP_SYS(set_tid_address), SCMP_SYS(exit),
		SCMP_SYS(exit_group), SCMP_SYS(rt_sigaction),
		SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
		SCMP_SYS(sigaltstack), SCMP_SYS(getpid), SCMP_SYS(gettid),
		SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
		SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(clock_gettime),
		SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep),
		SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(time),
		SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
		SCMP_SYS(sched_getparam), SCMP_SYS(sched_getscheduler),
		SCMP_SYS(getrandom), SCMP_SYS(getrusage), SCMP_SYS(sysinfo),
		SCMP_SYS(uname), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit),
		SCMP_SYS(membarrier), SCMP_SYS(alarm), SCMP_SYS(setitimer),
	};
	static const struct rule deny[] = {
		{ SCMP_SYS(open), SCMP_ACT_ERRNO(EACCES) },
		{ SCMP_SYS(openat), SCMP_ACT_ERRNO(EACCES) },
		{ SCMP_SYS(openat2), SCMP_ACT_ERRNO(EACCES) },
		{ SCMP_SYS(creat), SCMP_ACT_ERRNO(EACCES) },
		{ SCMP_SYS(access), SCMP_ACT_ERRNO(EACCES) },
		{ SCMP_SYS(faccessat), SCMP_ACT_ERRNO(EACCES) },
		{ SCMP_SYS(faccessat2), SCMP_ACT_ERRNO(EACCES) },
		{ SCMP_SYS(stat), SCMP_ACT_ERRNO(EACCES) },
		{ SCMP_SYS(lstat), SCMP_ACT_ERRNO(EACCES) },
		{ SCMP_SYS(statx), SCMP_ACT_ERRNO(EACCES) },
		{ SCMP_SYS(readlink), SCMP_ACT_ERRNO(EACCES) },
		{ SCMP_SYS(readlinkat), SCMP_ACT_ERRNO(EACCES) },
		/* glib's thread pool tries clone3 first, then clone. */
		{ SCMP_SYS(clone3), SCMP_ACT_ERRNO(ENOSYS) },
		{ SCMP_SYS(socket), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(socketpair), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(connect), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(bind), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(listen), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(accept), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(accept4), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(sendto), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(sendmsg), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(recvmsg), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(execve), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(execveat), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(fork), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(vfork), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(ptrace), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(process_vm_readv), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(process_vm_writev), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(kill), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(mount), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(umount2), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(unshare), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(setns), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(chroot), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(pivot_root), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(bpf), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(perf_event_open), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(keyctl), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(add_key), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(request_key), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(io_uring_setup), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(userfaultfd), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(init_module), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(finit_module), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(kexec_load), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(open_by_handle_at), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(setuid), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(setresuid), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(setgid), SCMP_ACT_KILL_PROCESS },
		{ SCMP_SYS(setresgid), SCMP_ACT_KILL_PROCESS },
	};
	scmp_filter_ctx	ctx;
	int		rc = VH_EIO;
	pid_t		self = getpid();

	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL)
		return (VH_EIO);
	/* A call this architecture lacks cannot be added, and need not be:
	 * whatever is not listed fails with EPERM anyway. */
	for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
		(void)seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allow[i], 0);
	for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
		(void)seccomp_rule_add(ctx, deny[i].action, deny[i].nr, 0);
	/* fstat is fstatat(fd, "", AT_EMPTY_PATH) in glibc; a path is
	 * refused like open. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
	    SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(newfstatat),
	    1, SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0)) != 0)
		goto out;
	/* Threads, never processes. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)) != 0)
		goto out;
	/* Signals to itself (abort, thread cancellation) only. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)self)) != 0)
		goto out;
	/* Thread names (glib) and nothing else of prctl. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME)) != 0)
		goto out;
	/* isatty() from stdio asks; no ioctl is answered. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0)
	    != 0)
		goto out;
	/* Its own priority, lowered to CHILD_NICE and to nothing else. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setpriority), 3,
	    SCMP_A0(SCMP_CMP_EQ, PRIO_PROCESS), SCMP_A1(SCMP_CMP_EQ, 0),
	    SCMP_A2(SCMP_CMP_EQ, CHILD_NICE)) != 0)
		goto out;
	if (seccomp_load(ctx) == 0) {
		/* A child's work is background work: on a small machine a
		 * transcode must not take the CPU from the requests (make
		 * bench BENCH=redact). Lowered only once confined, so that
		 * nothing waits with the filter not yet in place. */
		(void)setpriority(PRIO_PROCESS, 0, CHILD_NICE);
		rc = 0;
	}
out:
	seccomp_release(ctx);
	return (rc);
}

void
vh_sandbox_child_finish(struct vh_sandbox_call *c, int code)
{
	struct rep_head	head;

	memset(&head, 0, sizeof(head));
	head.magic = REP_MAGIC;
	head.code = code;
	head.flags = c->unconfined_ns ? REP_NO_NS : 0;
	memcpy(head.err, c->err, sizeof(head.err));
	head.err[sizeof(head.err) - 1] = '\0';
	if (write_all(FD_REPLY, &head, sizeof(head)) == -1 ||
	    (c->result_size > 0 &&
	    write_all(FD_REPLY, c->result, c->result_size) == -1))
		_exit(121);
	_exit(0);
}
