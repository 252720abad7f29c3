#ifndef VH_API_H
#define VH_API_H
/* Request handlers, one file per family (vh_api_<family>.c), all routed
 * from the table in vh_routes.c. */
#include "vh_routes.h"

/* vh_api_health.c */
void	vh_api_healthz(struct vh_app *, struct vh_http_req *,
	    const struct vh_route_params *);
void	vh_api_readyz(struct vh_app *, struct vh_http_req *,
	    const struct vh_route_params *);

#endif
