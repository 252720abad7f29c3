/*
 * OpenRosa, for ODK Collect and ODK Web Forms: the form list, the
 * werkbezoek form, HEAD and POST of submissions, and the admin's ODK
 * tokens with their Collect settings. Field workers come in with a token
 * in the path (/odk/key/<token>/...) or HTTP Basic (/odk/...); the route
 * table checks either before a handler runs.
 *
 * A submission body streams as in vh_api_entries.c, through the same
 * part-state skeleton (vh_apipart.c): the xml_submission_file part into
 * memory (bounded), every file part into its own blob writer. At the end a worker parses the XML in the
 * confined child, keeps only the files the XML names (matched by file
 * name; the declared type is recorded, never believed), and stores the
 * visit with vh_odk_store. Every answer is text/xml with an
 * OpenRosaResponse message in Dutch, and never 200 or 204 to a POST.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_apipart.h"
#include "vh_ctx.h"
#include "vh_unused.h"
#include "vh_audit.h"
#include "vh_blobgc.h"
#include "vh_blobstore.h"
#include "vh_body.h"
#include "vh_config.h"
#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_entry.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_multipart.h"
#include "vh_odk.h"
#include "vh_pool.h"
#include "vh_xmalloc.h"

#define XML_TYPE	"text/xml; charset=utf-8"
#define MAX_FILES	VH_ODKXML_MAX_FILES
#define FORM_FILE	VH_ODK_FORM_ID ".xml"

_Static_assert(MAX_FILES <= VH_APIPART_MAX, "a submission's files fit");

static void
openrosa_headers(struct vh_http_req *req, int64_t accept_len)
{
	vh_http_add_header(req, "X-OpenRosa-Version", "1.0");
	vh_http_add_header(req, "Content-Language", "nl");
	if (accept_len > 0)
		vh_http_add_header(req, "X-OpenRosa-Accept-Content-Length",
		    "%" PRId64, accept_len);
}

static void
xml_escape(char *out, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s != '\0' && n + 7 < size; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" :
		    *s == '>' ? "&gt;" : *s == '"' ? "&quot;" : NULL;

		if (e != NULL)
			n += (size_t)snprintf(out + n, size - n, "%s", e);
		else if ((unsigned char)*s >= 0x20 || *s == '\n')
			out[n++] = *s;
	}
	out[n] = '\0';
}

/* An OpenRosaResponse with one message (text: ours, in Dutch; the
 * reason, when given, may quote the parser and is escaped). */
static void
respond_message(struct vh_http_req *req, int status, int64_t accept_len,
    const char *text, const char *reason)
{
	char	msg[2048], why[1024] = "", *body;

	xml_escape(msg, sizeof msg, text);
	if (reason != NULL)
		xml_escape(why, sizeof why, reason);
	body = vh_xasprintf("<OpenRosaResponse xmlns=\"http://openrosa.org/"
	    "http/response\"><message nature=\"%s\">%s%s%s%s</message>"
	    "</OpenRosaResponse>\n", status == 201 ? "submit_success" : "error",
	    msg, why[0] != '\0' ? " (" : "", why, why[0] != '\0' ? ")" : "");
	openrosa_headers(req, accept_len);
	vh_http_respond(req, status, XML_TYPE, body, strlen(body));
	free(body);
}

void
vh_api_odk_unauthorized(struct vh_http_req *req, const char *detail)
{
	vh_http_add_header(req, "WWW-Authenticate",
	    "Basic realm=\"verhaal\", charset=\"UTF-8\"");
	respond_message(req, 401, 0, "Aanmelden is nodig: gebruik de link met "
	    "uw sleutel of uw gebruikersnaam en wachtwoord.", detail);
}

/* The base URL phones use: odk_public_url, else the request's host. */
static char *
base_url(struct vh_ctx *ctx, struct vh_http_req *req)
{
	const struct vh_config	*cfg = vh_ctx_config(ctx);
	const char		*host = vh_http_req_header(req, "Host");
	const char		*proto = vh_http_req_header(req,
				    "X-Forwarded-Proto");
	bool			 tls;

	if (cfg->odk_public_url[0] != '\0')
		return (vh_xstrdup(cfg->odk_public_url));
	/* A host header is the client's: only a host name and port. */
	if (host == NULL || host[0] == '\0' ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:[]") != strlen(host))
		host = "localhost";
	tls = cfg->trust_proxy_tls && proto != NULL &&
	    strcasecmp(proto, "https") == 0;
	return (vh_xasprintf("%s://%s", tls ? "https" : "http", host));
}

/* The OpenRosa prefix of this request's route: base + /odk/key/<token>
 * or base + /odk. Caller frees. */
static char *
odk_prefix(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params)
{
	const char	*token = vh_route_param(params, "token");
	char		*base = base_url(ctx, req), *s;

	s = token != NULL ? vh_odk_server_url(base, token) :
	    vh_xasprintf("%s/odk", base);
	free(base);
	return (s);
}

/* Form list and form download */

struct form_job {
	struct vh_ctx		*ctx;
	struct vh_http_req	*req;
	bool			 list;		/* else the form itself */
	bool			 closed;
	char			*prefix, *form_id;
	struct vh_odk_form	 form;
	struct vh_api_err	 e;
};

#define FORM_DB	"De server kan het formulier nu niet maken; probeer het " \
		"straks opnieuw."

static void
form_work(struct vh_worker *w, void *arg)
{
	struct form_job	*j = arg;
	char		*err = NULL;
	PGconn		*db;

	if ((db = vh_api_db(w, j->req, &j->e, FORM_DB)) != NULL &&
	    vh_odk_form_build(db, &j->form, &err) != 0)
		vh_api_err_db(&j->e, j->req, "odk form", err, FORM_DB);
}

static void
form_done(void *arg)
{
	struct form_job	*j = arg;
	char		*body, name[256];

	if (j->e.status != 0) {
		respond_message(j->req, j->e.status, 0, j->e.detail, NULL);
		goto out;
	}
	openrosa_headers(j->req, 0);
	if (!j->list) {
		vh_http_respond(j->req, 200, XML_TYPE, j->form.xml, j->form.len);
		goto out;
	}
	xml_escape(name, sizeof name, j->prefix);
	if (j->closed || (j->form_id != NULL &&
	    strcmp(j->form_id, VH_ODK_FORM_ID) != 0))
		body = vh_xstrdup("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<xforms xmlns=\"http://openrosa.org/xforms/xformsList\">"
		    "</xforms>\n");
	else
		body = vh_xasprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<xforms xmlns=\"http://openrosa.org/xforms/xformsList\">\n"
		    "<xform><formID>" VH_ODK_FORM_ID "</formID>"
		    "<name>Werkbezoek</name><version>%s</version>"
		    "<hash>md5:%s</hash>"
		    "<descriptionText>Notities, foto's en een spraakmemo van "
		    "een werkbezoek</descriptionText>"
		    "<downloadUrl>%s/forms/" FORM_FILE "</downloadUrl>"
		    "</xform>\n</xforms>\n", j->form.version, j->form.md5, name);
	vh_http_respond(j->req, 200, XML_TYPE, body, strlen(body));
	free(body);
out:
	vh_odk_form_clear(&j->form);
	vh_api_err_clear(&j->e);
	free(j->prefix);
	free(j->form_id);
	free(j);
}

static void
form_start(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, bool list)
{
	struct form_job *j = vh_xcalloc(1, sizeof *j);

	j->ctx = ctx;
	j->req = req;
	j->list = list;
	j->closed = vh_ctx_config(ctx)->odk_form_closed;
	j->prefix = odk_prefix(ctx, req, params);
	j->form_id = vh_http_query_get(vh_http_req_query(req), "formID");
	vh_pool_submit(ctx->pool, form_work, form_done, j);
}

void
vh_api_odk_form_list(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params,
    const struct vh_principal *who VH_UNUSED)
{
	form_start(ctx, req, params, true);
}

void
vh_api_odk_form_get(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params,
    const struct vh_principal *who VH_UNUSED)
{
	const char *file = vh_route_param(params, "file");

	if (file == NULL || strcmp(file, FORM_FILE) != 0) {
		respond_message(req, 404, 0, "Dit formulier bestaat niet.", NULL);
		return;
	}
	form_start(ctx, req, params, false);
}

/* Submissions */

void
vh_api_odk_submission_head(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	/* Collect's preflight: may it send, and how much. */
	openrosa_headers(req, vh_ctx_config(ctx)->odk_max_submission_size);
	vh_http_respond(req, 204, NULL, NULL, 0);
}

struct submission {
	struct vh_ctx		*ctx;
	const struct vh_config	*cfg;		/* the snapshot it began with */
	struct vh_http_req	*req;
	struct vh_principal	 who;
	int64_t			 max;
	bool			 keep_location, closed;
	struct vh_apipart_text	 xml;		/* xml_submission_file */
	struct vh_apipart_text	 incomplete;	/* *isIncomplete*, cut */
	char			*device_id;
	struct vh_apiparts	 files;
	/* the answer: the first error (its detail our Dutch words), the
	 * reason that goes with it, or the outcome */
	struct vh_api_err	 e;
	char			*reason;
	int64_t			 entry_id;
	const char		*outcome;	/* static: new, more, same, edit */
	const char		*message;	/* static: the outcome's words */
};

static void
submission_free(struct submission *s)
{
	vh_apipart_clear(&s->files);
	free(s->xml.data);
	free(s->incomplete.data);
	free(s->device_id);
	vh_api_err_clear(&s->e);
	free(s->reason);
	vh_config_unref(s->cfg);
	free(s);
}

/* The first error wins (vh_api_err_set); reason (may be NULL) is taken
 * and kept only with the error it explains. */
static void
fail(struct submission *s, int status, const char *message, char *reason)
{
	if (s->e.status == 0) {
		s->reason = reason;
		reason = NULL;
	}
	free(reason);
	vh_api_err_set(&s->e, status, "openrosa", vh_xstrdup(message));
}

/* Also the parts' respond callback, hence the void *. */
static void
respond(void *arg)
{
	struct submission *s = arg;

	if (s->e.status == 0 && s->message != NULL)
		respond_message(s->req, 201, s->max, s->message, NULL);
	else
		respond_message(s->req, s->e.status != 0 ? s->e.status : 500,
		    s->max, s->e.detail != NULL ? s->e.detail : "De server "
		    "kon de inzending niet verwerken.", s->reason);
	submission_free(s);
}

/* What differs from vh_api_entries.c: the parts that describe the
 * visit, and the words of each failure. */
static int
part_kind(void *arg, const struct vh_multipart_part *p,
    struct vh_apipart_text **text)
{
	struct submission *s = arg;

	/* Collect sends the XML with a file name, Enketo and Web Forms
	 * sometimes without; the part's name decides. */
	if (strcmp(p->name, "xml_submission_file") == 0) {
		if (s->xml.data != NULL) {
			fail(s, 400, "De inzending bevat twee keer "
			    "xml_submission_file.", NULL);
			return (VH_EINVAL);
		}
		*text = &s->xml;
		return (VH_APIPART_TEXT);
	}
	if (p->filename != NULL)
		return (VH_APIPART_FILE);
	/* Text fields: only *isIncomplete* means something; others
	 * (Enketo's CSRF token, ...) are ignored. */
	if (strcmp(p->name, "*isIncomplete*") != 0)
		return (VH_APIPART_SKIP);
	*text = &s->incomplete;
	return (VH_APIPART_TEXT);
}

static void
part_fail(void *arg, enum vh_apipart_why why, int status)
{
	struct submission *s = arg;

	switch (why) {
	case VH_APIPART_TOO_MANY:
		fail(s, status, "Een inzending mag hoogstens 20 bijlagen "
		    "hebben.", NULL);
		break;
	case VH_APIPART_TOO_LARGE:
		fail(s, status, "De XML van de inzending is groter dan "
		    "1 MiB.", NULL);
		break;
	case VH_APIPART_NO_FILE:
	case VH_APIPART_WRITE:
		fail(s, status, "De server kan de bijlage nu niet opslaan; "
		    "probeer het straks opnieuw.", NULL);
		break;
	case VH_APIPART_MALFORMED:
		fail(s, status, "De inzending is geen geldige "
		    "multipart/form-data.", NULL);
		break;
	}
}

static const struct vh_apiparts_cbs part_cbs = {
	part_kind, part_fail, respond
};

static bool
named(const struct vh_odkxml_instance *in, const char *filename)
{
	for (size_t i = 0; i < in->nfiles; i++)
		if (strcmp(in->files[i], filename) == 0)
			return (true);
	return (false);
}

/* Worker: parse the XML confined, keep what it names, store. */
static void
store_work(struct vh_worker *w, void *arg)
{
	struct submission		*s = arg;
	struct vh_odkxml_instance	*in = vh_xcalloc(1, sizeof *in);
	struct vh_odk_submission	 sub;
	struct vh_odk_file		 files[MAX_FILES];
	struct vh_blob_writer		*xw;
	enum vh_odk_outcome		 outcome;
	const char			*pinned[MAX_FILES + 1];
	size_t				 nfiles = 0, npinned = 0;
	int64_t				 entry_id;
	PGconn				*db = NULL;
	char				*why = NULL;
	int				 rc;

	memset(&sub, 0, sizeof sub);
	rc = vh_odk_parse(s->xml.data, s->xml.len, in, &why);
	if (rc == VH_EAGAIN) {
		vh_log_warnx("req=%s odk parse: %s", vh_http_req_id(s->req), why);
		free(why);
		fail(s, 503, "De server kan de inzending nu niet lezen; probeer "
		    "het straks opnieuw.", NULL);
		goto out;
	}
	if (rc != 0) {
		fail(s, rc == VH_ETOOBIG ? 413 : 400, "De XML van de inzending "
		    "is ongeldig.", why);
		goto out;
	}
	if (strcmp(in->form_id, VH_ODK_FORM_ID) != 0) {
		fail(s, 404, "Dit formulier is onbekend op deze server.", NULL);
		goto out;
	}
	if (s->closed) {
		fail(s, 409, "Het formulier Werkbezoek neemt geen inzendingen "
		    "meer aan.", NULL);
		goto out;
	}
	/* Only the files the instance names are kept; a second part with
	 * the same name is a repeat of the first. */
	for (size_t i = 0; i < s->files.n; i++) {
		struct vh_apipart *f = &s->files.part[i];
		bool dup = false;

		for (size_t k = 0; k < i; k++)
			dup |= s->files.part[k].committed &&
			    strcmp(s->files.part[k].filename, f->filename) == 0;
		if (dup || !named(in, f->filename))
			continue;
		if (vh_apipart_commit(&s->files, i) != 0) {
			fail(s, s->files.status, "De server kan de bijlage "
			    "nu niet opslaan; probeer het straks opnieuw.",
			    NULL);
			goto out;
		}
		files[nfiles].filename = f->filename;
		files[nfiles].declared_type = f->ctype;
		memcpy(files[nfiles].sha256, f->sha256, sizeof f->sha256);
		files[nfiles++].size = f->size;
	}
	/* The XML itself, sealed as the original. */
	sub.xml_size = (int64_t)s->xml.len;
	if ((xw = vh_blob_writer_new(s->ctx->blobs, &why)) == NULL) {
		vh_log_warnx("req=%s %s", vh_http_req_id(s->req), why);
		free(why);
		rc = VH_EIO;
	} else if (vh_blob_writer_write(xw, s->xml.data, s->xml.len) != 0) {
		vh_blob_writer_abort(xw);
		rc = VH_EIO;
	} else
		rc = vh_blob_writer_commit(xw, sub.xml_sha256);
	if (rc != 0) {
		fail(s, errno == ENOSPC ? 507 : 503, "De server kan de inzending "
		    "nu niet opslaan; probeer het straks opnieuw.", NULL);
		goto out;
	}
	if ((db = vh_api_db(w, s->req, &s->e, "De database is nu niet "
	    "bereikbaar; de inzending is niet bewaard, stuur haar straks "
	    "opnieuw.")) == NULL)
		goto out;
	/* Pinned, the blobs cannot be collected before the rows name them. */
	for (size_t i = 0; i <= nfiles; i++) {
		const char *h = i < nfiles ? files[i].sha256 : sub.xml_sha256;
		int64_t sz = i < nfiles ? files[i].size : sub.xml_size;

		if (vh_blobgc_pin(db, s->ctx->blobs, h, sz, &why) !=
		    0) {
			vh_log_warnx("req=%s pinning: %s", vh_http_req_id(s->req),
			    why);
			free(why);
			fail(s, 503, "De inzending is niet bewaard; stuur haar "
			    "straks opnieuw.", NULL);
			goto unpin;
		}
		pinned[npinned++] = h;
	}
	sub.inst = in;
	sub.device_id = s->device_id != NULL ? s->device_id : "";
	sub.incomplete = s->incomplete.data != NULL &&
	    strcasecmp(s->incomplete.data, "yes") == 0;
	sub.keep_location = s->keep_location;
	sub.files = files;
	sub.nfiles = nfiles;
	/* The same rules as every other path's visits (review_visits). */
	if ((rc = vh_entry_set_rules(db, s->cfg, &why)) == 0)
		rc = vh_odk_store(db, &s->who, &sub, &entry_id, &outcome, &why);
	switch (rc) {
	case 0:
		s->entry_id = entry_id;
		s->outcome = outcome == VH_ODK_NEW ? "new" : outcome ==
		    VH_ODK_MORE ? "more" : outcome == VH_ODK_SAME ? "same" :
		    "edit";
		s->message = outcome == VH_ODK_NEW ?
		    "Het werkbezoek is ontvangen." : outcome == VH_ODK_MORE ?
		    "De bijlagen zijn bij het werkbezoek gevoegd." :
		    outcome == VH_ODK_SAME ? "Dit werkbezoek was al ontvangen." :
		    "Het werkbezoek is bijgewerkt.";
		free(why);
		break;
	case VH_ECONFLICT:
		fail(s, 409, "Deze inzending botst met een eerdere.", why);
		break;
	case VH_ENOENT:
		fail(s, 404, "De versie die deze inzending bijwerkt is "
		    "onbekend.", why);
		break;
	case VH_EINVAL:
		fail(s, 400, "De inzending bevat waarden die de server niet "
		    "aanneemt.", why);
		break;
	default:
		vh_api_err_db(&s->e, s->req, "odk store", why, "De inzending "
		    "is niet bewaard; stuur haar straks opnieuw.");
	}
unpin:
	while (npinned > 0)
		vh_blobgc_unpin(db, pinned[--npinned]);
out:
	free(in);
}

static void
store_done(void *arg)
{
	struct submission *s = arg;

	/* On the loop thread: only it touches the request. */
	if (s->e.status == 0)
		vh_http_req_set_log(s->req, "user=%s entry=%" PRId64 " odk=%s",
		    s->who.name, s->entry_id, s->outcome);
	respond(s);
}

static void
on_end(struct vh_http_req *req VH_UNUSED, void *arg)
{
	struct submission *s = arg;

	if (vh_apipart_finish(&s->files) != 0) {
		fail(s, 400, "De inzending houdt op voor haar laatste grens.",
		    NULL);
		respond(s);
		return;
	}
	if (s->xml.data == NULL) {
		fail(s, 400, "De inzending mist het deel xml_submission_file.",
		    NULL);
		respond(s);
		return;
	}
	vh_pool_submit(s->ctx->pool, store_work, store_done, s);
}

static void
on_abort(struct vh_http_req *req, void *arg)
{
	struct submission	*s = arg;
	int64_t			 max = s->max;

	submission_free(s);
	if (vh_http_req_error(req) == 413)
		respond_message(req, 413, max, "De inzending is te groot.", NULL);
	else
		vh_http_respond_error(req);
}

void
vh_api_odk_submission_post(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	const struct vh_config	*cfg = vh_ctx_config(ctx);
	const char		*ctype = vh_http_req_header(req, "Content-Type");
	struct submission	*s;
	char			*boundary = NULL;
	int64_t			 cl = vh_http_req_content_length(req);

	if (cl > cfg->odk_max_submission_size) {
		respond_message(req, 413, cfg->odk_max_submission_size,
		    "De inzending is te groot.", NULL);
		return;
	}
	if (ctype == NULL || vh_multipart_boundary(ctype, &boundary) != 0) {
		respond_message(req, 400, cfg->odk_max_submission_size,
		    "Stuur de inzending als multipart/form-data.", NULL);
		return;
	}
	s = vh_xcalloc(1, sizeof *s);
	s->ctx = ctx;
	s->cfg = vh_config_ref(cfg);
	s->req = req;
	s->who = *who;
	s->max = cfg->odk_max_submission_size;
	s->keep_location = cfg->keep_location;
	s->closed = cfg->odk_form_closed;
	/* Stored as sent, at most 256 bytes; other parameters are ignored. */
	if ((s->device_id = vh_http_query_get(vh_http_req_query(req),
	    "deviceID")) != NULL && strlen(s->device_id) > 256)
		s->device_id[256] = '\0';
	s->xml.max = VH_ODKXML_MAX_SIZE;
	s->incomplete.max = 7;
	s->incomplete.cut = true;
	if (vh_apipart_start(&s->files, ctx->pool, ctx->blobs, req, boundary,
	    MAX_FILES, &part_cbs, s) != 0) {
		free(boundary);
		free(s->device_id);
		vh_config_unref(s->cfg);
		free(s);
		respond_message(req, 400, cfg->odk_max_submission_size,
		    "De multipart-grens van de inzending is ongeldig.", NULL);
		return;
	}
	free(boundary);
	vh_apipart_read_body(&s->files, s->max, on_end, on_abort);
}

/* Admin: ODK tokens and their Collect settings */

#define TOKEN_DB	"ODK tokens cannot be reached right now"

struct token_job {
	struct vh_ctx		*ctx;
	struct vh_http_req	*req;
	struct vh_audit_actor	 actor;
	char			*name, *base, *id;
	char			 secret[VH_SECRET_LEN];
	int64_t			 new_id;
	json_t			*out;
	int			 ok;		/* the status of success */
	struct vh_api_err	 e;
};

static void
token_job_free(struct token_job *j)
{
	free(j->name);
	free(j->base);
	free(j->id);
	explicit_bzero(j->secret, sizeof j->secret);
	json_decref(j->out);
	vh_api_err_clear(&j->e);
	free(j);
}

static void
token_done(void *arg)
{
	struct token_job *j = arg;

	vh_api_reply_json(j->req, &j->e, j->ok, j->out);
	token_job_free(j);
}

/* In vh_api_tx: the token with its audit rows, so a token the trail
 * does not name is never handed out. */
static void
token_add_change(struct vh_http_req *req, PGconn *db, struct vh_api_err *e,
    void *arg)
{
	struct token_job	*j = arg;
	char			*err = NULL, idbuf[32];
	bool			 created;
	int			 rc;

	if ((rc = vh_odk_token_add(db, j->name, &created, j->secret,
	    &j->new_id, &err)) != 0) {
		if (rc == VH_EINVAL)
			vh_api_err_set(e, 422, "invalid-odk-token", err);
		else
			vh_api_err_db(e, req, "odk token", err, TOKEN_DB);
		return;
	}
	/* The same records verhaalctl odk token add leaves: the account it
	 * made, if any, and the token. */
	snprintf(idbuf, sizeof idbuf, "%" PRId64, j->new_id);
	if ((created && vh_audit_record(db, &j->actor, "user_add", "account",
	    j->name, "role fieldworker, for an ODK token", &err) != 0) ||
	    vh_audit_record(db, &j->actor, "token_create", "token", idbuf,
	    "ODK token", &err) != 0)
		vh_api_err_db(e, req, "odk token audit", err, TOKEN_DB);
}

static void
token_add_work(struct vh_worker *w, void *arg)
{
	struct token_job	*j = arg;
	char			*url, *settings;

	j->ok = 201;
	if (vh_api_tx(w, j->req, &j->e, "odk token", TOKEN_DB,
	    token_add_change, j) != 0)
		return;
	url = vh_odk_server_url(j->base, j->secret);
	settings = vh_odk_settings(url, "verhaal");
	j->out = json_pack("{sI ss ss ss ss}", "id", (json_int_t)j->new_id,
	    "name", j->name, "token", j->secret, "server_url", url,
	    "settings", settings);
	explicit_bzero(j->secret, sizeof j->secret);
	free(url);
	free(settings);
}
static void
token_add_body(struct vh_http_req *req, json_t *body, void *arg)
{
	struct token_job	*j = arg;
	const char		*name = json_string_value(json_object_get(body,
				    "name"));

	if (name == NULL) {
		vh_http_respond_problem(req, 422, "invalid-odk-token",
		    "send {\"name\": the field worker's account name}");
		token_job_free(j);
		return;
	}
	j->name = vh_xstrdup(name);
	vh_pool_submit(j->ctx->pool, token_add_work, token_done, j);
}

static void
token_free_arg(void *arg)
{
	token_job_free(arg);
}

void
vh_api_odk_tokens_post(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	struct token_job *j = vh_xcalloc(1, sizeof *j);

	j->ctx = ctx;
	j->req = req;
	vh_audit_actor_from(&j->actor, req, who);
	j->base = base_url(ctx, req);
	vh_body_read_json(req, 4096, token_add_body, token_free_arg, j);
}

/* Worker: sql on the worker's connection (*dbp), or NULL with the 503
 * recorded in j->e. Caller PQclears. */
static PGresult *
token_exec(struct vh_worker *w, struct token_job *j, const char *sql,
    int n, const char *const *p, PGconn **dbp)
{
	PGresult	*r;
	char		*err = NULL;

	j->ok = 200;
	if ((*dbp = vh_api_db(w, j->req, &j->e, TOKEN_DB)) == NULL)
		return (NULL);
	if ((r = vh_db_exec(*dbp, sql, n, p, &err)) == NULL)
		vh_api_err_db(&j->e, j->req, "odk tokens", err, TOKEN_DB);
	return (r);
}

static void
token_list_work(struct vh_worker *w, void *arg)
{
	struct token_job	*j = arg;
	json_error_t		 jerr;
	PGresult		*r;
	PGconn			*db;

	if ((r = token_exec(w, j, "SELECT coalesce(json_agg(json_build_object("
	    "'id', t.id, 'name', a.name, 'created_at', t.created_at,"
	    " 'last_used_at', t.last_used_at, 'revoked_at', t.revoked_at)"
	    " ORDER BY t.id), '[]') FROM api_token t JOIN account a ON"
	    " a.id = t.account_id WHERE t.kind = 'odk'", 0, NULL,
	    &db)) == NULL)
		return;
	j->out = json_pack("{so}", "tokens",
	    json_loads(PQgetvalue(r, 0, 0), 0, &jerr));
	PQclear(r);
}

void
vh_api_odk_tokens_list(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	struct token_job *j = vh_xcalloc(1, sizeof *j);

	j->ctx = ctx;
	j->req = req;
	vh_pool_submit(ctx->pool, token_list_work, token_done, j);
}

static void
token_revoke_work(struct vh_worker *w, void *arg)
{
	struct token_job	*j = arg;
	const char		*p[1] = { j->id };
	PGresult		*r;
	PGconn			*db;

	if ((r = token_exec(w, j, "UPDATE api_token SET revoked_at = now()"
	    " WHERE id = $1::bigint AND kind = 'odk' AND revoked_at IS NULL"
	    " RETURNING json_build_object('id', id, 'revoked_at', revoked_at)",
	    1, p, &db)) == NULL)
		return;
	if (PQntuples(r) == 0)
		vh_api_err_set(&j->e, 404, "not-found",
		    vh_xasprintf("no active ODK token %s", j->id));
	else {
		json_error_t	 jerr;
		char		*aerr = NULL;

		if (vh_audit_record(db, &j->actor, "token_revoke", "token",
		    j->id, "ODK token", &aerr) != 0) {
			vh_log_warnx("req=%s audit: %s", vh_http_req_id(j->req),
			    aerr);
			free(aerr);
		}

		j->out = json_loads(PQgetvalue(r, 0, 0), 0, &jerr);
	}
	PQclear(r);
}

void
vh_api_odk_token_revoke(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	/* {id:int}: the router checked it. */
	struct token_job	*j = vh_xcalloc(1, sizeof *j);

	j->ctx = ctx;
	j->req = req;
	vh_audit_actor_from(&j->actor, req, who);
	j->id = vh_xstrdup(vh_route_param(params, "id"));
	vh_pool_submit(ctx->pool, token_revoke_work, token_done, j);
}
