#ifndef VH_API_SEARCH_H
#define VH_API_SEARCH_H
/* Search filters from a query string, shared by search, exports and
 * dossiers, and the one way a search or an export starts
 * (vh_api_search.c). */
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "vh_auth.h"
#include "vh_http.h"

struct vh_ctx;
struct vh_apiq;

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
/* Loop: the viewer (with the k of small counts) and req's filters as
 * one object (caller frees), or NULL once a 400 is answered. */
json_t	*vh_search_request(struct vh_ctx *, struct vh_http_req *,
	    const struct vh_principal *);
/* Loop: runs q (its sql and format set) with f as $1 (f consumed); when
 * action is given, audited as action on type, named by q's filename. */
void	vh_search_run(struct vh_ctx *, struct vh_http_req *,
	    const struct vh_principal *, struct vh_apiq *q, json_t *f,
	    const char *action, const char *type);
/* Loop: the 400 for a bad filter; takes why and f. */
void	vh_search_bad_request(struct vh_http_req *, json_t *f, char *why);
bool	vh_search_slug_ok(const char *);
bool	vh_search_period_ok(const char *);
/* Why s is no period ("has a month outside 01-12"), or NULL if it is. */
const char *vh_search_period_problem(const char *);

#endif
