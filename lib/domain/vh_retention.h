#ifndef VH_RETENTION_H
#define VH_RETENTION_H
/*
 * Retention: each entry is kept for the period its kind and consent scope
 * are configured with (retention_* keys), counted from its arrival; the
 * purge erases what is past it through vh_erase, which logs each erasure.
 */
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "vh_config.h"

struct event_base;
struct vh_pool;
struct vh_blobstore;
struct vh_retention;

/* The period in ms (0: forever) for kind ("story", "visit"), scope (NULL
 * or "" when there is no consent record) and status. */
int64_t	vh_retention_period(const struct vh_config *, const char *kind,
	    const char *scope, const char *status);

/*
 * Blocking: erases (or with dry_run only lists) up to limit entries past
 * their period, oldest first. *report gets {"dry_run", "expired": [{id,
 * kind, scope, status, created_at}], "erased", "failed"} (caller
 * decrefs). VH_EDB with *err when the list cannot be read; failures to
 * erase one entry are logged and counted.
 */
int	vh_retention_purge(PGconn *, struct vh_blobstore *,
	    const struct vh_config *, bool dry_run, int limit, json_t **report,
	    char **err) __attribute__((warn_unused_result));

/* The daemon's purge: a timer that queues a purge on the worker pool
 * every retention_purge_interval, re-read after each run. All borrowed;
 * cfg is the slot that holds the current config snapshot, read on the
 * loop thread only (each run keeps a reference to the one it began
 * with). */
struct vh_retention *vh_retention_new(struct event_base *, struct vh_pool *,
	    struct vh_blobstore *, const struct vh_config *const *cfg);
void	vh_retention_free(struct vh_retention *);

#endif
