/*
 * GET /api/v1/audit: the audit trail for admins, newest first, filtered
 * by actor, action, object and period, a page at a time. The page after
 * this one is asked for with ?before=<id> (keyset pagination); "next" in
 * the answer holds that link, with the same filters, or null at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_ctx.h"
#include "vh_unused.h"
#include "vh_audit.h"
#include "vh_body.h"
#include "vh_error.h"
#include "vh_httpparse.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_xmalloc.h"

#define AUDIT_PAGE	100
#define AUDIT_DB	"the audit trail cannot be read right now"
#define AUDIT_PAGE_MAX	1000

/* Query parameters, in the order of the "next" link. */
static const char *names[] = {
	"actor", "action", "object_type", "object_id", "since", "until", "entry"
};
#define NNAMES (sizeof names / sizeof names[0])

struct audit_job {
	struct vh_ctx		*ctx;
	struct vh_http_req	*req;
	char			*value[NNAMES];
	char			 since[40], until[40];
	struct vh_audit_filter	 f;
	json_t			*rows;
	int64_t			 next;
	struct vh_api_err	 e;
};

static void
audit_work(struct vh_worker *w, void *arg)
{
	struct audit_job	*j = arg;
	PGconn			*db;
	char			*err = NULL;
	int			 rc;

	if ((db = vh_api_db(w, j->req, &j->e, AUDIT_DB)) == NULL)
		return;
	rc = vh_audit_list(db, &j->f, &j->rows, &j->next, &err);
	if (rc == VH_EINVAL)
		vh_api_err_set(&j->e, 400, "bad-filter", err);
	else if (rc != 0)
		vh_api_err_db(&j->e, j->req, "audit", err, AUDIT_DB);
	else
		free(err);
}

/* Appends name=value, percent-encoded, to a query string being built. */
static void
append(char **q, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t	 n = strlen(value);
	char	*enc = vh_xmalloc(3 * n + 1), *p = enc, *nq;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = value[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~:", c) != NULL)
			*p++ = c;
		else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	nq = vh_xasprintf("%s%s%s=%s", *q, **q != '\0' ? "&" : "", name, enc);
	free(*q);
	free(enc);
	*q = nq;
}

static void
audit_done(void *arg)
{
	struct audit_job	*j = arg;
	char			*q, num[24];
	json_t			*o;

	if (j->e.status != 0)
		vh_api_reply_problem(j->req, &j->e);
	else {
		o = json_pack("{s:o}", "items", j->rows);
		if (j->next > 0) {
			q = vh_xstrdup("");
			for (size_t i = 0; i < NNAMES; i++)
				if (j->value[i] != NULL)
					append(&q, names[i], j->value[i]);
			snprintf(num, sizeof num, "%d", j->f.limit);
			append(&q, "limit", num);
			snprintf(num, sizeof num, "%" PRId64, j->next);
			append(&q, "before", num);
			json_object_set_new(o, "next", json_sprintf(
			    "/api/v1/audit?%s", q));
			free(q);
		} else
			json_object_set_new(o, "next", json_null());
		vh_http_add_header(j->req, "Cache-Control", "no-store");
		vh_body_respond_json(j->req, 200, o);
	}
	for (size_t i = 0; i < NNAMES; i++)
		free(j->value[i]);
	vh_api_err_clear(&j->e);
	free(j);
}

/* A whole number in [lo, hi] from the query, or def when absent. */
static int
query_int(const char *query, const char *name, int64_t lo, int64_t hi,
    int64_t def, int64_t *out)
{
	char	*v = vh_http_query_get(query, name), *end;
	int	 rc = 0;

	*out = def;
	if (v == NULL)
		return (0);
	*out = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || *out < lo || *out > hi)
		rc = VH_EINVAL;
	free(v);
	return (rc);
}

void
vh_api_audit_list(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	const char		*query = vh_http_req_query(req);
	struct audit_job	*j;
	int64_t			 limit, before;
	time_t			 now = time(NULL);

	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->req = req;
	for (size_t i = 0; i < NNAMES; i++)
		j->value[i] = vh_http_query_get(query, names[i]);
	if (query_int(query, "limit", 1, AUDIT_PAGE_MAX, AUDIT_PAGE,
	    &limit) != 0 || query_int(query, "before", 1, INT64_MAX, 0,
	    &before) != 0)
		vh_api_err_set(&j->e, 400, "bad-filter", vh_xasprintf("limit "
		    "is 1 to %d and before a row id", AUDIT_PAGE_MAX));
	else if (j->value[6] != NULL && (*j->value[6] == '\0' ||
	    strlen(j->value[6]) > 18 || strspn(j->value[6], "0123456789") !=
	    strlen(j->value[6])))
		vh_api_err_set(&j->e, 400, "bad-filter",
		    vh_xstrdup("entry takes an entry id"));
	else if ((j->value[4] != NULL &&
	    vh_audit_parse_time(j->value[4], now, j->since) != 0) ||
	    (j->value[5] != NULL &&
	    vh_audit_parse_time(j->value[5], now, j->until) != 0))
		vh_api_err_set(&j->e, 400, "bad-filter", vh_xstrdup("since "
		    "and until take an ISO 8601 time or a duration back from "
		    "now (24h, 7d)"));
	if (j->e.status != 0) {
		audit_done(j);
		return;
	}
	j->f.actor = j->value[0];
	j->f.action = j->value[1];
	j->f.object_type = j->value[2];
	j->f.object_id = j->value[3];
	j->f.since = j->value[4] != NULL ? j->since : NULL;
	j->f.until = j->value[5] != NULL ? j->until : NULL;
	j->f.entry = j->value[6];
	j->f.before = before;
	j->f.limit = (int)limit;
	vh_pool_submit(ctx->pool, audit_work, audit_done, j);
}

