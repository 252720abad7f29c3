/*
 * A field worker's own entries: PATCH /api/v1/entries/{id} changes the
 * fields of a note, POST /api/v1/entries/{id}/withdraw takes it back,
 * both only until it is published (vh_entry_edit,
 * vh_entry_claim_withdrawal). A withdrawal erases the entry as a
 * resident's does (vh_erase_entry: files, index, consent; a tombstone and
 * the "withdraw" audit row stay). Someone else's entry answers 404, as
 * it does in every read path.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vh_api.h"
#include "vh_ctx.h"
#include "vh_audit.h"
#include "vh_body.h"
#include "vh_dbworker.h"
#include "vh_entry.h"
#include "vh_erase.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_xmalloc.h"

struct own_job {
	struct vh_ctx		*ctx;
	const struct vh_config	*cfg;	/* the worker's snapshot */
	struct vh_http_req	*req;
	struct vh_principal	 who;
	struct vh_audit_actor	 actor;
	int64_t			 id;
	bool			 withdraw;
	json_t			*body, *result;
	int			 rc;
	char			*err;
};

static void
job_free(void *arg)
{
	struct own_job *j = arg;

	json_decref(j->body);
	json_decref(j->result);
	free(j->err);
	vh_config_unref(j->cfg);
	free(j);
}

static void
own_work(struct vh_worker *w, void *arg)
{
	struct own_job	*j = arg;
	PGconn		*db;

	if ((db = vh_worker_db(w, &j->err)) == NULL) {
		j->rc = VH_EDB;
		return;
	}
	if (!j->withdraw) {
		/* An approved visit that changes goes back by this policy;
		 * a new position is kept or not by keep_location. */
		if ((j->rc = vh_entry_set_rules(db, j->cfg, &j->err)) == 0)
			j->rc = vh_entry_edit(db, j->id, &j->who, &j->actor,
			    j->body, &j->result, &j->err);
		return;
	}
	if ((j->rc = vh_entry_claim_withdrawal(db, j->id, &j->who,
	    &j->err)) != 0)
		return;
	j->rc = vh_erase_entry(db, j->ctx->blobs, j->id,
	    VH_ERASE_WITHDRAWN, j->who.name, &j->result, &j->err);
}

static void
own_done(void *arg)
{
	struct own_job	*j = arg;

	if (j->rc == VH_EINVAL)
		vh_http_respond_problem(j->req, 422, "invalid-entry", "%s",
		    j->err);
	else if (j->rc == VH_ENOENT)
		vh_http_respond_problem(j->req, 404, "not-found", "no entry "
		    "%" PRId64 " of yours", j->id);
	else if (j->rc == VH_ECONFLICT)
		vh_http_respond_problem(j->req, 409, "conflict", "%s", j->err);
	else if (j->rc != 0) {
		vh_log_warnx("req=%s entry %" PRId64 ": %s",
		    vh_http_req_id(j->req), j->id, j->err);
		vh_http_respond_problem(j->req, 503, "database-unavailable",
		    "the entry could not be changed right now; try again "
		    "shortly");
	} else if (j->withdraw) {
		vh_log_info("req=%s entry %" PRId64 " withdrawn by %s",
		    vh_http_req_id(j->req), j->id, j->who.name);
		vh_body_respond_json(j->req, 200, json_pack("{s:I, s:b, s:O}",
		    "id", (json_int_t)j->id, "withdrawn", 1, "removed",
		    j->result));
	} else
		vh_body_respond_json(j->req, 200, json_incref(j->result));
	job_free(j);
}

static void
on_body(struct vh_http_req *req, json_t *body, void *arg)
{
	struct own_job *j = arg;

	(void)req;
	j->body = json_incref(body);
	vh_pool_submit(j->ctx->pool, own_work, own_done, j);
}

static void
own(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who,
    bool withdraw)
{
	struct own_job	*j;
	const char	*id = vh_route_param(params, "id");

	if (id == NULL || strspn(id, "0123456789") != strlen(id) ||
	    strlen(id) > 18 || *id == '\0') {
		vh_http_respond_problem(req, 404, "not-found", "no such entry");
		return;
	}
	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->cfg = vh_config_ref(vh_ctx_config(ctx));
	j->req = req;
	j->who = *who;
	vh_audit_actor_from(&j->actor, req, who);
	j->id = strtoll(id, NULL, 10);
	j->withdraw = withdraw;
	vh_body_read_json(req, 256 * 1024, on_body, job_free, j);
}

void
vh_api_entry_patch_own(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	own(ctx, req, params, who, false);
}

void
vh_api_entry_withdraw_own(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	own(ctx, req, params, who, true);
}
