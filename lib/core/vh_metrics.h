#ifndef VH_METRICS_H
#define VH_METRICS_H
/*
 * Process-wide metrics in the Prometheus text format: fixed counters and
 * histograms updated with relaxed atomics from the loop thread, the
 * workers and the media runners, and rendered on a scrape together with
 * gauges the caller computes (open connections; database-derived values
 * on a worker). Nothing here locks, allocates on an update or does I/O.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Plain counters. */
enum vh_metric {
	VH_METRIC_LOGIN_FAILURES,	/* wrong name or password */
	VH_METRIC_POOL_WAITS,		/* a job found no idle worker */
	VH_METRIC_RUNNER_BUSY_US,	/* runner time spent on jobs */
	VH_METRIC_TUS_BYTES,		/* PATCH and creation-with-upload */
	VH_METRIC_BYTES_IN,		/* request bodies */
	VH_METRIC_BYTES_OUT,		/* response bodies */
	VH_METRIC_MAX
};

/* Rate limits whose refusals are counted. */
enum vh_metric_limit {
	VH_LIMIT_LOGIN,			/* login throttling (429) */
	VH_LIMIT_UPLOAD_LINK,		/* resident uploads per address */
	VH_LIMIT_WITHDRAW,		/* withdrawal attempts per address */
	VH_LIMIT_MAX
};

/* What a media job came to (vh_metrics_media). */
enum vh_metric_outcome {
	VH_OUTCOME_READY,
	VH_OUTCOME_REJECTED,
	VH_OUTCOME_GONE,		/* the media row was deleted */
	VH_OUTCOME_LEASE_LOST,
	VH_OUTCOME_ERROR,		/* will be retried */
	VH_OUTCOME_MAX
};

#define VH_METRICS_MAX_ROUTES	96

void	vh_metrics_add(enum vh_metric, uint64_t);
void	vh_metrics_refusal(enum vh_metric_limit);
/* family is an enum vh_media_family (0, "none", when unclassified). */
void	vh_metrics_media(int family, enum vh_metric_outcome, int64_t us);
void	vh_metrics_pool_wait(int64_t us);
/* Upload request bodies being received now: +1 or -1. */
void	vh_metrics_uploads(int delta);

/*
 * Names a route for the request metrics (method "GET", pattern borrowed,
 * must be static) and returns its slot, >= 1; slot 0 is "unmatched". The
 * same route registered twice gets the same slot.
 */
int	vh_metrics_route(const char *method, const char *pattern);
/* A finished request: status, time from its head to its answer. */
void	vh_metrics_request(int slot, int status, int64_t us);

/* Values the scraper computes; a negative one is left out. */
struct vh_metrics_gauges {
	int64_t	 open_connections;
	bool	 db_ok;			/* false: the db_ values are unknown */
	int64_t	 jobs_queued, jobs_running, jobs_done, jobs_failed;
	double	 oldest_queued_s;	/* 0 when none is queued */
	int64_t	 blob_files, blob_bytes;
	double	 db_age_s;		/* how old the database values are */
};

/* The whole exposition; caller frees. */
char	*vh_metrics_render(const struct vh_metrics_gauges *, size_t *len);

/* Zeroes every counter (unit tests). */
void	vh_metrics_reset(void);

#endif
