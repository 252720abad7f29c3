#ifndef VH_ROUTE_H
#define VH_ROUTE_H
/* What a handler sees of routing (vh_route.c): the handler type, the
 * path parameters of its route and their types, and route names. The
 * table and the dispatch are vh_routes.h. */
#include <stddef.h>
#include <stdint.h>

#include "vh_auth.h"
#include "vh_http.h"

struct vh_ctx;

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
typedef void (*vh_route_fn)(struct vh_ctx *, struct vh_http_req *,
	    const struct vh_route_params *, const struct vh_principal *);

/*
 * Matches pattern ("/api/v1/media/{id}/thumb.jpg") against path; fills
 * params (caller frees with vh_route_params_clear). 0 or VH_ENOENT.
 */
int	vh_route_match(const char *pattern, const char *path,
	    struct vh_route_params *);
void	vh_route_params_clear(struct vh_route_params *);
const char *vh_route_param(const struct vh_route_params *, const char *);

/* What a "{name:type}" parameter must be, for the 400 that names a
 * mistyped one ("a positive whole number …"; "" when untyped). */
const char *vh_route_type_help(const char *name);

/* A walk over the route table (vh_routes_each, or one given to a module
 * that must not include the table). */
typedef void (*vh_route_each_fn)(enum vh_http_method, const char *pattern,
	    unsigned access, void *arg);
typedef void (*vh_route_walk_fn)(vh_route_each_fn, void *arg);
/* "GET", "POST", … */
const char *vh_route_method_name(enum vh_http_method);
/* An access mask as text: "public", or the roles ("admin,fieldworker"),
 * led by "optional" for VH_ACCESS_OPTIONAL. Caller frees. */
char	*vh_route_access_name(unsigned access);

struct vh_audit_actor;
/* The actor of a request: its principal (NULL or role NONE: anonymous),
 * its client address and request id. Loop thread. */
void	vh_audit_actor_from(struct vh_audit_actor *, struct vh_http_req *,
	    const struct vh_principal *);

#endif
