#ifndef VH_RATELIMIT_H
#define VH_RATELIMIT_H
/*
 * Per-address request counting in fixed windows, kept in PostgreSQL so
 * that a restart (or another verhaald behind the same proxy) does not
 * start every count over. Counting blocks: worker threads only. The
 * object holds just the window length and may be read from any thread.
 */
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* Room for any key vh_ratelimit_key writes. */
#define VH_RATELIMIT_KEY_LEN	64

struct vh_ratelimit;

struct vh_ratelimit *vh_ratelimit_new(int64_t window_ms);
void	vh_ratelimit_free(struct vh_ratelimit *);

/* The key a client address (borrowed, numeric) counts under: as logins
 * do (vh_session_addr_key), an IPv6 address by its /64. */
void	vh_ratelimit_key(const char *addr, char key[VH_RATELIMIT_KEY_LEN]);

/*
 * Counts one hit for key in scope ("upload", "withdraw": each has counts
 * of its own). 0 when within limit in this window; VH_ETOOBIG when over,
 * with *retry_after_s the seconds until the window ends (a refused hit
 * is not counted); VH_EDB with *err set (caller frees). Windows that
 * ended are deleted as new ones start, so the table holds about one row
 * per address seen within a window.
 */
int	vh_ratelimit_hit(const struct vh_ratelimit *, PGconn *,
	    const char *scope, const char *key, int64_t limit,
	    int64_t *retry_after_s, char **err)
	    __attribute__((warn_unused_result));

/*
 * Whether key in scope has used up its limit in the current window,
 * without counting anything: VH_ETOOBIG with *retry_after_s, else 0;
 * VH_EDB with *err set (caller frees). With vh_ratelimit_hit on failures
 * only, this refuses guessing while successes never count.
 */
int	vh_ratelimit_over(const struct vh_ratelimit *, PGconn *,
	    const char *scope, const char *key, int64_t limit,
	    int64_t *retry_after_s, char **err)
	    __attribute__((warn_unused_result));

#endif
