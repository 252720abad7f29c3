#ifndef VH_ROUTES_H
#define VH_ROUTES_H
/* The route table: every route with its method, path pattern and the
 * roles that may call it, in one place (vh_routes.c). */
#include <stddef.h>

#include "vh_http.h"

struct vh_app;

#define VH_ROUTE_MAX_PARAMS 4

/* Path parameters of a matched route ("{id}" segments), decoded. */
struct vh_route_params {
	const char	*name[VH_ROUTE_MAX_PARAMS];
	char		*value[VH_ROUTE_MAX_PARAMS];
	size_t		 n;
};

typedef void (*vh_route_fn)(struct vh_app *, struct vh_http_req *,
	    const struct vh_route_params *);

/*
 * Matches pattern ("/api/v1/media/{id}/thumb.jpg") against path; fills
 * params (caller frees with vh_route_params_clear). 0 or VH_ENOENT.
 */
int	vh_route_match(const char *pattern, const char *path,
	    struct vh_route_params *);
void	vh_route_params_clear(struct vh_route_params *);
const char *vh_route_param(const struct vh_route_params *, const char *);

/* Routes a request: 404 or 405 (with Allow) when nothing matches. */
void	vh_routes_dispatch(struct vh_app *, struct vh_http_req *);

#endif
