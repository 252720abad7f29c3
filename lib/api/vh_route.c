/*
 * Route patterns and their parameters: matching a path segment by
 * segment ("{name}" takes one segment, "{name:type}" one of that type),
 * the typed parameters' checks, and the names of methods and access
 * masks. The table itself and the dispatch are vh_routes.c; handlers
 * need only this half, so they do not include the table that names them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_areas.h"
#include "vh_audit.h"
#include "vh_error.h"
#include "vh_route.h"
#include "vh_xmalloc.h"

static const char *method_names[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"
};

/* Whether value is of the type named in pattern segment seg ("{id:int}"
 * or "{id}", length len). */
static bool
typed_ok(const char *seg, size_t len, const char *value)
{
	const char	*colon = memchr(seg, ':', len), *type;
	size_t		 tlen, vlen = strlen(value);
	enum vh_area_level lvl;

	if (colon == NULL)
		return (true);
	type = colon + 1;
	tlen = (size_t)(seg + len - 1 - type);
	if (tlen == 3 && strncmp(type, "int", 3) == 0)
		return (vlen <= 18 && strspn(value, "0123456789") == vlen &&
		    strspn(value, "0") < vlen);
	if (tlen == 5 && strncmp(type, "hex32", 5) == 0)
		return (vlen == 32 && strspn(value, "0123456789abcdef") == vlen);
	if (tlen == 4 && strncmp(type, "area", 4) == 0)
		return (vh_area_level_of(value, &lvl) == 0);
	return (false);		/* a type this router does not know */
}

const char *
vh_route_type_help(const char *name)
{
	const char	*colon = strchr(name, ':');

	if (colon == NULL)
		return ("");
	if (strncmp(colon, ":int}", 5) == 0)
		return ("a positive whole number of at most 18 digits");
	if (strncmp(colon, ":hex32}", 7) == 0)
		return ("32 lower-case hexadecimal digits");
	if (strncmp(colon, ":area}", 6) == 0)
		return ("a CBS area code: GM and 4 digits, WK and 6, or BU "
		    "and 8");
	return ("of another form");
}

int
vh_route_match(const char *pattern, const char *path,
    struct vh_route_params *params)
{
	const char	*p = pattern, *s = path;
	size_t		 plen, slen;

	params->n = 0;
	params->bad = 0;
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
			if (params->bad == 0 && !typed_ok(p, plen,
			    params->value[params->n - 1]))
				params->bad = (int)params->n;
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
		    (params->name[i][n] == '}' || params->name[i][n] == ':'))
			return (params->value[i]);
	return (NULL);
}

const char *
vh_route_method_name(enum vh_http_method m)
{
	if ((size_t)m >= sizeof method_names / sizeof method_names[0])
		return ("OTHER");
	return (method_names[m]);
}

char *
vh_route_access_name(unsigned access)
{
	static const unsigned bits[] = { VH_ROLE_ADMIN, VH_ROLE_MODERATOR,
	    VH_ROLE_ANALYST, VH_ROLE_FIELDWORKER, VH_ROLE_RESIDENT };
	char	buf[128] = "";

	if (access == VH_ACCESS_PUBLIC)
		return (vh_xstrdup("public"));
	if (access & VH_ACCESS_OPTIONAL)
		snprintf(buf, sizeof buf, "optional");
	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
		if (!(access & bits[i]))
			continue;
		if (buf[0] != '\0')
			strncat(buf, ",", sizeof buf - strlen(buf) - 1);
		strncat(buf, vh_role_name(bits[i]), sizeof buf - strlen(buf) - 1);
	}
	return (vh_xstrdup(buf));
}


void
vh_audit_actor_from(struct vh_audit_actor *a, struct vh_http_req *req,
    const struct vh_principal *who)
{
	vh_audit_actor_set(a, who, vh_http_req_client(req), vh_http_req_id(req));
}
