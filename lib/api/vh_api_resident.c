/*
 * The resident's side (issue 13): the page behind a collection's upload
 * link, the receipt again for the device that sent a story, and what has
 * become of a story by its receipt code.
 *
 * - GET on the upload link (key included) is the page; a link whose key
 *   is not (or no longer) right gets a Dutch page that says so, 410 when
 *   the collection exists and 404 when it does not (vh_routes.c calls
 *   vh_api_resident_dead_link from its credentials check). An address
 *   refused for guessing links gets the page with 429 that says how
 *   long to wait (vh_api_resident_refused), API clients problem+json.
 * - GET /api/v1/uploads/{id}/receipt with the browser's device secret in
 *   Upload-Device: the receipt code sealed for it (schema/0019).
 * - POST /api/v1/receipt {"receipt"}: the story's state in plain words
 *   and what a withdrawal would remove, never a moderator's reason.
 *
 * Every secret a resident holds (upload key, device secret, receipt code)
 * travels in a header or a body, never in a logged path, and guessing is
 * refused by counting failures only: per address, and per receipt code.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_apiq.h"
#include "vh_ctx.h"
#include "vh_auth.h"
#include "vh_body.h"
#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_erase.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_metrics.h"
#include "vh_pool.h"
#include "vh_ratelimit.h"
#include "vh_unused.h"
#include "vh_xmalloc.h"

/* The page */

void
vh_api_resident_page(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	/* The key is in the address bar; the pages' Referrer-Policy
	 * (same-origin) and CSP (this origin only) keep it here. */
	vh_api_web_page(ctx, req, "resident.html");
}

void
vh_api_resident_dead_link(struct vh_http_req *req, bool collection_exists)
{
	static const char page[] =
	    "<!doctype html>\n<html lang=\"nl\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<title>Deze link werkt niet meer</title>\n</head>\n<body>\n"
	    "<main>\n<h1>Deze link werkt niet meer</h1>\n"
	    "<p>De link waarmee u deze pagina opende, is niet (meer) geldig. "
	    "Misschien is de link veranderd, of is er een teken weggevallen.</p>\n"
	    "<p>Scan de QR-code opnieuw of vraag de gemeente om de nieuwe "
	    "link.</p>\n"
	    "<p>Heeft u al een verhaal gestuurd? Dat is niet verloren. Met "
	    "uw ontvangstcode kunt u het nog steeds bekijken of "
	    "intrekken.</p>\n"
	    "<p lang=\"en\">This link no longer works. Please scan the QR "
	    "code again or ask the municipality for the new link.</p>\n"
	    "</main>\n</body>\n</html>\n";

	vh_http_add_header(req, "Content-Security-Policy",
	    "default-src 'none'; frame-ancestors 'none'");
	vh_http_add_header(req, "Referrer-Policy", "no-referrer");
	vh_http_add_header(req, "Cache-Control", "no-store");
	vh_http_respond(req, collection_exists ? 410 : 404,
	    "text/html; charset=utf-8", page, sizeof page - 1);
}

/*
 * An address that tried too many wrong upload links. Its next request
 * waits (429, Retry-After) even with the right key. A person who opened
 * the link gets the resident page itself, which says in their language
 * (its message files) how long to wait: the page reads the refusal and
 * the wait from a <meta> put in here, and a <noscript> says it in Dutch.
 * Without the built page, a Dutch page alone. An API client, one that
 * prefers JSON or does not name HTML, keeps the problem+json.
 */

/* The q of one media range in an Accept value, or -1 if it is absent. */
static double
accept_q(const char *accept, const char *type)
{
	size_t		 n = strlen(type), len;
	const char	*p = accept, *q, *end;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t,");
		len = strcspn(p, " \t;,");
		end = p + strcspn(p, ",");
		if (len == n && strncasecmp(p, type, n) == 0) {
			for (q = p + len; q < end; q++)
				if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=')
					return (strtod(q + 2, NULL));
			return (1.0);
		}
		p = strchr(p, ',');
	}
	return (-1.0);
}

/* Whether the client asks for HTML before any JSON: a browser's
 * navigation names text/html; curl's * / * and fetch()'s JSON do not. */
static bool
wants_html(struct vh_http_req *req)
{
	const char	*a = vh_http_req_header(req, "Accept");
	double		 html, json, problem;

	if (a == NULL)
		return (false);
	html = accept_q(a, "text/html");
	json = accept_q(a, "application/json");
	problem = accept_q(a, "application/problem+json");
	return (html > 0 && html > json && html > problem);
}

/* The wait in plain Dutch: "45 seconden", "1 minuut", "12 minuten". */
static void
dutch_wait(int64_t s, char *buf, size_t len)
{
	int64_t m = (s + 59) / 60;

	if (s < 60)
		snprintf(buf, len, "%lld seconden", (long long)(s < 1 ? 1 : s));
	else if (m == 1)
		snprintf(buf, len, "1 minuut");
	else
		snprintf(buf, len, "%lld minuten", (long long)m);
}

#define REFUSED_TEXT \
	"<h1>Even wachten</h1>\n" \
	"<p>Vanaf dit internetadres is te vaak een verkeerde link of code " \
	"geprobeerd. Om raden te voorkomen, wachten we even.</p>\n" \
	"<p>Probeer het over %s opnieuw. Uw verhaal en uw ontvangstcode " \
	"blijven gewoon geldig.</p>\n"

#define REFUSED_PAGE_MAX (512 * 1024)

struct refused_job {
	struct vh_http_req	*req;
	char			*path;		/* the built resident.html */
	int64_t			 retry_after_s;
	char			*html;		/* the page to send */
	size_t			 len;
};

/* Inserts at the first `at` in page (after it if after), or not at all. */
static char *
insert_at(const char *page, const char *at, bool after, const char *what)
{
	const char *p = strstr(page, at);

	if (p == NULL)
		return (NULL);
	if (after)
		p += strlen(at);
	return (vh_xasprintf("%.*s%s%s", (int)(p - page), page, what, p));
}

static void
refused_work(struct vh_worker *w VH_UNUSED, void *arg)
{
	struct refused_job	*j = arg;
	char			 wait[32], *page = NULL, *meta = NULL;
	char			*noscript = NULL, *a = NULL, *b = NULL;
	FILE			*f;
	size_t			 n;

	dutch_wait(j->retry_after_s, wait, sizeof wait);
	if (j->path != NULL && (f = fopen(j->path, "re")) != NULL) {
		page = vh_xmalloc(REFUSED_PAGE_MAX + 1);
		n = fread(page, 1, REFUSED_PAGE_MAX, f);
		page[n] = '\0';
		if (ferror(f) || n == REFUSED_PAGE_MAX || memchr(page, '\0', n)) {
			free(page);
			page = NULL;
		}
		fclose(f);
	}
	if (page != NULL) {
		meta = vh_xasprintf("\n    <meta name=\"verhaal-refused\" "
		    "content=\"%lld\">", (long long)j->retry_after_s);
		noscript = vh_xasprintf("<noscript>" REFUSED_TEXT "</noscript>\n",
		    wait);
		if ((a = insert_at(page, "<head>", true, meta)) != NULL)
			b = insert_at(a, "</body>", false, noscript);
	}
	if (b != NULL)
		j->html = b;
	else
		j->html = vh_xasprintf("<!doctype html>\n<html lang=\"nl\">\n"
		    "<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
		    "content=\"width=device-width, initial-scale=1\">\n"
		    "<title>Even wachten</title>\n</head>\n<body>\n<main>\n"
		    REFUSED_TEXT "</main>\n</body>\n</html>\n", wait);
	j->len = strlen(j->html);
	free(page);
	free(meta);
	free(noscript);
	free(a);
}

static void
refused_done(void *arg)
{
	struct refused_job *j = arg;

	vh_api_web_headers(j->req);
	vh_http_add_header(j->req, "Retry-After", "%lld",
	    (long long)j->retry_after_s);
	vh_http_add_header(j->req, "Cache-Control", "no-store");
	vh_http_add_header(j->req, "Vary", "Accept");
	vh_http_respond(j->req, 429, "text/html; charset=utf-8", j->html,
	    j->len);
	free(j->html);
	free(j->path);
	free(j);
}

void
vh_api_resident_refused(struct vh_ctx *ctx, struct vh_http_req *req,
    bool page, int64_t retry_after_s)
{
	const char		*root = vh_ctx_config(ctx)->web_root;
	struct refused_job	*j;

	vh_metrics_refusal(VH_LIMIT_UPLOAD_LINK);
	if (!page || !wants_html(req)) {
		vh_http_add_header(req, "Retry-After", "%lld",
		    (long long)retry_after_s);
		if (page)
			vh_http_add_header(req, "Vary", "Accept");
		vh_http_respond_problem(req, 429, "rate-limited",
		    "too many failed upload links from this address; try "
		    "again in %lld s", (long long)retry_after_s);
		return;
	}
	j = vh_xcalloc(1, sizeof *j);
	j->req = req;
	j->retry_after_s = retry_after_s;
	/* No web app configured: the Dutch page alone. */
	if (root[0] != '\0')
		j->path = vh_xasprintf("%s/resident.html", root);
	/* Reading the file is the pool's, as every file system call is. */
	vh_pool_submit(ctx->pool, refused_work, refused_done, j);
}

/* Guessing receipt codes */

/* The key a receipt code counts under: part of its hash, never the code. */
static void
code_key(const char *code, char key[33])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t hash[32];

	vh_auth_hash(code, hash);
	for (int i = 0; i < 16; i++) {
		key[2 * i] = hex[hash[i] >> 4];
		key[2 * i + 1] = hex[hash[i] & 15];
	}
	key[32] = '\0';
}

/* Whether addr or the code tried too many wrong codes (VH_ETOOBIG). */
static int
receipt_over(struct vh_ctx *ctx, const struct vh_config *cfg, PGconn *db,
    const char *addr, const char *code, int64_t *retry_after_s, char **err)
{
	int64_t	limit = cfg->resident_upload_rate;
	char	key[33];
	int	rc;

	code_key(code, key);
	if ((rc = vh_ratelimit_over(ctx->ratelimit, db, "withdraw",
	    addr, limit, retry_after_s, err)) != 0)
		return (rc);
	return (vh_ratelimit_over(ctx->ratelimit, db, "receipt_code",
	    key, limit, retry_after_s, err));
}

/* A wrong code counts against the address and against the code. */
static void
receipt_failed(struct vh_ctx *ctx, const struct vh_config *cfg, PGconn *db,
    const char *addr, const char *code)
{
	int64_t	limit = cfg->resident_upload_rate, ignored;
	char	key[33], *err = NULL;

	code_key(code, key);
	/* Both counts, though the first may be full already. */
	if (vh_ratelimit_hit(ctx->ratelimit, db, "withdraw", addr,
	    limit, &ignored, &err) == VH_EDB) {
		vh_log_warnx("receipt: counting a failure: %s", err);
		free(err);
		err = NULL;
	}
	if (vh_ratelimit_hit(ctx->ratelimit, db, "receipt_code", key,
	    limit, &ignored, &err) == VH_EDB) {
		vh_log_warnx("receipt: counting a failure: %s", err);
		free(err);
	}
}

int
vh_api_receipt_find(struct vh_ctx *ctx, const struct vh_config *cfg,
    PGconn *db, const char *addr, const char *code, int64_t *entry,
    int64_t *retry_after_s, char **err)
{
	int rc;

	/* Wrong codes count, per address and per code, at the upload rate:
	 * guessing a code is as slow as guessing an upload link, and the
	 * residents of one wijkgesprek looking up or withdrawing their own
	 * stories from one address are never refused. */
	if ((rc = receipt_over(ctx, cfg, db, addr, code, retry_after_s,
	    err)) != 0)
		return (rc);
	if ((rc = vh_erase_find_receipt(db, code, entry, err)) == VH_ENOENT)
		receipt_failed(ctx, cfg, db, addr, code);
	return (rc);
}

char *
vh_api_receipt_code(struct vh_http_req *req, const struct json_t *body)
{
	const char *code;

	code = json_string_value(json_object_get(body, "receipt"));
	if (code == NULL || *code == '\0' || strlen(code) >= 128) {
		vh_http_respond_problem(req, 422, "invalid-receipt",
		    "send {\"receipt\": \"the code you were given\"}");
		return (NULL);
	}
	return (vh_xstrdup(code));
}

void
vh_api_receipt_refuse(struct vh_http_req *req, int64_t retry_after_s)
{
	vh_metrics_refusal(VH_LIMIT_WITHDRAW);
	vh_http_add_header(req, "Retry-After", "%lld", (long long)retry_after_s);
	vh_http_respond_problem(req, 429, "rate-limited", "too many wrong codes "
	    "were tried; try again in %lld s", (long long)retry_after_s);
}

/* GET /api/v1/uploads/{id}/receipt */

struct device_job {
	struct vh_ctx		*ctx;
	const struct vh_config	*cfg;	/* the worker's snapshot */
	struct vh_http_req	*req;
	char			*upload, *device;
	char			 addr[VH_RATELIMIT_KEY_LEN];
	int64_t			 retry_after_s, entry;
	char			 receipt[VH_SECRET_LEN];
	bool			 refused;	/* too many tries: 429 */
	struct vh_api_err	 e;
};

#define DEVICE_DB	"the receipt cannot be looked up right now; try again"
#define STATUS_DB	"the story's state cannot be looked up right now; " \
			"try again"

static bool
upload_id_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n != 32)
		return (false);
	for (size_t i = 0; i < n; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL)
			return (false);
	return (true);
}

static void
device_work(struct vh_worker *w, void *arg)
{
	struct device_job	*j = arg;
	struct vh_ctx		*ctx = j->ctx;
	uint8_t			 hash[32];
	char			 hash_sql[67];
	const char		*params[2] = { j->upload, hash_sql };
	PGresult		*r = NULL;
	PGconn			*db;
	size_t			 n;
	unsigned char		*sealed = NULL;
	char			*err = NULL;
	int			 rc;

	if ((db = vh_api_db(w, j->req, &j->e, DEVICE_DB)) == NULL)
		return;
	if ((rc = vh_ratelimit_over(ctx->ratelimit, db, "device",
	    j->addr, j->cfg->resident_upload_rate,
	    &j->retry_after_s, &err)) != 0) {
		if (rc == VH_ETOOBIG) {
			free(err);
			j->refused = true;
		} else
			vh_api_err_db(&j->e, j->req, "receipt", err, DEVICE_DB);
		return;
	}
	vh_auth_hash(j->device, hash);
	vh_auth_hash_sql(hash, hash_sql);
	/* One row per upload: whether it is finished, and the sealed code
	 * when this device sent it. */
	if ((r = vh_db_exec(db, "SELECT u.completed_at IS NOT NULL, rd.sealed,"
	    " m.entry_id FROM upload u"
	    " LEFT JOIN media m ON m.id = u.media_id"
	    " LEFT JOIN receipt_device rd ON rd.entry_id = m.entry_id"
	    " AND rd.device_hash = $2::bytea"
	    " WHERE u.id = $1 AND u.collection_id IS NOT NULL", 2, params,
	    &err)) == NULL) {
		vh_api_err_db(&j->e, j->req, "receipt", err, DEVICE_DB);
		return;
	}
	if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "f") == 0) {
		/* not finished: not a guess */
		vh_api_err_set(&j->e, 409, "upload-unfinished", vh_xstrdup(
		    "this upload is not complete yet; send the rest first"));
		goto out;
	}
	if (PQntuples(r) != 1 || PQgetisnull(r, 0, 1)) {
		vh_api_err_set(&j->e, 404, "no-receipt", vh_xstrdup("no "
		    "receipt is kept for this upload and this device"));
		if (vh_ratelimit_hit(ctx->ratelimit, db, "device",
		    j->addr, j->cfg->resident_upload_rate,
		    &j->retry_after_s, &err) == VH_EDB)
			vh_log_warnx("receipt: counting a failure: %s", err);
		free(err);
		goto out;
	}
	sealed = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 1), &n);
	if (sealed == NULL || n == 0 || n >= VH_SECRET_LEN) {
		vh_api_err_db(&j->e, j->req, "receipt", vh_xstrdup("a sealed "
		    "receipt of a wrong size"), DEVICE_DB);
		goto out;
	}
	vh_auth_seal(j->device, sealed, n, (uint8_t *)j->receipt);
	j->receipt[n] = '\0';
	j->entry = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
out:
	PQfreemem(sealed);
	PQclear(r);
}

static void
device_done(void *arg)
{
	struct device_job *j = arg;

	vh_http_add_header(j->req, "Cache-Control", "no-store");
	if (j->refused)
		vh_api_receipt_refuse(j->req, j->retry_after_s);
	else if (j->e.status != 0)
		vh_api_reply_problem(j->req, &j->e);
	else
		vh_body_respond_json(j->req, 200, json_pack("{s:s, s:I}",
		    "receipt", j->receipt, "entry", (json_int_t)j->entry));
	explicit_bzero(j->receipt, sizeof j->receipt);
	free(j->upload);
	free(j->device);
	vh_api_err_clear(&j->e);
	vh_config_unref(j->cfg);
	free(j);
}

void
vh_api_upload_receipt(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params,
    const struct vh_principal *who VH_UNUSED)
{
	const char		*id = vh_route_param(params, "id");
	const char		*device = vh_http_req_header(req, "Upload-Device");
	struct device_job	*j;

	if (device == NULL || strlen(device) < 16 || strlen(device) > 128) {
		vh_http_respond_problem(req, 400, "device-required", "send the "
		    "device secret given with the upload in Upload-Device");
		return;
	}
	if (!upload_id_ok(id)) {
		vh_http_respond_problem(req, 404, "no-receipt",
		    "no receipt is kept for this upload and this device");
		return;
	}
	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->cfg = vh_config_ref(vh_ctx_config(ctx));
	j->req = req;
	j->upload = vh_xstrdup(id);
	j->device = vh_xstrdup(device);
	vh_ratelimit_key(vh_http_req_client(req), j->addr);
	vh_pool_submit(ctx->pool, device_work, device_done, j);
}

/* POST /api/v1/receipt */

struct status_job {
	struct vh_ctx		*ctx;
	const struct vh_config	*cfg;	/* the worker's snapshot */
	struct vh_http_req	*req;
	char			*code;
	char			 addr[VH_RATELIMIT_KEY_LEN];
	int64_t			 retry_after_s;
	json_t			*out;
	bool			 refused;	/* too many wrong codes: 429 */
	struct vh_api_err	 e;
};

static void
status_free(void *arg)
{
	struct status_job *j = arg;

	free(j->code);
	json_decref(j->out);
	vh_api_err_clear(&j->e);
	vh_config_unref(j->cfg);
	free(j);
}

/*
 * The resident's words for an entry's status: received (arrived, being
 * processed), in_review, accepted (read by the city's staff, not
 * published), published, not_published (a moderator decided against
 * it; the reason is the moderator's and stays with them).
 */
static const char *
plain_state(const char *status)
{
	if (strcmp(status, "received") == 0 || strcmp(status, "processing") == 0)
		return ("received");
	if (strcmp(status, "pending_review") == 0)
		return ("in_review");
	if (strcmp(status, "approved") == 0)
		return ("accepted");
	if (strcmp(status, "published") == 0)
		return ("published");
	return ("not_published");
}

static void
status_unknown(struct status_job *j)
{
	vh_api_err_set(&j->e, 404, "unknown-receipt", vh_xstrdup("no story "
	    "is stored under this receipt code; check the code, or it may "
	    "have been withdrawn already"));
}

static void
status_work(struct vh_worker *w, void *arg)
{
	struct status_job	*j = arg;
	const char		*params[1];
	char			 id[32];
	int64_t			 entry;
	PGresult		*r;
	PGconn			*db;
	char			*err = NULL;
	int			 rc;

	if ((db = vh_api_db(w, j->req, &j->e, STATUS_DB)) == NULL)
		return;
	if ((rc = vh_api_receipt_find(j->ctx, j->cfg, db, j->addr, j->code,
	    &entry, &j->retry_after_s, &err)) != 0) {
		if (rc == VH_ETOOBIG || rc == VH_ENOENT) {
			free(err);
			if (rc == VH_ETOOBIG)
				j->refused = true;
			else
				status_unknown(j);
		} else
			vh_api_err_db(&j->e, j->req, "receipt status", err,
			    STATUS_DB);
		return;
	}
	snprintf(id, sizeof id, "%" PRId64, entry);
	params[0] = id;
	/* What a withdrawal removes, in counts a person recognises. */
	if ((r = vh_db_exec(db, "SELECT e.status, to_char(e.created_at AT TIME"
	    " ZONE 'Europe/Amsterdam', 'YYYY-MM-DD'), coalesce(c.title, ''),"
	    " length(e.title) > 0, length(e.body) > 0,"
	    " (SELECT count(*) FROM media m WHERE m.entry_id = e.id AND"
	    "  coalesce(m.family, CASE WHEN m.declared_type LIKE 'audio/%'"
	    "  THEN 'audio' END) = 'audio'),"
	    " (SELECT count(*) FROM media m WHERE m.entry_id = e.id AND"
	    "  coalesce(m.family, CASE WHEN m.declared_type LIKE 'image/%'"
	    "  THEN 'image' END) = 'image'),"
	    " (SELECT count(*) FROM media m WHERE m.entry_id = e.id),"
	    " EXISTS (SELECT 1 FROM redaction x WHERE x.entry_id = e.id),"
	    " coalesce(k.scope, ''), coalesce(k.text_version, ''),"
	    " coalesce(k.language, ''), coalesce(e.area_code, '')"
	    " FROM entry e LEFT JOIN collection c ON c.id = e.collection_id"
	    " LEFT JOIN consent k ON k.entry_id = e.id WHERE e.id = $1", 1,
	    params, &err)) == NULL) {
		vh_api_err_db(&j->e, j->req, "receipt status", err, STATUS_DB);
		return;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		status_unknown(j);
		return;
	}
#define B(c) (strcmp(PQgetvalue(r, 0, c), "t") == 0)
#define N(c) ((json_int_t)strtoll(PQgetvalue(r, 0, c), NULL, 10))
	j->out = json_pack("{s:s, s:b, s:s, s:s, s:{s:s, s:s, s:s},"
	    " s:{s:b, s:b, s:I, s:I, s:I, s:s*}}",
	    "state", plain_state(PQgetvalue(r, 0, 0)),
	    "redacted", B(8),
	    "received_on", PQgetvalue(r, 0, 1),
	    "collection", PQgetvalue(r, 0, 2),
	    "consent", "scope", PQgetvalue(r, 0, 9),
	    "version", PQgetvalue(r, 0, 10), "language", PQgetvalue(r, 0, 11),
	    "withdrawal_removes", "title", B(3), "text", B(4),
	    "recordings", N(5), "photos", N(6), "files", N(7),
	    "area", *PQgetvalue(r, 0, 12) != '\0' ? PQgetvalue(r, 0, 12) : NULL);
#undef B
#undef N
	PQclear(r);
	if (j->out == NULL)
		vh_api_err_db(&j->e, j->req, "receipt status",
		    vh_xstrdup("building the answer"), STATUS_DB);
}

static void
status_done(void *arg)
{
	struct status_job *j = arg;

	vh_http_add_header(j->req, "Cache-Control", "no-store");
	if (j->refused)
		vh_api_receipt_refuse(j->req, j->retry_after_s);
	else if (j->e.status != 0)
		vh_api_reply_problem(j->req, &j->e);
	else {
		vh_body_respond_json(j->req, 200, j->out);
		j->out = NULL;
	}
	status_free(j);
}

static void
status_body(struct vh_http_req *req, json_t *body, void *arg)
{
	struct status_job *j = arg;

	if ((j->code = vh_api_receipt_code(req, body)) == NULL) {
		status_free(j);
		return;
	}
	vh_pool_submit(j->ctx->pool, status_work, status_done, j);
}

void
vh_api_receipt_status(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	struct status_job *j;

	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->cfg = vh_config_ref(vh_ctx_config(ctx));
	j->req = req;
	vh_ratelimit_key(vh_http_req_client(req), j->addr);
	vh_body_read_json(req, 4096, status_body, status_free, j);
}

/*
 * GET /api/v1/buurten[?lat=&lon=]: the buurten a resident chooses from
 * (public: CBS's names and codes), or the one buurt holding the phone's
 * position. The position is used for this one query and never stored
 * or logged (the query string never reaches the log).
 */
static const char buurten_sql[] =
    "SELECT coalesce(jsonb_agg(jsonb_build_object('code', b.code, 'name',"
    " b.name, 'wijk', w.name) ORDER BY b.name, b.code), '[]')::text"
    " FROM area b LEFT JOIN area w ON w.code = b.parent"
    " WHERE b.level = 'buurt'";

static const char buurt_at_sql[] =
    "SELECT jsonb_build_object('code', a.code, 'name', a.name)::text"
    " FROM area a WHERE a.level = 'buurt'"
    " AND a.code = vh_area_at($2::float8, $1::float8)";

void
vh_api_resident_buurten(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON };
	char		*lat = vh_apiq_arg(req, "lat"), *lon = vh_apiq_arg(req, "lon");
	char		*end;

	if (lat == NULL && lon == NULL) {
		q.sql = buurten_sql;
		vh_apiq_run(ctx, req, &q);
		return;
	}
	if (lat == NULL || lon == NULL || *lat == '\0' || *lon == '\0' ||
	    (strtod(lat, &end), *end != '\0') ||
	    (strtod(lon, &end), *end != '\0')) {
		vh_http_respond_problem(req, 400, "bad-request",
		    "'lat' and 'lon' must both be decimal degrees");
		free(lat);
		free(lon);
		return;
	}
	vh_http_add_header(req, "Cache-Control", "no-store");
	q.sql = buurt_at_sql;
	q.nparams = 2;
	q.params[0] = lat;
	q.params[1] = lon;
	q.not_found = "no buurt of this city holds that position";
	vh_apiq_run(ctx, req, &q);
}

/*
 * GET /api/v1/buurten.geojson: the buurten's boundaries for the map on
 * the resident page (public: CBS's boundaries, names and codes; nothing
 * about any story). Simplified to about 2 m and written with 5 decimals
 * (about 1 m), so a phone gets a fraction of the full export; the page
 * draws them without tiles. Cached for an hour: boundaries change only
 * with an import.
 */
static const char buurten_geojson_sql[] =
    "SELECT jsonb_build_object('type', 'FeatureCollection', 'features',"
    " coalesce(jsonb_agg(jsonb_build_object('type', 'Feature',"
    " 'properties', jsonb_build_object('code', b.code, 'name', b.name,"
    " 'wijk', w.name), 'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology("
    " b.boundary, 0.00002), 5)::jsonb) ORDER BY b.code), '[]'))::text"
    " FROM area b LEFT JOIN area w ON w.code = b.parent"
    " WHERE b.level = 'buurt' AND b.boundary IS NOT NULL";

void
vh_api_resident_buurten_geojson(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	struct vh_apiq q = { .mode = VH_APIQ_JSON };

	vh_http_add_header(req, "Cache-Control", "public, max-age=3600");
	q.sql = buurten_geojson_sql;
	q.content_type = "application/geo+json";
	vh_apiq_run(ctx, req, &q);
}

/* GET /api/v1/resident/settings: what the page tells a resident before
 * they begin (how long a story is kept, by consent scope, in days; 0 is
 * never) and the longest recording it makes. */
void
vh_api_resident_settings(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	const struct vh_config	*c = vh_ctx_config(ctx);
	const int64_t		 day = 24 * 3600 * 1000LL;

	vh_body_respond_json(req, 200, json_pack("{s:I, s:{s:I, s:I, s:I, s:I}}",
	    "max_recording_s", (json_int_t)(c->resident_max_recording / 1000),
	    "retention_days",
	    "analysis_only", (json_int_t)(c->retention_story_analysis_only / day),
	    "quote_anonymised",
	    (json_int_t)(c->retention_story_quote_anonymised / day),
	    "audio_to_staff", (json_int_t)(c->retention_story_audio_to_staff / day),
	    "publish", (json_int_t)(c->retention_story_publish / day)));
}
