/*
 * A collection's consent texts and its public face.
 * POST /api/v1/collections/{slug}/consent (admin) adds a text {version,
 * language, text}; texts once shown are never changed, so a version and
 * language that exist are 409. GET of the same path (admin) lists them
 * all. GET /api/v1/collections/{slug}?language=nl (public: the resident
 * page behind a collection's link) says the collection's title and its
 * current consent text in that language. Every call runs one job on the
 * pool; the text added is recorded in the audit trail in that job.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_ctx.h"
#include "vh_audit.h"
#include "vh_auth.h"
#include "vh_body.h"
#include "vh_consent.h"
#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_unused.h"
#include "vh_xmalloc.h"

enum op { OP_ADD, OP_LIST, OP_PUBLIC, OP_ROTATE };

struct coll_job {
	struct vh_ctx		*ctx;
	struct vh_http_req	*req;
	struct vh_audit_actor	 actor;
	enum op			 op;
	char			*slug, *version, *language, *text;
	struct vh_api_err	 err;
	json_t			*result;
};

static void
job_free(void *arg)
{
	struct coll_job *j = arg;

	free(j->slug);
	free(j->version);
	free(j->language);
	free(j->text);
	vh_api_err_clear(&j->err);
	json_decref(j->result);
	free(j);
}

static void
add(struct coll_job *j, PGconn *db)
{
	char		*why = NULL, *reason;
	int64_t		 id;
	int		 rc;

	/* The text and its audit row commit together, or neither does. */
	if (vh_db_begin(db, &why) != 0) {
		vh_api_err_db(&j->err, j->req, "consent text", why,
		    "the consent text could not be stored");
		return;
	}
	rc = vh_consent_text_add(db, j->slug, j->version, j->language, j->text,
	    &id, &why);
	if (rc != 0)
		vh_db_rollback(db);
	if (rc == VH_EINVAL || rc == VH_ENOENT || rc == VH_EEXIST) {
		vh_api_err_set(&j->err, vh_api_status(rc), rc == VH_EINVAL ?
		    "invalid-consent-text" : vh_api_status_type(
		    vh_api_status(rc)), why);
		return;
	}
	if (rc != 0) {
		vh_api_err_db(&j->err, j->req, "consent text", why,
		    "the consent text could not be stored");
		return;
	}
	reason = vh_xasprintf("version %s, language %s, text %lld",
	    j->version, j->language, (long long)id);
	rc = vh_audit_record(db, &j->actor, "consent_text_add", "collection",
	    j->slug, reason, &why);
	free(reason);
	if (rc != 0)
		vh_db_rollback(db);
	if (rc != 0 || vh_db_commit(db, &why) != 0) {
		vh_api_err_db(&j->err, j->req, "consent text", why, "the consent"
		    " text could not be stored with its audit row; nothing was"
		    " kept");
		return;
	}
	j->result = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id,
	    "collection", j->slug, "version", j->version, "language",
	    j->language);
}

static void
public_info(struct coll_job *j, PGconn *db)
{
	const char	*params[2] = { j->slug, j->language };
	json_t		*text = NULL;
	PGresult	*r;
	char		*err = NULL;
	int		 rc;

	if ((r = vh_db_exec(db, "SELECT json_build_object('slug', slug,"
	    " 'title', title, 'description', description, 'consent_version',"
	    " consent_version, 'consent_languages', (SELECT coalesce(json_agg("
	    " DISTINCT language), '[]') FROM consent_text t WHERE"
	    " t.collection_id = c.id))::text FROM collection c WHERE slug = $1",
	    1, params, &err)) == NULL)
		goto unavailable;
	if (PQntuples(r) == 0) {
		PQclear(r);
		vh_api_err_set(&j->err, 404, "not-found", vh_xasprintf("no "
		    "collection '%s'", j->slug));
		return;
	}
	j->result = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	PQclear(r);
	rc = vh_consent_texts(db, j->slug, j->language, &text, &err);
	if (rc == VH_EDB)
		goto unavailable;
	json_object_set_new(j->result, "language", json_string(j->language));
	json_object_set_new(j->result, "consent", text != NULL ? text :
	    json_null());
	return;
unavailable:
	vh_api_err_db(&j->err, j->req, "collection", err, "the database could"
	    " not answer");
}

/* A new upload link: the old secret stops working at once (a printed QR
 * code that leaked, a wijkgesprek that ended). The secret is shown only
 * in this answer; its renewal is a collection_create row. */
static void
rotate(struct coll_job *j, PGconn *db)
{
	char		 secret[VH_SECRET_LEN], h[67], *err = NULL;
	uint8_t		 hash[32];
	const char	*params[2];
	PGresult	*r;

	vh_auth_secret_new(secret, hash);
	vh_auth_hash_sql(hash, h);
	params[0] = j->slug;
	params[1] = h;
	if (vh_db_begin(db, &err) != 0)
		goto fail;
	if ((r = vh_db_exec(db, "UPDATE collection SET upload_secret_hash = $2"
	    " WHERE slug = $1 RETURNING id", 2, params, &err)) == NULL)
		goto fail;
	if (PQntuples(r) == 0) {
		PQclear(r);
		vh_db_rollback(db);
		vh_api_err_set(&j->err, 404, "not-found", vh_xasprintf("no "
		    "collection '%s'", j->slug));
		return;
	}
	PQclear(r);
	if (vh_audit_record(db, &j->actor, "collection_rotate_link",
	    "collection", j->slug, NULL, &err) != 0 ||
	    vh_db_commit(db, &err) != 0)
		goto fail;
	j->result = json_pack("{s:s, s:s}", "slug", j->slug, "upload_key",
	    secret);
	json_object_set_new(j->result, "link", json_sprintf(
	    "/api/v1/collections/%s/uploads?key=%s", j->slug, secret));
	explicit_bzero(secret, sizeof secret);
	return;
fail:
	vh_log_warnx("req=%s link rotation: %s", vh_http_req_id(j->req), err);
	free(err);
	vh_db_rollback(db);	/* harmless when BEGIN itself failed */
	explicit_bzero(secret, sizeof secret);
	vh_api_err_set(&j->err, 503, "database-unavailable", vh_xstrdup("the "
	    "upload link could not be renewed; the old one still works"));
}

static void
coll_work(struct vh_worker *w, void *arg)
{
	struct coll_job	*j = arg;
	PGconn		*db;
	char		*err = NULL;
	int		 rc;

	if ((db = vh_api_db(w, j->req, &j->err, NULL)) == NULL)
		return;
	if (j->op == OP_ADD)
		add(j, db);
	else if (j->op == OP_ROTATE)
		rotate(j, db);
	else if (j->op == OP_PUBLIC)
		public_info(j, db);
	else if ((rc = vh_consent_texts(db, j->slug, NULL, &j->result,
	    &err)) != 0) {
		if (rc == VH_ENOENT)
			vh_api_err_set(&j->err, 404, "not-found", vh_xasprintf("no collection"
			    " '%s'", j->slug));
		else
			vh_api_err_db(&j->err, j->req, "consent texts", err,
			    "the database could not answer");
	}
}

static void
coll_done(void *arg)
{
	struct coll_job *j = arg;

	if (j->err.status == 0 && j->op == OP_ROTATE)
		vh_http_add_header(j->req, "Cache-Control", "no-store");
	vh_api_reply_json(j->req, &j->err, j->op == OP_ADD ? 201 : 200,
	    j->result);
	job_free(j);
}

static struct coll_job *
job_new(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who,
    enum op op)
{
	struct coll_job	*j = vh_xcalloc(1, sizeof *j);
	const char	*slug = vh_route_param(params, "slug");

	j->ctx = ctx;
	j->req = req;
	j->op = op;
	j->slug = vh_xstrdup(slug != NULL ? slug : "");
	vh_audit_actor_from(&j->actor, req, who);
	return (j);
}

static void
add_body(struct vh_http_req *req, json_t *body, void *arg)
{
	struct coll_job	*j = arg;
	const char	*v = json_string_value(json_object_get(body, "version"));
	const char	*l = json_string_value(json_object_get(body, "language"));
	const char	*t = json_string_value(json_object_get(body, "text"));

	if (v == NULL || l == NULL || t == NULL) {
		vh_http_respond_problem(req, 422, "invalid-consent-text", "send "
		    "{\"version\": \"2024-05\", \"language\": \"nl\", \"text\": "
		    "the consent text as residents are shown it}; '%s' is "
		    "missing or not a string", v == NULL ? "version" : l == NULL ?
		    "language" : "text");
		job_free(j);
		return;
	}
	j->version = vh_xstrdup(v);
	j->language = vh_xstrdup(l);
	j->text = vh_xstrdup(t);
	vh_pool_submit(j->ctx->pool, coll_work, coll_done, j);
}

void
vh_api_collection_consent_post(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	vh_body_read_json(req, 256 * 1024, add_body, job_free,
	    job_new(ctx, req, params, who, OP_ADD));
}

void
vh_api_collection_consent_get(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	struct coll_job *j = job_new(ctx, req, params, who, OP_LIST);

	vh_pool_submit(ctx->pool, coll_work, coll_done, j);
}

void
vh_api_collection_get(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	struct coll_job	*j = job_new(ctx, req, params, who, OP_PUBLIC);
	char		*lang = vh_http_query_get(vh_http_req_query(req),
			    "language");

	if (lang != NULL && !vh_consent_language_ok(lang)) {
		vh_http_respond_problem(req, 400, "bad-request", "'language' "
		    "must be a language tag such as nl or en-GB");
		free(lang);
		job_free(j);
		return;
	}
	j->language = lang != NULL ? lang : vh_xstrdup("nl");
	vh_pool_submit(ctx->pool, coll_work, coll_done, j);
}

static void
rotate_body(struct vh_http_req *req VH_UNUSED, json_t *body VH_UNUSED,
    void *arg)
{
	struct coll_job *j = arg;

	vh_pool_submit(j->ctx->pool, coll_work, coll_done, j);
}

void
vh_api_collection_link_rotate(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	vh_body_read_json(req, 1024, rotate_body, job_free,
	    job_new(ctx, req, params, who, OP_ROTATE));
}
