#ifndef VH_ROUTES_H
#define VH_ROUTES_H
/* The route table: every route with its method, path pattern and the
 * roles that may call it, in one place (vh_routes.c). */
#include <stddef.h>
#include <stdint.h>

#include "vh_auth.h"
#include "vh_http.h"

struct vh_app;

/* Route access beyond the roles of vh_auth.h. */
#define VH_ACCESS_PUBLIC	0	/* no credentials needed */
#define VH_ACCESS_OPTIONAL	(1u << 8) /* a bearer token if sent, else none */

#define VH_ROUTE_MAX_PARAMS 4

/*
 * Path parameters of a matched route ("{id}" segments, or typed ones:
 * "{id:int}" a positive integer of at most 18 digits, "{id:hex32}" 32
 * hex digits, "{code:area}" a CBS area code), decoded. A value that is
 * not of its type still matches, so that the router can answer 400
 * naming it before any handler runs.
 */
struct vh_route_params {
	const char	*name[VH_ROUTE_MAX_PARAMS];	/* "id:int}..." */
	char		*value[VH_ROUTE_MAX_PARAMS];
	size_t		 n;
	int		 bad;	/* 1 + the index of a mistyped value; 0 */
	/* When the request reached the router (monotonic ns): credentials
	 * are checked on a pool, so handlers may see requests in another
	 * order, and tus must know which of two came later. */
	uint64_t	 arrival;
};

/* A handler: the principal is authenticated and its role allowed. */
typedef void (*vh_route_fn)(struct vh_app *, struct vh_http_req *,
	    const struct vh_route_params *, const struct vh_principal *);

/*
 * Matches pattern ("/api/v1/media/{id}/thumb.jpg") against path; fills
 * params (caller frees with vh_route_params_clear). 0 or VH_ENOENT.
 */
int	vh_route_match(const char *pattern, const char *path,
	    struct vh_route_params *);
void	vh_route_params_clear(struct vh_route_params *);
const char *vh_route_param(const struct vh_route_params *, const char *);

/*
 * Routes a request: 404 or 405 (with Allow) when nothing matches; then
 * checks its credentials (401, 403, 429 for residents over their rate)
 * before the handler sees it, so no body byte is read for a refusal.
 */
void	vh_routes_dispatch(struct vh_app *, struct vh_http_req *);

/* Walks the route table (for tests, docs and metrics); patterns are
 * given without their parameter types ("/api/v1/media/{id}"). */
typedef void (*vh_route_each_fn)(enum vh_http_method, const char *pattern,
	    unsigned access, void *arg);
void	vh_routes_each(vh_route_each_fn, void *arg);
/* "GET", "POST", … */
const char *vh_route_method_name(enum vh_http_method);
/* An access mask as text: "public", or the roles ("admin,fieldworker"),
 * led by "optional" for VH_ACCESS_OPTIONAL. Caller frees. */
char	*vh_route_access_name(unsigned access);

#endif
