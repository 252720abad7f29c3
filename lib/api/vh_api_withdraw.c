/*
 * POST /api/v1/withdraw: a resident takes a story back with the receipt
 * code they were shown when they sent it. Public, so every wrong code
 * counts against the caller's address (an IPv6 one by its /64) and the
 * code, in the database so that a restart forgets nothing; the code
 * is hashed and looked up, and the entry erased (vh_erase) before the
 * answer, which says what was removed.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_ctx.h"
#include "vh_unused.h"
#include "vh_body.h"
#include "vh_erase.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_ratelimit.h"
#include "vh_time.h"
#include "vh_xmalloc.h"

#define WITHDRAW_DB	"the story could not be withdrawn right now; nothing " \
			"was removed, please try again"

struct withdraw_job {
	struct vh_ctx		*ctx;
	const struct vh_config	*cfg;	/* the worker's snapshot */
	struct vh_http_req	*req;
	char			*code;
	char			 addr[VH_RATELIMIT_KEY_LEN];
	int64_t			 retry_after_s;
	int			 rc;
	int64_t			 entry;
	json_t			*report;
	struct vh_api_err	 e;	/* the database's failure */
};

static void
job_free(void *arg)
{
	struct withdraw_job *j = arg;

	free(j->code);
	json_decref(j->report);
	vh_api_err_clear(&j->e);
	vh_config_unref(j->cfg);
	free(j);
}

static void
withdraw_work(struct vh_worker *w, void *arg)
{
	struct withdraw_job	*j = arg;
	PGconn			*db;
	char			*err = NULL;

	if ((db = vh_api_db(w, j->req, &j->e, WITHDRAW_DB)) == NULL) {
		j->rc = VH_EDB;
		return;
	}
	if ((j->rc = vh_api_receipt_find(j->ctx, j->cfg, db, j->addr, j->code,
	    &j->entry, &j->retry_after_s, &err)) == 0)
		j->rc = vh_erase_entry(db, j->ctx->blobs, j->entry,
		    VH_ERASE_WITHDRAWN, "resident", &j->report, &err);
	if (j->rc != 0 && j->rc != VH_ETOOBIG && j->rc != VH_ENOENT)
		vh_api_err_db(&j->e, j->req, "withdraw", err, WITHDRAW_DB);
	else
		free(err);
}

static void
withdraw_done(void *arg)
{
	struct withdraw_job *j = arg;

	if (j->rc == VH_ETOOBIG)
		vh_api_receipt_refuse(j->req, j->retry_after_s);
	else if (j->rc == VH_ENOENT)
		vh_http_respond_problem(j->req, 404, "unknown-receipt",
		    "no story is stored under this receipt code; it may have "
		    "been withdrawn already");
	else if (j->rc != 0)
		vh_api_reply_problem(j->req, &j->e);
	else {
		vh_log_info("req=%s entry %" PRId64 " withdrawn by the resident",
		    vh_http_req_id(j->req), j->entry);
		vh_http_add_header(j->req, "Cache-Control", "no-store");
		vh_body_respond_json(j->req, 200, json_pack("{s:b, s:O}",
		    "withdrawn", 1, "removed", j->report));
	}
	job_free(j);
}

static void
withdraw_body(struct vh_http_req *req, json_t *body, void *arg)
{
	struct withdraw_job *j = arg;

	if ((j->code = vh_api_receipt_code(req, body)) == NULL) {
		job_free(j);
		return;
	}
	vh_pool_submit(j->ctx->pool, withdraw_work, withdraw_done, j);
}

void
vh_api_withdraw(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	struct withdraw_job	*j;

	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->cfg = vh_config_ref(vh_ctx_config(ctx));
	j->req = req;
	vh_ratelimit_key(vh_http_req_client(req), j->addr);
	vh_body_read_json(req, 4096, withdraw_body, job_free, j);
}
