#ifndef VH_API_METRICS_H
#define VH_API_METRICS_H
/*
 * GET /metrics, and the glue between the HTTP server and vh_metrics: each
 * request is tagged with its route's slot when dispatched, and counted
 * when it finishes. The database-derived gauges are read on a worker and
 * cached for a few seconds, so a scrape never blocks the loop and a
 * tight scrape interval costs the database little.
 */
#include "vh_api.h"

struct vh_api_metrics;

/* Registers every route of the table with vh_metrics; walk is
 * vh_routes_each (given, as the table names this module's handler). */
struct vh_api_metrics *vh_api_metrics_new(vh_route_walk_fn walk);
void	vh_api_metrics_free(struct vh_api_metrics *);

/* At dispatch: tags req with its route slot (and counts an upload). */
void	vh_api_metrics_begin(struct vh_api_metrics *, struct vh_http_req *);
/* The server's observer (vh_http_server_observe); arg is unused. */
void	vh_api_metrics_observe(struct vh_http_req *, int status,
	    int64_t bytes_out, int64_t us, void *arg);

/* The exposition (the admin route on the main port, and the metrics
 * listener's only resource). */
VH_HANDLER(vh_api_metrics_get);

/* Splits "127.0.0.1:9108" or "[::1]:9108" into host and port. */
int	vh_api_metrics_parse_listen(const char *, char *host, size_t,
	    int *port) __attribute__((warn_unused_result));

#endif
