#ifndef VH_API_SEARCH_H
#define VH_API_SEARCH_H
/* Search filters from a query string, shared by search, exports and
 * dossiers (vh_api_search.c). */
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "vh_auth.h"
#include "vh_http.h"

/* A filter object naming who asks and the k of small counts; caller
 * frees. */
json_t	*vh_search_viewer(const struct vh_principal *, int64_t k);
/*
 * Adds q, theme, area, kind, status, collection, from, to, has_audio and
 * has_photo from req's query to f. VH_EINVAL with *why set (caller
 * frees) for a malformed value.
 */
int	vh_search_filters(struct vh_http_req *, json_t *f, char **why)
	    __attribute__((warn_unused_result));
bool	vh_search_slug_ok(const char *);
bool	vh_search_period_ok(const char *);
/* Why s is no period ("has a month outside 01-12"), or NULL if it is. */
const char *vh_search_period_problem(const char *);

#endif
