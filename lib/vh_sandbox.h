#ifndef VH_SANDBOX_H
#define VH_SANDBOX_H
/*
 * Runs a function in a forked child with resource limits and a wall-clock
 * timeout, so that a decoder that crashes, hangs or eats memory becomes an
 * error with a reason instead of taking the daemon down.
 */
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

/*
 * Runs in the child. It fills result (result_size bytes, zeroed before the
 * call) and returns 0, or returns a VH_E code and writes a reason into
 * errbuf (VH_SANDBOX_ERRLEN bytes). Only fds 0-2 are open in the child: it
 * opens what it needs by path. Anything it allocates dies with the child.
 */
typedef int (*vh_sandbox_fn)(void *arg, void *result, size_t result_size,
	    char *errbuf);

/*
 * Forks, runs fn(arg) in the child under limits (NULL: the defaults) and
 * copies its result back into result. Returns fn's code, with *err from the
 * child (caller frees); or VH_EIO with *err "decoder crashed (signal 11)",
 * "decoder timed out after 60 s" and the like when the child did not
 * finish. Safe to call from several threads at once.
 */
int	vh_sandbox_run(const struct vh_sandbox_limits *, vh_sandbox_fn,
	    void *arg, void *result, size_t result_size, char **err)
	    __attribute__((warn_unused_result));

/* 1 GiB of address space, 600 s of CPU, 2 GiB files, 15 min wall clock. */
void	vh_sandbox_limits_default(struct vh_sandbox_limits *);

#endif
