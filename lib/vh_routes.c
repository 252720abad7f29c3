/*
 * Routing. The table below lists every route verhaald serves; a request's
 * path is matched segment by segment, "{name}" taking one segment. A path
 * that matches with another method gets 405 and an Allow header.
 */
#include <stdlib.h>
#include <string.h>

#include "vh_api.h"
#include "vh_error.h"
#include "vh_routes.h"
#include "vh_xmalloc.h"

struct route {
	enum vh_http_method	 method;
	const char		*pattern;
	vh_route_fn		 fn;
};

static const struct route routes[] = {
	{ VH_HTTP_GET,	"/healthz",	vh_api_healthz },
	{ VH_HTTP_GET,	"/readyz",	vh_api_readyz },
};
#define NROUTES (sizeof routes / sizeof routes[0])

static const char *method_names[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"
};

int
vh_route_match(const char *pattern, const char *path,
    struct vh_route_params *params)
{
	const char	*p = pattern, *s = path;
	size_t		 plen, slen;

	params->n = 0;
	for (;;) {
		if (*p == '\0' || *s == '\0')
			break;
		if (*p != '/' || *s != '/')
			goto nomatch;
		p++;
		s++;
		plen = strcspn(p, "/");
		slen = strcspn(s, "/");
		if (plen > 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (slen == 0 || params->n == VH_ROUTE_MAX_PARAMS)
				goto nomatch;
			params->name[params->n] = p + 1;
			params->value[params->n++] = vh_xstrndup(s, slen);
		} else if (plen != slen || strncmp(p, s, plen) != 0)
			goto nomatch;
		p += plen;
		s += slen;
	}
	if (*p == '\0' && *s == '\0')
		return (0);
nomatch:
	vh_route_params_clear(params);
	return (VH_ENOENT);
}

void
vh_route_params_clear(struct vh_route_params *params)
{
	for (size_t i = 0; i < params->n; i++)
		free(params->value[i]);
	params->n = 0;
}

const char *
vh_route_param(const struct vh_route_params *params, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < params->n; i++)
		if (strncmp(params->name[i], name, n) == 0 &&
		    params->name[i][n] == '}')
			return (params->value[i]);
	return (NULL);
}

void
vh_routes_dispatch(struct vh_app *app, struct vh_http_req *req)
{
	struct vh_route_params	 params = { .n = 0 };
	enum vh_http_method	 m = vh_http_req_method(req);
	const char		*path = vh_http_req_path(req);
	char			 allow[128] = "";
	bool			 found = false;

	for (size_t i = 0; i < NROUTES; i++) {
		if (vh_route_match(routes[i].pattern, path, &params) != 0)
			continue;
		/* HEAD is served by every GET route. */
		if (routes[i].method == m ||
		    (m == VH_HTTP_HEAD && routes[i].method == VH_HTTP_GET)) {
			routes[i].fn(app, req, &params);
			vh_route_params_clear(&params);
			return;
		}
		vh_route_params_clear(&params);
		found = true;
		if (strstr(allow, method_names[routes[i].method]) == NULL) {
			if (allow[0] != '\0')
				strncat(allow, ", ", sizeof allow - strlen(allow) - 1);
			strncat(allow, method_names[routes[i].method],
			    sizeof allow - strlen(allow) - 1);
			if (routes[i].method == VH_HTTP_GET)
				strncat(allow, ", HEAD",
				    sizeof allow - strlen(allow) - 1);
		}
	}
	if (found) {
		vh_http_add_header(req, "Allow", "%s", allow);
		vh_http_respond_problem(req, 405, "method-not-allowed",
		    "%s does not accept this method", path);
		return;
	}
	vh_http_respond_problem(req, 404, "not-found", "no resource at %s",
	    path);
}
