/*
 * Logins: POST /api/v1/session takes {"name", "password"} as JSON and, on
 * success, sets the session cookie and answers with the CSRF token that
 * state-changing requests made with the cookie must echo in X-CSRF-Token.
 * GET says who is calling; DELETE logs out. Argon2 and the database run on
 * a worker; every attempt, good or bad, leaves an audit row.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_ctx.h"
#include "vh_unused.h"
#include "vh_audit.h"
#include "vh_body.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_login.h"
#include "vh_metrics.h"
#include "vh_pool.h"
#include "vh_session.h"
#include "vh_xmalloc.h"

#define LOGIN_BODY_MAX	4096
#define LOGIN_DB	"logins cannot be checked right now"
#define LOGOUT_DB	"the session cannot be ended right now"

struct login_job {
	struct vh_ctx		*ctx;
	const struct vh_config	*cfg;	/* from the start to the reply */
	struct vh_http_req	*req;
	char			 body[LOGIN_BODY_MAX];
	size_t			 len;
	char			*name, *password;
	struct vh_audit_actor	 actor;
	struct vh_login_limits	 lim;
	struct vh_login		 out;
	int			 rc;
	struct vh_api_err	 e;	/* the database's failure */
};

static void
login_free(struct login_job *j)
{
	if (j->password != NULL)
		explicit_bzero(j->password, strlen(j->password));
	explicit_bzero(j->body, sizeof j->body);
	explicit_bzero(&j->out, sizeof j->out);
	free(j->name);
	free(j->password);
	vh_api_err_clear(&j->e);
	vh_config_unref(j->cfg);
	free(j);
}

static void
login_work(struct vh_worker *w, void *arg)
{
	struct login_job	*j = arg;
	PGconn			*db;
	char			*err = NULL;
	int			 rc;

	if ((db = vh_api_db(w, j->req, &j->e, LOGIN_DB)) == NULL) {
		j->rc = VH_EDB;
		return;
	}
	j->rc = vh_login_attempt(db, j->name, j->password, j->actor.addr,
	    &j->lim, &j->out, &err);
	if (j->rc == VH_EDB) {
		vh_api_err_db(&j->e, j->req, "login", err, LOGIN_DB);
		return;
	}
	free(err);
	err = NULL;
	if (j->rc == 0) {
		j->actor.account_id = j->out.who.account_id;
		snprintf(j->actor.name, sizeof j->actor.name, "%s",
		    j->out.who.name);
		snprintf(j->actor.role, sizeof j->actor.role, "%s",
		    vh_role_name(j->out.who.role));
	}
	/* The name as typed names the object: for a failure it may be no
	 * account at all. */
	rc = vh_audit_record(db, &j->actor, j->rc == 0 ? "login" :
	    j->rc == VH_ETOOBIG ? "login_throttled" : "login_failed",
	    "account", j->name, NULL, &err);
	if (rc != 0) {
		vh_log_warnx("audit of a login: %s", err);
		free(err);
	}
}

static void
login_done(void *arg)
{
	struct login_job	*j = arg;
	const struct vh_config	*cfg = j->cfg;
	const char		*proto;
	char			*cookie;
	bool			 secure = false;
	json_t			*o;

	switch (j->rc) {
	case 0:
		proto = vh_http_req_header(j->req, "X-Forwarded-Proto");
		secure = cfg->trust_proxy_tls && proto != NULL &&
		    strcasecmp(proto, "https") == 0;
		cookie = vh_cookie_session(j->out.session,
		    cfg->session_lifetime / 1000, secure);
		vh_http_add_header(j->req, "Set-Cookie", "%s", cookie);
		vh_http_add_header(j->req, "Cache-Control", "no-store");
		free(cookie);
		o = json_pack("{s:s, s:s, s:s}", "name", j->out.who.name,
		    "role", vh_role_name(j->out.who.role),
		    "csrf_token", j->out.csrf);
		vh_http_req_set_log(j->req, "user=%s login", j->out.who.name);
		vh_body_respond_json(j->req, 200, o);
		break;
	case VH_ENOENT:
		vh_metrics_add(VH_METRIC_LOGIN_FAILURES, 1);
		vh_http_respond_problem(j->req, 401, "login-failed",
		    "the name or password is wrong, or the account is disabled");
		break;
	case VH_ETOOBIG:
		vh_metrics_refusal(VH_LIMIT_LOGIN);
		vh_http_add_header(j->req, "Retry-After", "%" PRId64,
		    j->out.retry_after_s);
		vh_http_respond_problem(j->req, 429, "too-many-logins",
		    "too many login attempts; try again in %" PRId64 " s",
		    j->out.retry_after_s);
		break;
	default:
		vh_api_reply_problem(j->req, &j->e);
	}
	login_free(j);
}

/* The one body not read by vh_body_read_json: it holds a password, so it
 * goes into one fixed buffer that is wiped, never a growing one whose
 * earlier copies realloc would leave behind. */
static int
login_body(struct vh_http_req *req, const char *data, size_t len, void *arg)
{
	struct login_job *j = arg;

	/* read_body's limit keeps this in bounds; check anyway. */
	if (len > sizeof j->body - 1 - j->len) {
		vh_http_respond_problem(req, 413, "body-too-large",
		    "a login is at most %d bytes", LOGIN_BODY_MAX - 1);
		login_free(j);
		return (-1);
	}
	memcpy(j->body + j->len, data, len);
	j->len += len;
	return (0);
}

static void
login_end(struct vh_http_req *req, void *arg)
{
	struct login_job	*j = arg;
	json_t			*o;
	const char		*name = NULL, *pw = NULL;

	o = json_loadb(j->body, j->len, 0, NULL);
	if (o == NULL || json_unpack(o, "{s:s, s:s}", "name", &name,
	    "password", &pw) != 0 || strlen(name) == 0 || strlen(name) > 64 ||
	    strlen(pw) == 0 || strlen(pw) > 1024) {
		json_decref(o);
		vh_http_respond_problem(req, 400, "bad-login",
		    "send {\"name\": …, \"password\": …} as JSON");
		login_free(j);
		return;
	}
	j->name = vh_xstrdup(name);
	j->password = vh_xstrdup(pw);
	json_decref(o);
	vh_pool_submit(j->ctx->pool, login_work, login_done, j);
}

static void
login_abort(struct vh_http_req *req, void *arg)
{
	login_free(arg);
	vh_http_respond_error(req);
}

void
vh_api_session_login(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	const struct vh_config	*cfg = vh_ctx_config(ctx);
	const char		*ctype = vh_http_req_header(req, "Content-Type");
	struct login_job	*j;

	/* JSON only: a cross-site HTML form cannot send it, so nobody can be
	 * logged in to an account of someone else's choosing. */
	if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0 ||
	    (ctype[16] != '\0' && ctype[16] != ';' && ctype[16] != ' ')) {
		vh_http_respond_problem(req, 415, "unsupported-media-type",
		    "send the login as application/json");
		return;
	}
	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->cfg = vh_config_ref(cfg);
	j->req = req;
	vh_audit_actor_from(&j->actor, req, NULL);
	j->lim.max_account = cfg->login_max_failures;
	j->lim.max_address = cfg->login_max_failures_address;
	j->lim.window_ms = cfg->login_window;
	j->lim.lifetime_ms = cfg->session_lifetime;
	vh_http_req_read_body(req, LOGIN_BODY_MAX - 1, login_body, login_end,
	    login_abort, j);
}

void
vh_api_session_get(struct vh_ctx *ctx VH_UNUSED, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "name", who->name, "role",
	    vh_role_name(who->role), "via", who->via == VH_VIA_SESSION ?
	    "session" : "token");

	if (who->via == VH_VIA_SESSION)
		json_object_set_new(o, "expires_at",
		    json_string(who->session_expires));
	vh_http_add_header(req, "Cache-Control", "no-store");
	vh_body_respond_json(req, 200, o);
}

struct logout_job {
	struct vh_ctx		*ctx;
	struct vh_http_req	*req;
	char			*session;
	struct vh_audit_actor	 actor;
	int			 rc;
	struct vh_api_err	 e;	/* the database's failure */
};

static void
logout_work(struct vh_worker *w, void *arg)
{
	struct logout_job	*j = arg;
	PGconn			*db;
	char			*err = NULL;

	if ((db = vh_api_db(w, j->req, &j->e, LOGOUT_DB)) == NULL) {
		j->rc = VH_EDB;
		return;
	}
	if ((j->rc = vh_session_delete(db, j->session, &err)) == 0)
		j->rc = vh_audit_record(db, &j->actor, "logout", "account",
		    j->actor.name, NULL, &err);
	if (j->rc != 0 && j->rc != VH_ENOENT)
		vh_api_err_db(&j->e, j->req, "logout", err, LOGOUT_DB);
	else
		free(err);
}

static void
logout_done(void *arg)
{
	struct logout_job	*j = arg;
	char			*cookie;

	if (j->rc == 0 || j->rc == VH_ENOENT) {
		/* Also when the row went meanwhile: the browser forgets it. */
		cookie = vh_cookie_session("", 0, false);
		vh_http_add_header(j->req, "Set-Cookie", "%s", cookie);
		free(cookie);
		vh_http_respond(j->req, 204, NULL, NULL, 0);
	} else
		vh_api_reply_problem(j->req, &j->e);
	free(j->session);
	vh_api_err_clear(&j->e);
	free(j);
}

void
vh_api_session_logout(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	struct logout_job *j;

	if (who->via != VH_VIA_SESSION) {
		vh_http_respond_problem(req, 400, "not-a-session",
		    "only a login session can be ended; revoke a token with "
		    "verhaalctl token revoke");
		return;
	}
	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->req = req;
	j->session = vh_cookie_get(vh_http_req_header(req, "Cookie"),
	    VH_SESSION_COOKIE);
	vh_audit_actor_from(&j->actor, req, who);
	vh_pool_submit(ctx->pool, logout_work, logout_done, j);
}
