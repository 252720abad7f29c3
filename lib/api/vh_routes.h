#ifndef VH_ROUTES_H
#define VH_ROUTES_H
/* The route table: every route with its method, path pattern and the
 * roles that may call it, in one place (vh_routes.c). */
#include "vh_route.h"

struct vh_ctx;

/*
 * Routes a request: 404 or 405 (with Allow) when nothing matches; then
 * checks its credentials (401, 403, 429 for residents over their rate)
 * before the handler sees it, so no body byte is read for a refusal.
 */
void	vh_routes_dispatch(struct vh_ctx *, struct vh_http_req *);

/* Walks the route table (for tests, docs and metrics); patterns are
 * given without their parameter types ("/api/v1/media/{id}"). */
void	vh_routes_each(vh_route_each_fn, void *arg);

#endif
