/*
 * Accounts and API tokens for admins, the web app's Beheer page:
 * GET|POST /api/v1/accounts, PATCH /api/v1/accounts/{name} (role,
 * disabled), GET|POST /api/v1/tokens and DELETE /api/v1/tokens/{id}
 * (revoke). The same changes verhaalctl user and token make, with the
 * same audit actions. Lists are one SQL statement (vh_apiq); every change
 * is one transaction on a worker that holds the change and its audit row,
 * so a change that cannot be recorded is not made. Secrets are random,
 * shown once in the answer and stored only as their SHA-256; passwords
 * are Argon2id, hashed on the worker.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_apiq.h"
#include "vh_ctx.h"
#include "vh_audit.h"
#include "vh_auth.h"
#include "vh_body.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_password.h"
#include "vh_pool.h"
#include "vh_unused.h"
#include "vh_xmalloc.h"

#define MAX_BODY	(16 * 1024)
#define LABEL_MAX	200
#define EXPIRES_DAYS_MAX 3650

enum op { OP_ADD, OP_PATCH, OP_TOKEN, OP_REVOKE };

struct acct_job {
	struct vh_ctx		*ctx;
	struct vh_http_req	*req;
	struct vh_principal	 who;
	struct vh_audit_actor	 actor;
	enum op			 op;
	char			*key;		/* account name or token id */
	json_t			*body;
	struct vh_api_err	 e;		/* the first error */
	json_t			*result;
};

static const char accounts_sql[] =
    "SELECT coalesce(json_agg(json_build_object('name', a.name, 'role',"
    " a.role, 'disabled', a.disabled, 'has_password', a.password_hash IS NOT"
    " NULL, 'created_at', a.created_at, 'last_login_at', a.last_login_at,"
    " 'sessions', (SELECT count(*) FROM session s WHERE s.account_id = a.id"
    " AND s.expires_at > now()), 'tokens', (SELECT count(*) FROM api_token t"
    " WHERE t.account_id = a.id AND t.revoked_at IS NULL AND (t.expires_at"
    " IS NULL OR t.expires_at > now()))) ORDER BY a.name), '[]')::text"
    " FROM account a";

static const char tokens_sql[] =
    "SELECT coalesce(json_agg(json_build_object('id', t.id, 'account',"
    " a.name, 'role', a.role, 'label', t.label, 'created_at', t.created_at,"
    " 'expires_at', t.expires_at, 'last_used_at', t.last_used_at,"
    " 'revoked_at', t.revoked_at, 'state', CASE WHEN t.revoked_at IS NOT"
    " NULL THEN 'revoked' WHEN t.expires_at <= now() THEN 'expired'"
    " WHEN a.disabled THEN 'disabled' ELSE 'active' END) ORDER BY t.id"
    " DESC), '[]')::text FROM api_token t JOIN account a ON a.id ="
    " t.account_id";

static void
job_free(void *arg)
{
	struct acct_job *j = arg;

	free(j->key);
	json_decref(j->body);
	json_decref(j->result);
	vh_api_err_clear(&j->e);
	free(j);
}

/* A database failure's text goes to the log only. */
static void
db_error(struct acct_job *j, char *err)
{
	vh_api_err_db(&j->e, j->req, "accounts", err, VH_API_DB_UNCHANGED);
}

static bool
role_ok(const char *s)
{
	unsigned bit;

	return (s != NULL && vh_role_parse(s, &bit) == 0 &&
	    bit != VH_ROLE_RESIDENT && bit != VH_ROLE_NONE);
}

/* Runs one statement of the transaction; false (and the error set) when
 * the database failed. */
static PGresult *
exec(struct acct_job *j, PGconn *db, const char *sql, int n,
    const char *const *params)
{
	PGresult	*r;
	char		*err = NULL;

	if ((r = vh_db_exec(db, sql, n, params, &err)) == NULL)
		db_error(j, err);
	return (r);
}

static void
audit(struct acct_job *j, PGconn *db, const char *action, const char *type,
    const char *id, const char *reason)
{
	char *err = NULL;

	if (vh_audit_record(db, &j->actor, action, type, id, reason,
	    &err) != 0)
		db_error(j, err);
}

static void
account_add(struct acct_job *j, PGconn *db)
{
	const char	*name = json_string_value(json_object_get(j->body, "name"));
	const char	*role = json_string_value(json_object_get(j->body, "role"));
	const char	*pw = json_string_value(json_object_get(j->body,
			    "password"));
	const char	*why, *params[3];
	char		*hash = NULL;
	PGresult	*r;

	if (vh_password_check(pw, &why) != 0) {
		vh_api_err_set(&j->e, 422, "invalid-account",
		    vh_xasprintf("'password': %s", why));
		return;
	}
	hash = vh_password_hash(pw);
	params[0] = name;
	params[1] = role;
	params[2] = hash;
	r = PQexecParams(db, "INSERT INTO account (name, role, password_hash,"
	    " password_changed_at) VALUES ($1, $2, $3, now()) ON CONFLICT"
	    " (name) DO NOTHING RETURNING json_build_object('name', name, 'role',"
	    " role, 'disabled', disabled, 'has_password', true, 'created_at',"
	    " created_at)::text", 3, NULL, params, NULL, NULL, 0);
	free(hash);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		/* 23514: the name check of the account table. */
		if (strcmp(vh_db_sqlstate(r), "23514") == 0)
			vh_api_err_set(&j->e, 422, "invalid-account",
			    vh_xstrdup("'name' takes 1 to 64 of a-z 0-9 . _ - "
			    "and starts with a letter or digit"));
		else
			db_error(j, vh_xstrdup(PQresultErrorMessage(r)));
		PQclear(r);
		return;
	}
	if (PQntuples(r) == 0)
		vh_api_err_set(&j->e, 409, "conflict",
		    vh_xasprintf("an account named '%s' exists already", name));
	else
		j->result = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	PQclear(r);
	if (j->e.status == 0)
		audit(j, db, "user_add", "account", name, role);
}

static void
account_patch(struct acct_job *j, PGconn *db)
{
	const char	*role = json_string_value(json_object_get(j->body, "role"));
	json_t		*dis = json_object_get(j->body, "disabled");
	const char	*params[3];
	char		*reason;
	PGresult	*r;

	params[0] = j->key;
	if ((r = exec(j, db, "SELECT role, disabled FROM account WHERE name ="
	    " $1 FOR UPDATE", 1, params)) == NULL)
		return;
	if (PQntuples(r) == 0) {
		vh_api_err_set(&j->e, 404, "not-found",
		    vh_xasprintf("no account '%s'", j->key));
		PQclear(r);
		return;
	}
	reason = vh_xasprintf("%s -> %s", PQgetvalue(r, 0, 0),
	    role != NULL ? role : PQgetvalue(r, 0, 0));
	if (role != NULL && strcmp(role, PQgetvalue(r, 0, 0)) == 0)
		role = NULL;		/* no change, no audit row */
	if (dis != NULL && json_boolean_value(dis) ==
	    (strcmp(PQgetvalue(r, 0, 1), "t") == 0))
		dis = NULL;
	PQclear(r);
	params[1] = role;
	params[2] = dis == NULL ? NULL : json_is_true(dis) ? "t" : "f";
	/* A disabled account's sessions end at once; its tokens stay but are
	 * refused (vh_auth_lookup_token) until it is enabled again. */
	if ((r = exec(j, db, "WITH a AS (UPDATE account SET role = coalesce($2,"
	    " role), disabled = coalesce($3::boolean, disabled) WHERE name = $1"
	    " RETURNING id, name, role, disabled, created_at, last_login_at,"
	    " password_hash IS NOT NULL AS has_password),"
	    " s AS (DELETE FROM session WHERE account_id IN (SELECT id FROM a"
	    " WHERE disabled))"
	    " SELECT json_build_object('name', name, 'role', role, 'disabled',"
	    " disabled, 'has_password', has_password, 'created_at', created_at,"
	    " 'last_login_at', last_login_at)::text FROM a", 3, params)) == NULL)
		goto out;
	j->result = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	PQclear(r);
	if (role != NULL)
		audit(j, db, "user_role", "account", j->key, reason);
	if (dis != NULL)
		audit(j, db, json_is_true(dis) ? "user_disable" : "user_enable",
		    "account", j->key, NULL);
out:
	free(reason);
}

static void
token_create(struct acct_job *j, PGconn *db)
{
	const char	*name = json_string_value(json_object_get(j->body,
			    "account"));
	const char	*label = json_string_value(json_object_get(j->body,
			    "label"));
	json_t		*days = json_object_get(j->body, "expires_days");
	char		 secret[VH_SECRET_LEN], h[67], *reason;
	struct vh_db_params p;
	uint8_t		 hash[32];
	PGresult	*r;

	vh_db_params_init(&p);
	vh_db_params_str(&p, name);
	if ((r = exec(j, db, "SELECT id, role, disabled FROM account WHERE"
	    " name = $1", p.n, p.v)) == NULL)
		return;
	if (PQntuples(r) == 0) {
		vh_api_err_set(&j->e, 422, "invalid-token",
		    vh_xasprintf("'account': no account '%s'", name));
		PQclear(r);
		return;
	}
	reason = vh_xasprintf("for %s (%s)", name, PQgetvalue(r, 0, 1));
	vh_auth_secret_new(secret, hash);
	vh_auth_hash_sql(hash, h);
	vh_db_params_init(&p);
	vh_db_params_str(&p, PQgetvalue(r, 0, 0));
	vh_db_params_str(&p, h);
	vh_db_params_str(&p, label != NULL ? label : "");
	if (days != NULL)
		vh_db_params_int(&p, json_integer_value(days));
	else
		vh_db_params_str(&p, NULL);
	{
		PGresult *r2 = exec(j, db, "INSERT INTO api_token (account_id,"
		    " token_hash, label, expires_at) VALUES ($1, $2, $3, now() +"
		    " make_interval(days => $4::int)) RETURNING"
		    " json_build_object('id', id, 'label', label, 'created_at',"
		    " created_at, 'expires_at', expires_at)::text, id", p.n, p.v);

		if (r2 != NULL) {
			j->result = json_loads(PQgetvalue(r2, 0, 0), 0, NULL);
			json_object_set_new(j->result, "account",
			    json_string(name));
			json_object_set_new(j->result, "role",
			    json_string(PQgetvalue(r, 0, 1)));
			json_object_set_new(j->result, "token",
			    json_string(secret));
			audit(j, db, "token_create", "token",
			    PQgetvalue(r2, 0, 1), reason);
		}
		PQclear(r2);
	}
	explicit_bzero(secret, sizeof secret);
	PQclear(r);
	free(reason);
}

static void
token_revoke(struct acct_job *j, PGconn *db)
{
	const char	*params[1] = { j->key };
	PGresult	*r;

	if ((r = exec(j, db, "UPDATE api_token SET revoked_at = now() WHERE"
	    " id = $1::bigint AND revoked_at IS NULL RETURNING id", 1,
	    params)) == NULL)
		return;
	if (PQntuples(r) == 0)
		vh_api_err_set(&j->e, 404, "not-found",
		    vh_xasprintf("no active token %s", j->key));
	PQclear(r);
	if (j->e.status == 0)
		audit(j, db, "token_revoke", "token", j->key, NULL);
}

static void
acct_change(struct vh_http_req *req VH_UNUSED, PGconn *db,
    struct vh_api_err *e VH_UNUSED /* j->e */, void *arg)
{
	struct acct_job *j = arg;

	switch (j->op) {
	case OP_ADD: account_add(j, db); break;
	case OP_PATCH: account_patch(j, db); break;
	case OP_TOKEN: token_create(j, db); break;
	case OP_REVOKE: token_revoke(j, db); break;
	}
}

static void
acct_work(struct vh_worker *w, void *arg)
{
	struct acct_job *j = arg;

	(void)vh_api_tx(w, j->req, &j->e, "accounts", VH_API_DB_UNCHANGED,
	    acct_change, j);
}

static void
acct_done(void *arg)
{
	struct acct_job *j = arg;

	if (j->e.status == 0 && j->op == OP_REVOKE)
		vh_http_respond(j->req, 204, NULL, NULL, 0);
	else {
		if (j->e.status == 0)
			vh_http_add_header(j->req, "Cache-Control", "no-store");
		vh_api_reply_json(j->req, &j->e, j->op == OP_PATCH ? 200 : 201,
		    j->result);
	}
	job_free(j);
}

/* Checks a body on the loop thread: what each change takes, in words. */
static const char *
body_problem(enum op op, json_t *b)
{
	json_t		*v;
	const char	*k;

	switch (op) {
	case OP_ADD:
		json_object_foreach(b, k, v)
			if (strcmp(k, "name") != 0 && strcmp(k, "role") != 0 &&
			    strcmp(k, "password") != 0)
				return ("an account takes only 'name', 'role' and"
				    " 'password'");
		if (!json_is_string(json_object_get(b, "name")))
			return ("'name' is missing or not a string");
		if (!role_ok(json_string_value(json_object_get(b, "role"))))
			return ("'role' must be admin, moderator, analyst or "
			    "fieldworker");
		if (!json_is_string(json_object_get(b, "password")))
			return ("'password' is missing or not a string");
		return (NULL);
	case OP_PATCH:
		if (json_object_size(b) == 0)
			return ("send {\"role\": …} or {\"disabled\": true|false}");
		json_object_foreach(b, k, v)
			if (strcmp(k, "role") != 0 && strcmp(k, "disabled") != 0)
				return ("an account change takes only 'role' and "
				    "'disabled'");
		if ((v = json_object_get(b, "role")) != NULL &&
		    !role_ok(json_string_value(v)))
			return ("'role' must be admin, moderator, analyst or "
			    "fieldworker");
		if ((v = json_object_get(b, "disabled")) != NULL &&
		    !json_is_boolean(v))
			return ("'disabled' must be true or false");
		return (NULL);
	case OP_TOKEN:
		json_object_foreach(b, k, v)
			if (strcmp(k, "account") != 0 && strcmp(k, "label") != 0
			    && strcmp(k, "expires_days") != 0)
				return ("a token takes only 'account', 'label' and"
				    " 'expires_days'");
		if (!json_is_string(json_object_get(b, "account")))
			return ("'account' is missing or not a string");
		if ((v = json_object_get(b, "label")) != NULL &&
		    (!json_is_string(v) || json_string_length(v) > LABEL_MAX))
			return ("'label' must be a string of at most 200 bytes");
		if ((v = json_object_get(b, "expires_days")) != NULL &&
		    (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > EXPIRES_DAYS_MAX))
			return ("'expires_days' must be a whole number of days, "
			    "1 to 3650");
		return (NULL);
	case OP_REVOKE:
		return (NULL);
	}
	return (NULL);
}

static void
on_body(struct vh_http_req *req, json_t *body, void *arg)
{
	struct acct_job	*j = arg;
	const char	*why = body_problem(j->op, body);
	const char	*role = json_string_value(json_object_get(body, "role"));

	if (why != NULL) {
		vh_http_respond_problem(req, 422, j->op == OP_TOKEN ?
		    "invalid-token" : "invalid-account", "%s", why);
		job_free(j);
		return;
	}
	/* An admin who locks themselves out needs verhaalctl to get back. */
	if (j->op == OP_PATCH && j->who.via != VH_VIA_NONE &&
	    strcmp(j->key, j->who.name) == 0 && (json_is_true(json_object_get(
	    body, "disabled")) || (role != NULL && strcmp(role, "admin") != 0))) {
		vh_http_respond_problem(req, 409, "conflict", "you cannot "
		    "disable your own account or take its admin role; another "
		    "admin can");
		job_free(j);
		return;
	}
	j->body = json_incref(body);
	vh_pool_submit(j->ctx->pool, acct_work, acct_done, j);
}

static void
change(struct vh_ctx *ctx, struct vh_http_req *req, const char *key,
    const struct vh_principal *who, enum op op)
{
	struct acct_job	*j = vh_xcalloc(1, sizeof *j);

	j->ctx = ctx;
	j->req = req;
	j->who = *who;
	j->op = op;
	j->key = vh_xstrdup(key != NULL ? key : "");
	vh_audit_actor_from(&j->actor, req, who);
	vh_body_read_json(req, MAX_BODY, on_body, job_free, j);
}

static void
list(struct vh_ctx *ctx, struct vh_http_req *req, const char *sql)
{
	struct vh_apiq q = { .mode = VH_APIQ_JSON };

	q.sql = sql;
	vh_apiq_run(ctx, req, &q);
}

void
vh_api_accounts_list(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	list(ctx, req, accounts_sql);
}

void
vh_api_accounts_post(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	change(ctx, req, NULL, who, OP_ADD);
}

void
vh_api_account_patch(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	change(ctx, req, vh_route_param(params, "name"), who, OP_PATCH);
}

void
vh_api_tokens_list(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	list(ctx, req, tokens_sql);
}

void
vh_api_tokens_post(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	change(ctx, req, NULL, who, OP_TOKEN);
}

void
vh_api_token_revoke(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	/* {id:int}: the router checked its form. */
	change(ctx, req, vh_route_param(params, "id"), who, OP_REVOKE);
}
