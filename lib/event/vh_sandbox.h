#ifndef VH_SANDBOX_H
#define VH_SANDBOX_H
/*
 * Runs a parser of untrusted bytes in a confined child: a fresh process
 * of the verhaal-media helper (fork + exec), which gets only descriptors
 * to read and write, no network, no file system, a seccomp allow-list,
 * resource limits and a wall-clock timeout, so that a decoder that
 * crashes, hangs, eats memory or is subverted becomes an error with a
 * reason instead of touching the daemon, its database or its blobs.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vh_sandbox_limits {
	const char	*what;		/* names the work in errors: "decoder" */
	uint64_t	 max_memory;	/* RLIMIT_AS in bytes; 0: unlimited */
	int		 cpu_seconds;	/* RLIMIT_CPU; 0: unlimited */
	uint64_t	 max_file_size;	/* RLIMIT_FSIZE in bytes; 0: unlimited */
	int64_t		 timeout_ms;	/* wall clock, then SIGKILL; 0: none */
};

/* Longest error text a child can hand back, with its NUL. */
#define VH_SANDBOX_ERRLEN 512
/* Longest request; it travels through a pipe before the child starts. */
#define VH_SANDBOX_MAXREQ 32768
/* Descriptors a child can be given. */
#define VH_SANDBOX_MAXFDS 8
/* The helper's exit status when vh_sandbox_child_start fails. */
#define VH_SANDBOX_EXIT_START 123

/* 1 GiB of address space, 600 s of CPU, 2 GiB files, 15 min wall clock. */
void	vh_sandbox_limits_default(struct vh_sandbox_limits *);

/*
 * The helper program to exec. By default "verhaal-media" next to the
 * running program (or one directory up, for the test programs in
 * build/tests/). Call before any vh_sandbox_run; path is copied.
 */
void	vh_sandbox_set_helper(const char *path);

/*
 * Runs operation op (a name the helper knows: "media", "classify",
 * "photo", "audio") in a new confined child under limits (NULL: the defaults).
 * req (req_size bytes, plain data) is its request; fds (borrowed, nfds)
 * are the only descriptors it gets, in that order. Its fixed-size answer
 * is copied into result. Returns the operation's code, with *err from the
 * child (caller frees); or VH_EIO with *err "decoder crashed (signal
 * 11)", "decoder timed out after 60 s", "decoder made a forbidden system
 * call" and the like when the child did not finish: the file's fault.
 * VH_EAGAIN with *err when no confined child could be started (no helper,
 * fork failed): ours, to be retried rather than held against the file.
 * Safe to call from several threads at once; blocks the caller until the
 * child is reaped.
 */
int	vh_sandbox_run(const struct vh_sandbox_limits *, const char *op,
	    const void *req, size_t req_size, const int *fds, size_t nfds,
	    void *result, size_t result_size, char **err)
	    __attribute__((warn_unused_result));

/*
 * The child's side, for the helper's main. One call to each, in order:
 * vh_sandbox_child_start reads the request (the child is already without
 * privileges, namespaces and stray descriptors when the helper starts);
 * the helper then initialises the libraries its operation needs (they
 * open files: locale, magic database, plugins); vh_sandbox_child_lockdown
 * loads the seccomp filter, after which no file or socket can be opened;
 * then the operation runs on the descriptors and vh_sandbox_child_finish
 * sends the answer and exits.
 */
struct vh_sandbox_call {
	const char	*op;
	const void	*req;		/* request bytes, req_size of them */
	size_t		 req_size;
	const int	*fds;		/* the caller's descriptors, in order */
	size_t		 nfds;
	void		*result;	/* zeroed, result_size bytes */
	size_t		 result_size;
	char		 err[VH_SANDBOX_ERRLEN];
	void		*state;		/* for the helper's own use */
	bool		 unconfined_ns;	/* the kernel refused namespaces */
};

/* Fills *c from argv and the request pipe; 0 or VH_EIO (not our parent). */
int	vh_sandbox_child_start(int argc, char **argv,
	    struct vh_sandbox_call *c) __attribute__((warn_unused_result));
/* Loads the seccomp allow-list; 0 or VH_EIO. */
int	vh_sandbox_child_lockdown(void) __attribute__((warn_unused_result));
/* Sends {code, c->err, c->result} to the parent and exits. */
void	vh_sandbox_child_finish(struct vh_sandbox_call *c, int code)
	    __attribute__((noreturn));

/* An operation's body in the helper. */
typedef int (*vh_sandbox_fn)(struct vh_sandbox_call *);

#endif
