/*
 * Routing and access. The table below lists every route verhaald serves,
 * with the roles that may call it; nothing else decides who may call what.
 * A path is matched segment by segment, "{name}" taking one segment and
 * "{name:type}" one of that type (vh_route.c), checked here so that no
 * handler validates its own path parameters. The
 * credentials (a bearer token, a collection's upload-link secret for
 * residents, or a login's session cookie) are checked on a worker thread
 * before the handler runs; a state-changing request made with the cookie
 * must also carry the session's CSRF token in X-CSRF-Token.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vh_dbworker.h"
#include "vh_time.h"
#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_base64.h"
#include "vh_odk.h"
#include "vh_api_metrics.h"
#include "vh_ctx.h"
#include "vh_areas.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_metrics.h"
#include "vh_pool.h"
#include "vh_ratelimit.h"
#include "vh_route.h"
#include "vh_routes.h"
#include "vh_session.h"
#include "vh_xmalloc.h"
#include "vh_db.h"

#define STAFF	(VH_ROLE_ADMIN | VH_ROLE_MODERATOR | VH_ROLE_ANALYST)
#define UPLOADERS (VH_ROLE_FIELDWORKER | VH_ROLE_ADMIN)
#define MEDIA_READERS (STAFF | VH_ROLE_FIELDWORKER)

struct route {
	enum vh_http_method	 method;
	const char		*pattern;
	unsigned		 access;
	vh_route_fn		 fn;
};

static const struct route routes[] = {
	{ VH_HTTP_GET, "/healthz", VH_ACCESS_PUBLIC, vh_api_healthz },
	{ VH_HTTP_GET, "/readyz", VH_ACCESS_PUBLIC, vh_api_readyz },
	/* Also on metrics_listen, without credentials (vh_api_metrics.c). */
	{ VH_HTTP_GET, "/metrics", VH_ROLE_ADMIN, vh_api_metrics_get },

	{ VH_HTTP_POST, "/api/v1/entries", UPLOADERS, vh_api_entries_post },
	{ VH_HTTP_POST, "/api/v1/collections/{slug}/uploads", VH_ROLE_RESIDENT,
	  vh_api_collection_upload },
	/* The upload link opened in a browser: the resident's page
	 * (vh_api_resident.c), and what the page asks for. */
	{ VH_HTTP_GET, "/api/v1/collections/{slug}/uploads", VH_ROLE_RESIDENT,
	  vh_api_resident_page },
	{ VH_HTTP_GET, "/api/v1/uploads/{id}/receipt", VH_ACCESS_PUBLIC,
	  vh_api_upload_receipt },
	{ VH_HTTP_POST, "/api/v1/receipt", VH_ACCESS_PUBLIC,
	  vh_api_receipt_status },
	{ VH_HTTP_GET, "/api/v1/buurten", VH_ACCESS_PUBLIC,
	  vh_api_resident_buurten },
	{ VH_HTTP_GET, "/api/v1/buurten.geojson", VH_ACCESS_PUBLIC,
	  vh_api_resident_buurten_geojson },
	{ VH_HTTP_GET, "/api/v1/resident/settings", VH_ACCESS_PUBLIC,
	  vh_api_resident_settings },

	{ VH_HTTP_OPTIONS, "/api/v1/uploads", VH_ACCESS_PUBLIC, vh_api_tus_options },
	{ VH_HTTP_POST, "/api/v1/uploads", UPLOADERS, vh_api_tus_create },
	{ VH_HTTP_HEAD, "/api/v1/uploads/{id}", VH_ACCESS_OPTIONAL, vh_api_tus_head },
	{ VH_HTTP_PATCH, "/api/v1/uploads/{id}", VH_ACCESS_OPTIONAL, vh_api_tus_patch },
	{ VH_HTTP_DELETE, "/api/v1/uploads/{id}", VH_ACCESS_OPTIONAL, vh_api_tus_delete },
	{ VH_HTTP_OPTIONS, "/api/v1/uploads/{id}", VH_ACCESS_PUBLIC, vh_api_tus_options },

	{ VH_HTTP_GET, "/api/v1/media/{id:int}/original", VH_ROLE_ADMIN,
	  vh_api_media_original },

	/* Logins and the audit trail (vh_api_session.c, vh_api_audit.c). */
	{ VH_HTTP_POST, "/api/v1/session", VH_ACCESS_PUBLIC, vh_api_session_login },
	{ VH_HTTP_GET, "/api/v1/session", VH_ROLES_ACCOUNTS, vh_api_session_get },
	{ VH_HTTP_DELETE, "/api/v1/session", VH_ROLES_ACCOUNTS,
	  vh_api_session_logout },
	{ VH_HTTP_GET, "/api/v1/audit", VH_ROLE_ADMIN, vh_api_audit_list },
	/* Accounts and tokens for the Beheer page (vh_api_accounts.c). */
	{ VH_HTTP_GET, "/api/v1/accounts", VH_ROLE_ADMIN, vh_api_accounts_list },
	{ VH_HTTP_POST, "/api/v1/accounts", VH_ROLE_ADMIN, vh_api_accounts_post },
	{ VH_HTTP_PATCH, "/api/v1/accounts/{name}", VH_ROLE_ADMIN,
	  vh_api_account_patch },
	{ VH_HTTP_GET, "/api/v1/tokens", VH_ROLE_ADMIN, vh_api_tokens_list },
	{ VH_HTTP_POST, "/api/v1/tokens", VH_ROLE_ADMIN, vh_api_tokens_post },
	{ VH_HTTP_DELETE, "/api/v1/tokens/{id:int}", VH_ROLE_ADMIN,
	  vh_api_token_revoke },

	/* Media jobs' results: staff, and the field worker who uploaded. */
	{ VH_HTTP_GET, "/api/v1/media/{id:int}", MEDIA_READERS, vh_api_media_get },
	{ VH_HTTP_GET, "/api/v1/media/{id:int}/audio.opus", MEDIA_READERS, vh_api_media_opus },
	{ VH_HTTP_GET, "/api/v1/media/{id:int}/audio.m4a", MEDIA_READERS, vh_api_media_m4a },
	{ VH_HTTP_GET, "/api/v1/media/{id:int}/peaks.json", MEDIA_READERS, vh_api_media_peaks },
	{ VH_HTTP_GET, "/api/v1/media/{id:int}/display.jpg", MEDIA_READERS, vh_api_media_display },
	{ VH_HTTP_GET, "/api/v1/media/{id:int}/thumb.jpg", MEDIA_READERS, vh_api_media_thumb },

	/* Moderation and withdrawal (vh_api_moderation.c, vh_api_withdraw.c) */
	{ VH_HTTP_POST, "/api/v1/entries/{id:int}/approve",
	  VH_ROLE_MODERATOR | VH_ROLE_ADMIN, vh_api_entry_approve },
	{ VH_HTTP_POST, "/api/v1/entries/{id:int}/publish",
	  VH_ROLE_MODERATOR | VH_ROLE_ADMIN, vh_api_entry_publish },
	{ VH_HTTP_POST, "/api/v1/entries/{id:int}/reject",
	  VH_ROLE_MODERATOR | VH_ROLE_ADMIN, vh_api_entry_reject },
	{ VH_HTTP_POST, "/api/v1/entries/{id:int}/redact",
	  VH_ROLE_MODERATOR | VH_ROLE_ADMIN, vh_api_entry_redact },
	/* Following a queued redaction (vh_api_moderation.c). */
	{ VH_HTTP_GET, "/api/v1/jobs/{id:int}", VH_ROLE_MODERATOR | VH_ROLE_ADMIN,
	  vh_api_job_get },
	{ VH_HTTP_POST, "/api/v1/withdraw", VH_ACCESS_PUBLIC, vh_api_withdraw },
	/* Changing an entry: a moderator corrects title, themes or buurt
	 * (vh_api_entry_edit.c), a field worker their own entry until it is
	 * published (vh_api_own.c); vh_api_entry_patch picks by role. */
	{ VH_HTTP_PATCH, "/api/v1/entries/{id:int}",
	  VH_ROLE_FIELDWORKER | VH_ROLE_MODERATOR | VH_ROLE_ADMIN,
	  vh_api_entry_patch },
	{ VH_HTTP_POST, "/api/v1/entries/{id:int}/withdraw", VH_ROLE_FIELDWORKER,
	  vh_api_entry_withdraw_own },
	{ VH_HTTP_GET, "/api/v1/entries/{id:int}/history", STAFF,
	  vh_api_entry_history },

	/* Search and evidence: staff read; field workers search their own. */
	{ VH_HTTP_GET, "/api/v1/entries", STAFF | VH_ROLE_FIELDWORKER,
	  vh_api_search_entries },
	{ VH_HTTP_GET, "/api/v1/entries/{id:int}", STAFF | VH_ROLE_FIELDWORKER,
	  vh_api_entry_get },
	{ VH_HTTP_GET, "/api/v1/indicators", STAFF, vh_api_indicators_list },
	/* Field workers place their entries: the list, not the dossiers. */
	{ VH_HTTP_GET, "/api/v1/areas", STAFF | VH_ROLE_FIELDWORKER,
	  vh_api_areas_list },
	{ VH_HTTP_GET, "/api/v1/areas/{code:area}", STAFF, vh_api_area_get },
	{ VH_HTTP_GET, "/api/v1/areas/{code:area}/indicators", STAFF,
	  vh_api_area_indicators },
	{ VH_HTTP_GET, "/api/v1/areas/{code:area}/dossier", STAFF, vh_api_area_dossier },
	{ VH_HTTP_GET, "/api/v1/collections", STAFF, vh_api_collections_list },
	{ VH_HTTP_POST, "/api/v1/collections", VH_ROLE_ADMIN,
	  vh_api_collections_post },
	/* Consent texts (admin); the public face for the resident page. */
	{ VH_HTTP_POST, "/api/v1/collections/{slug}/consent", VH_ROLE_ADMIN,
	  vh_api_collection_consent_post },
	{ VH_HTTP_GET, "/api/v1/collections/{slug}/consent", VH_ROLE_ADMIN,
	  vh_api_collection_consent_get },
	{ VH_HTTP_POST, "/api/v1/collections/{slug}/link", VH_ROLE_ADMIN,
	  vh_api_collection_link_rotate },
	{ VH_HTTP_GET, "/api/v1/collections/{slug}", VH_ACCESS_PUBLIC,
	  vh_api_collection_get },
	{ VH_HTTP_GET, "/api/v1/themes", STAFF | VH_ROLE_FIELDWORKER,
	  vh_api_themes_list },
	{ VH_HTTP_POST, "/api/v1/themes", VH_ROLE_ADMIN, vh_api_themes_post },
	{ VH_HTTP_GET, "/api/v1/exports/entries.csv", STAFF,
	  vh_api_export_entries_csv },
	{ VH_HTTP_GET, "/api/v1/exports/buurten.geojson", STAFF,
	  vh_api_export_buurten_geojson },
	{ VH_HTTP_GET, "/api/v1/exports/entries.xlsx", STAFF,
	  vh_api_export_entries_xlsx },
	{ VH_HTTP_GET, "/api/v1/exports/entries.zip", STAFF,
	  vh_api_export_entries_zip },
	{ VH_HTTP_GET, "/api/v1/exports/areas.geojson", STAFF,
	  vh_api_export_areas_geojson },
	{ VH_HTTP_GET, "/api/v1/exports/fields", STAFF, vh_api_export_fields },

	/* OpenRosa (vh_api_odk.c): a field worker's ODK token in the path,
	 * or HTTP Basic without it. */
	{ VH_HTTP_GET, "/odk/key/{token}/formList", UPLOADERS,
	  vh_api_odk_form_list },
	{ VH_HTTP_GET, "/odk/key/{token}/forms/{file}", UPLOADERS,
	  vh_api_odk_form_get },
	{ VH_HTTP_HEAD, "/odk/key/{token}/submission", UPLOADERS,
	  vh_api_odk_submission_head },
	{ VH_HTTP_POST, "/odk/key/{token}/submission", UPLOADERS,
	  vh_api_odk_submission_post },
	{ VH_HTTP_GET, "/odk/formList", UPLOADERS, vh_api_odk_form_list },
	{ VH_HTTP_GET, "/odk/forms/{file}", UPLOADERS, vh_api_odk_form_get },
	{ VH_HTTP_HEAD, "/odk/submission", UPLOADERS, vh_api_odk_submission_head },
	{ VH_HTTP_POST, "/odk/submission", UPLOADERS, vh_api_odk_submission_post },
	/* The same form and submission for ODK Web Forms in the web app,
	 * where the session cookie (Path=/api/) reaches only /api/. */
	{ VH_HTTP_GET, "/api/v1/odk/forms/{file}", UPLOADERS, vh_api_odk_form_get },
	{ VH_HTTP_POST, "/api/v1/odk/submission", UPLOADERS,
	  vh_api_odk_submission_post },
	{ VH_HTTP_GET, "/api/v1/odk/tokens", VH_ROLE_ADMIN, vh_api_odk_tokens_list },
	{ VH_HTTP_POST, "/api/v1/odk/tokens", VH_ROLE_ADMIN, vh_api_odk_tokens_post },
	{ VH_HTTP_DELETE, "/api/v1/odk/tokens/{id:int}", VH_ROLE_ADMIN,
	  vh_api_odk_token_revoke },

	/* The web app (vh_api_web.c): its assets, and each route of the
	 * staff app, which all get index.html (history API). */
	{ VH_HTTP_GET, "/assets/{file}", VH_ACCESS_PUBLIC, vh_api_web_asset },
	{ VH_HTTP_GET, "/", VH_ACCESS_PUBLIC, vh_api_web_app },
	{ VH_HTTP_GET, "/inloggen", VH_ACCESS_PUBLIC, vh_api_web_app },
	{ VH_HTTP_GET, "/zoeken", VH_ACCESS_PUBLIC, vh_api_web_app },
	{ VH_HTTP_GET, "/verhalen/{id}", VH_ACCESS_PUBLIC, vh_api_web_app },
	{ VH_HTTP_GET, "/werkbezoeken/{id}", VH_ACCESS_PUBLIC, vh_api_web_app },
	{ VH_HTTP_GET, "/dossier", VH_ACCESS_PUBLIC, vh_api_web_app },
	{ VH_HTTP_GET, "/dossier/{code}", VH_ACCESS_PUBLIC, vh_api_web_app },
	{ VH_HTTP_GET, "/moderatie", VH_ACCESS_PUBLIC, vh_api_web_app },
	{ VH_HTTP_GET, "/collecties", VH_ACCESS_PUBLIC, vh_api_web_app },
	{ VH_HTTP_GET, "/exporteren", VH_ACCESS_PUBLIC, vh_api_web_app },
	{ VH_HTTP_GET, "/beheer", VH_ACCESS_PUBLIC, vh_api_web_app },
	{ VH_HTTP_GET, "/werkbezoek", VH_ACCESS_PUBLIC, vh_api_web_werkbezoek },
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* The patterns without their types, made once: metrics keep pointers. */
static char		 untyped[NROUTES][96];
static pthread_once_t	 untyped_once = PTHREAD_ONCE_INIT;

static void
untyped_make(void)
{
	for (size_t i = 0; i < NROUTES; i++) {
		const char	*p = routes[i].pattern;
		size_t		 o = 0;
		bool		 skip = false;

		for (; *p != '\0' && o < sizeof untyped[i] - 1; p++) {
			if (*p == ':' && !skip)
				skip = true;
			else if (*p == '}')
				skip = false;
			if (!skip)
				untyped[i][o++] = *p;
		}
		untyped[i][o] = '\0';
	}
}

void
vh_routes_each(vh_route_each_fn fn, void *arg)
{
	(void)pthread_once(&untyped_once, untyped_make);
	for (size_t i = 0; i < NROUTES; i++)
		fn(routes[i].method, untyped[i], routes[i].access, arg);
}

/* Credentials check on a worker. */
#define CRED_DB	"credentials cannot be checked right now"

struct auth_job {
	struct vh_ctx		*ctx;
	const struct vh_config	*cfg;	/* the worker's snapshot */
	struct vh_http_req	*req;
	const struct route	*route;
	struct vh_route_params	 params;
	char			*token;		/* bearer token */
	char			*slug, *secret;	/* upload link */
	char			*session, *csrf; /* login cookie */
	char			*odk_token;	/* OpenRosa: in the path */
	char			*basic_user, *basic_pass; /* OpenRosa */
	bool			 basic_throttled;
	bool			 counted;	/* a resident's attempt */
	bool			 collection_exists; /* of a failed link */
	char			 addr[VH_RATELIMIT_KEY_LEN];
	int64_t			 retry_after_s;
	struct vh_principal	 principal;
	bool			 csrf_ok;
	int			 rc;
	char			*err;
	struct vh_api_err	 e;	/* the database's failure */
};

/* A failed upload link: counted, and for the page, whether the link's
 * collection exists (its key changed: 410) or not (404). */
static void
count_failure(struct auth_job *j, PGconn *db)
{
	const char	*params[1] = { j->slug != NULL ? j->slug : "" };
	int64_t		 ignored;
	PGresult	*r;
	char		*err = NULL;

	if (vh_ratelimit_hit(j->ctx->ratelimit, db, "upload", j->addr,
	    j->cfg->resident_upload_rate, &ignored,
	    &err) == VH_EDB) {
		vh_log_warnx("req=%s auth: counting a failure: %s",
		    vh_http_req_id(j->req), err);
		free(err);
		err = NULL;
	}
	if (j->route->fn != vh_api_resident_page)
		return;
	if ((r = vh_db_exec(db, "SELECT 1 FROM collection WHERE slug = $1",
	    1, params, &err)) == NULL) {
		free(err);
		return;
	}
	j->collection_exists = PQntuples(r) == 1;
	PQclear(r);
}

static void
auth_work(struct vh_worker *w, void *arg)
{
	struct auth_job	*j = arg;
	PGconn		*db;

	if ((db = vh_api_db(w, j->req, &j->e, CRED_DB)) == NULL) {
		j->rc = VH_EDB;
		return;
	}
	/* Residents: an address that failed too often is refused before
	 * its key is looked at, so guessing is slow; only failures count,
	 * so a wijkgesprek behind one address is never locked out by its
	 * own uploads. */
	if (j->counted && (j->rc = vh_ratelimit_over(j->ctx->ratelimit,
	    db, "upload", j->addr, j->cfg->resident_upload_rate,
	    &j->retry_after_s, &j->err)) != 0)
		goto out;
	if (j->odk_token != NULL)
		j->rc = vh_odk_lookup_token(db, j->odk_token, &j->principal,
		    &j->err);
	else if (j->basic_user != NULL) {
		const struct vh_config *cfg = j->cfg;
		struct vh_odk_basic_limits lim = { cfg->login_max_failures,
		    cfg->login_max_failures_address, cfg->login_window };

		j->rc = vh_odk_lookup_basic(db, j->basic_user, j->basic_pass,
		    j->addr, &lim, &j->principal, &j->err);
		j->basic_throttled = j->rc == VH_ETOOBIG;
		if (j->basic_throttled)
			j->rc = VH_ENOENT;
	}
	else if (j->token == NULL && j->secret == NULL && j->session == NULL)
		j->rc = VH_EINVAL;	/* counted, and no credentials */
	else if (j->token != NULL)
		j->rc = vh_auth_lookup_token(db, j->token, &j->principal, &j->err);
	else if (j->secret != NULL)
		j->rc = vh_auth_lookup_link(db, j->slug, j->secret,
		    &j->principal, &j->err);
	else
		j->rc = vh_session_lookup(db, j->session, j->csrf,
		    j->cfg->session_idle_timeout, &j->principal,
		    &j->csrf_ok, &j->err);
	if (j->counted && (j->rc == VH_EINVAL || j->rc == VH_ENOENT))
		count_failure(j, db);
out:
	/* Anything but an answer about the credentials is the database's. */
	if (j->rc != 0 && j->rc != VH_ETOOBIG && j->rc != VH_EINVAL &&
	    j->rc != VH_ENOENT) {
		vh_api_err_db(&j->e, j->req, "auth", j->err, CRED_DB);
		j->err = NULL;
	}
}

static void
unauthorized(struct vh_http_req *req, const char *detail)
{
	/* ODK Collect answers a Basic challenge; OpenRosa wants XML. */
	if (strncmp(vh_http_req_path(req), "/odk/", 5) == 0) {
		vh_api_odk_unauthorized(req, detail);
		return;
	}
	vh_http_add_header(req, "WWW-Authenticate", "Bearer realm=\"verhaal\"");
	vh_http_respond_problem(req, 401, "unauthorized", "%s", detail);
}

static void
call(struct vh_ctx *ctx, struct vh_http_req *req, const struct route *route,
    const struct vh_route_params *params, const struct vh_principal *p)
{
	if (route->access != VH_ACCESS_PUBLIC &&
	    !(route->access & VH_ACCESS_OPTIONAL) && !(route->access & p->role)) {
		vh_http_respond_problem(req, 403, "forbidden",
		    "the role %s may not call this", vh_role_name(p->role));
		return;
	}
	if (p->role != VH_ROLE_NONE)
		vh_http_req_set_log(req, "user=%s", p->name);
	/* After the credentials, so nobody learns the route's forms
	 * without them; before the handler, which may trust its types. */
	if (params->bad > 0) {
		const char	*name = params->name[params->bad - 1];

		vh_http_respond_problem(req, 400, "bad-parameter", "'%.*s' in "
		    "the path must be %s", (int)strcspn(name, ":}"), name,
		    vh_route_type_help(name));
		return;
	}
	route->fn(ctx, req, params, p);
}

static void
auth_done(void *arg)
{
	struct auth_job *j = arg;

	if (j->rc == VH_ETOOBIG)
		vh_api_resident_refused(j->ctx, j->req,
		    j->route->fn == vh_api_resident_page, j->retry_after_s);
	else if ((j->rc == VH_EINVAL || j->rc == VH_ENOENT) &&
	    j->route->fn == vh_api_resident_page)
		/* A person opened the link: a page they can read. */
		vh_api_resident_dead_link(j->req, j->collection_exists);
	else if (j->rc == VH_EINVAL)
		unauthorized(j->req, "this needs a bearer token, a login "
		    "session or an upload link");
	else if (j->rc == VH_ENOENT)
		unauthorized(j->req, j->basic_throttled ?
		    "too many wrong passwords; wait and try again" :
		    j->odk_token != NULL ?
		    "the ODK token is unknown or revoked" :
		    j->basic_user != NULL ? "the name or password is wrong" :
		    j->token != NULL ?
		    "the token is unknown, expired or revoked" :
		    j->secret != NULL ? "the upload link is not valid" :
		    "the session has ended; log in again");
	else if (j->rc != 0)
		vh_api_reply_problem(j->req, &j->e);
	else if (j->principal.via == VH_VIA_SESSION && !j->csrf_ok &&
	    vh_http_method_unsafe(vh_http_req_method(j->req)))
		/* A cookie rides along with any request the browser makes;
		 * only our own pages know the token to send with it. */
		vh_http_respond_problem(j->req, 403, "csrf-token-invalid",
		    "a request made with the session cookie needs the "
		    "session's X-CSRF-Token header");
	else
		call(j->ctx, j->req, j->route, &j->params, &j->principal);
	vh_route_params_clear(&j->params);
	free(j->token);
	free(j->slug);
	free(j->secret);
	free(j->session);
	free(j->csrf);
	free(j->odk_token);
	free(j->basic_user);
	if (j->basic_pass != NULL)
		explicit_bzero(j->basic_pass, strlen(j->basic_pass));
	free(j->basic_pass);
	free(j->err);
	vh_api_err_clear(&j->e);
	vh_config_unref(j->cfg);
	free(j);
}

/*
 * OpenRosa routes: the ODK token in the path, else HTTP Basic (name and
 * password of an account). Either fills j; false when there is neither.
 */
static bool
odk_credentials(struct vh_http_req *req, const struct vh_route_params *params,
    struct auth_job *j)
{
	const char	*v = vh_route_param(params, "token");
	uint8_t		*dec = NULL;
	size_t		 n;
	char		*colon;

	if (v != NULL) {
		j->odk_token = vh_xstrdup(v);
		return (true);
	}
	v = vh_http_req_header(req, "Authorization");
	if (v == NULL || strncasecmp(v, "Basic ", 6) != 0)
		return (false);
	v += 6;
	while (*v == ' ')
		v++;
	if (vh_base64_decode_alloc(v, strlen(v), &dec, &n) != 0 ||
	    memchr(dec, '\0', n) != NULL ||
	    (colon = strchr((char *)dec, ':')) == NULL) {
		free(dec);
		return (false);
	}
	*colon = '\0';
	j->basic_user = vh_xstrdup((char *)dec);
	j->basic_pass = vh_xstrdup(colon + 1);
	explicit_bzero(dec, n);
	free(dec);
	return (true);
}

/* The bearer token of the request, or NULL. */
static char *
bearer(struct vh_http_req *req)
{
	const char *v = vh_http_req_header(req, "Authorization");

	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
		return (NULL);
	v += 7;
	while (*v == ' ')
		v++;
	return (*v != '\0' ? vh_xstrdup(v) : NULL);
}

static void
authenticate(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct route *route, struct vh_route_params *params)
{
	struct vh_principal	 none = { .role = VH_ROLE_NONE };
	struct auth_job		*j;
	char			*token = bearer(req), *secret = NULL;
	char			*session = NULL;
	const char		*v;
	bool			 counted = false;

	/* OpenRosa: a token in the path decides alone; else HTTP Basic;
	 * else a bearer token or session (ODK Web Forms in the staff app). */
	if (strncmp(route->pattern, "/odk/", 5) == 0 && (token == NULL ||
	    vh_route_param(params, "token") != NULL)) {
		j = vh_xcalloc(1, sizeof *j);
		if (!odk_credentials(req, params, j)) {
			free(j);
			goto plain;
		}
		free(token);
		j->ctx = ctx;
		j->cfg = vh_config_ref(vh_ctx_config(ctx));
		j->req = req;
		vh_ratelimit_key(vh_http_req_client(req), j->addr);
		j->route = route;
		j->params = *params;
		params->n = 0;
		vh_pool_submit(ctx->pool, auth_work, auth_done, j);
		return;
	}
plain:
	if (route->access != VH_ACCESS_PUBLIC && token == NULL)
		session = vh_cookie_get(vh_http_req_header(req, "Cookie"),
		    VH_SESSION_COOKIE);
	if (route->access == VH_ACCESS_PUBLIC ||
	    (route->access == VH_ACCESS_OPTIONAL && token == NULL &&
	    session == NULL)) {
		free(token);
		call(ctx, req, route, params, &none);
		return;
	}
	if (token == NULL && (route->access & VH_ROLE_RESIDENT)) {
		/* Counted on the pool (auth_work), in the database. */
		counted = true;
		if ((v = vh_http_req_header(req, "X-Upload-Key")) != NULL)
			secret = vh_xstrdup(v);
		else
			secret = vh_http_query_get(vh_http_req_query(req), "key");
	}
	if (!counted && token == NULL && secret == NULL && session == NULL) {
		unauthorized(req, "this needs a bearer token, a login session "
		    "or an upload link");
		return;
	}
	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->cfg = vh_config_ref(vh_ctx_config(ctx));
	j->req = req;
	j->counted = counted;
	vh_ratelimit_key(vh_http_req_client(req), j->addr);
	j->route = route;
	j->params = *params;
	params->n = 0;			/* the job owns the values now */
	/* One credential decides: a token, else an upload link, else the
	 * session cookie. */
	j->token = token;
	if (token == NULL && secret != NULL) {
		j->secret = secret;
		v = vh_route_param(&j->params, "slug");
		j->slug = vh_xstrdup(v != NULL ? v : "");
		free(session);
	} else if (token == NULL) {
		j->session = session;
		if ((v = vh_http_req_header(req, "X-CSRF-Token")) != NULL)
			j->csrf = vh_xstrdup(v);
	} else {
		free(secret);
		free(session);
	}
	if (counted && j->slug == NULL) {
		v = vh_route_param(&j->params, "slug");
		j->slug = vh_xstrdup(v != NULL ? v : "");
	}
	vh_pool_submit(ctx->pool, auth_work, auth_done, j);
}

/*
 * tus 1.0.0: a POST with X-HTTP-Method-Override is the method it names,
 * for clients behind proxies that pass only GET and POST. The request
 * stays a POST for everything else (a session cookie still needs its
 * CSRF token). An unknown name matches no route.
 */
static enum vh_http_method
route_method(struct vh_http_req *req)
{
	enum vh_http_method	 m = vh_http_req_method(req);
	const char		*v;

	if (m != VH_HTTP_POST || (v = vh_http_req_header(req,
	    "X-HTTP-Method-Override")) == NULL)
		return (m);
	for (size_t i = 0; i < VH_HTTP_OTHER; i++)
		if (strcmp(v, vh_route_method_name((enum vh_http_method)i)) == 0)
			return ((enum vh_http_method)i);
	return (VH_HTTP_OTHER);
}

void
vh_routes_dispatch(struct vh_ctx *ctx, struct vh_http_req *req)
{
	struct vh_route_params	 params = { .n = 0 };
	enum vh_http_method	 m = route_method(req);
	const char		*path = vh_http_req_path(req);
	char			 allow[128] = "";
	bool			 found = false;
	struct timespec		 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	params.arrival = (uint64_t)now.tv_sec * 1000000000u +
	    (uint64_t)now.tv_nsec;

	for (size_t i = 0; i < NROUTES; i++) {
		if (vh_route_match(routes[i].pattern, path, &params) != 0)
			continue;
		/* HEAD is served by every GET route. */
		if (routes[i].method == m ||
		    (m == VH_HTTP_HEAD && routes[i].method == VH_HTTP_GET)) {
			authenticate(ctx, req, &routes[i], &params);
			vh_route_params_clear(&params);
			return;
		}
		vh_route_params_clear(&params);
		found = true;
		if (strstr(allow, vh_route_method_name(routes[i].method)) == NULL) {
			if (allow[0] != '\0')
				strncat(allow, ", ", sizeof allow - strlen(allow) - 1);
			strncat(allow, vh_route_method_name(routes[i].method),
			    sizeof allow - strlen(allow) - 1);
			if (routes[i].method == VH_HTTP_GET)
				strncat(allow, ", HEAD",
				    sizeof allow - strlen(allow) - 1);
		}
	}
	if (found) {
		vh_http_add_header(req, "Allow", "%s", allow);
		vh_http_respond_problem(req, 405, "method-not-allowed",
		    "%s does not accept this method", path);
		return;
	}
	vh_http_respond_problem(req, 404, "not-found", "no resource at %s",
	    path);
}
