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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_ctx.h"
#include "vh_audit.h"
#include "vh_body.h"
#include "vh_dbworker.h"
#include "vh_entry.h"
#include "vh_erase.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_unused.h"
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
	struct vh_api_err	 e;
};

#define OWN_DB	"the entry could not be changed right now; try again shortly"

static void
job_free(void *arg)
{
	struct own_job *j = arg;

	json_decref(j->body);
	json_decref(j->result);
	vh_api_err_clear(&j->e);
	vh_config_unref(j->cfg);
	free(j);
}

/* Worker: records what rc (from the change, err its words) means. */
static void
own_fail(struct own_job *j, int rc, char *err)
{
	char	what[48];

	if (rc == VH_EINVAL)
		vh_api_err_set(&j->e, 422, "invalid-entry", err);
	else if (rc == VH_ENOENT) {
		free(err);
		vh_api_err_set(&j->e, 404, "not-found", vh_xasprintf("no "
		    "entry %" PRId64 " of yours", j->id));
	} else if (rc == VH_ECONFLICT)
		vh_api_err_set(&j->e, 409, "conflict", err);
	else {
		snprintf(what, sizeof what, "entry %" PRId64, j->id);
		vh_api_err_db(&j->e, j->req, what, err, OWN_DB);
	}
}

static void
own_work(struct vh_worker *w, void *arg)
{
	struct own_job	*j = arg;
	PGconn		*db;
	char		*err = NULL;
	int		 rc;

	if ((db = vh_api_db(w, j->req, &j->e, OWN_DB)) == NULL)
		return;
	if (!j->withdraw) {
		/* An approved visit that changes goes back by this policy;
		 * a new position is kept or not by keep_location. */
		if ((rc = vh_entry_set_rules(db, j->cfg, &err)) == 0)
			rc = vh_entry_edit(db, j->id, &j->who, &j->actor,
			    j->body, &j->result, &err);
	} else if ((rc = vh_entry_claim_withdrawal(db, j->id, &j->who,
	    &err)) == 0)
		rc = vh_erase_entry(db, j->ctx->blobs, j->id,
		    VH_ERASE_WITHDRAWN, j->who.name, &j->result, &err);
	if (rc != 0)
		own_fail(j, rc, err);
	else
		free(err);
}

static void
own_done(void *arg)
{
	struct own_job	*j = arg;

	if (j->e.status != 0)
		vh_api_reply_problem(j->req, &j->e);
	else if (j->withdraw) {
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
on_body(struct vh_http_req *req VH_UNUSED, json_t *body, void *arg)
{
	struct own_job *j = arg;

	j->body = json_incref(body);
	vh_pool_submit(j->ctx->pool, own_work, own_done, j);
}

static void
own(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who,
    bool withdraw)
{
	/* {id:int}: the router checked it. */
	struct own_job	*j = vh_xcalloc(1, sizeof *j);

	j->ctx = ctx;
	j->cfg = vh_config_ref(vh_ctx_config(ctx));
	j->req = req;
	j->who = *who;
	vh_audit_actor_from(&j->actor, req, who);
	j->id = strtoll(vh_route_param(params, "id"), NULL, 10);
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
