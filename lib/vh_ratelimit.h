#ifndef VH_RATELIMIT_H
#define VH_RATELIMIT_H
/* Per-address request counting in fixed windows; loop thread only. */
#include <stdbool.h>
#include <stdint.h>

struct vh_ratelimit;

struct vh_ratelimit *vh_ratelimit_new(int64_t window_ms);
void	vh_ratelimit_free(struct vh_ratelimit *);
/* Counts one hit for key at now_ms; false when over limit in this window,
 * with *retry_after_s the seconds until the window ends. */
bool	vh_ratelimit_hit(struct vh_ratelimit *, const char *key, int64_t limit,
	    int64_t now_ms, int64_t *retry_after_s);

#endif
