/*
 * Fixed-window rate limiting by key (a client address). Entries live in a
 * small chained hash table; a window's entries are dropped lazily when a
 * lookup passes them after the window ended, so memory follows the number
 * of addresses seen within one window.
 */
#include <stdlib.h>
#include <string.h>

#include "vh_ratelimit.h"
#include "vh_xmalloc.h"

#define NBUCKETS 1024

struct bucket_entry {
	char			*key;
	int64_t			 window_start;
	int64_t			 count;
	struct bucket_entry	*next;
};

struct vh_ratelimit {
	int64_t			 window_ms;
	struct bucket_entry	*buckets[NBUCKETS];
};

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h % NBUCKETS);
}

struct vh_ratelimit *
vh_ratelimit_new(int64_t window_ms)
{
	struct vh_ratelimit *rl = vh_xcalloc(1, sizeof *rl);

	rl->window_ms = window_ms;
	return (rl);
}

void
vh_ratelimit_free(struct vh_ratelimit *rl)
{
	struct bucket_entry *e, *next;

	if (rl == NULL)
		return;
	for (int i = 0; i < NBUCKETS; i++) {
		for (e = rl->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	}
	free(rl);
}

bool
vh_ratelimit_hit(struct vh_ratelimit *rl, const char *key, int64_t limit,
    int64_t now, int64_t *retry_after_s)
{
	struct bucket_entry **pp, *e, *found = NULL;

	for (pp = &rl->buckets[hash(key)]; (e = *pp) != NULL; ) {
		if (now - e->window_start >= rl->window_ms) {
			*pp = e->next;		/* expired window */
			free(e->key);
			free(e);
			continue;
		}
		if (strcmp(e->key, key) == 0)
			found = e;
		pp = &e->next;
	}
	if (found == NULL) {
		found = vh_xcalloc(1, sizeof *found);
		found->key = vh_xstrdup(key);
		found->window_start = now;
		found->next = rl->buckets[hash(key)];
		rl->buckets[hash(key)] = found;
	}
	if (found->count >= limit) {
		*retry_after_s = (found->window_start + rl->window_ms - now +
		    999) / 1000;
		return (false);
	}
	found->count++;
	return (true);
}
