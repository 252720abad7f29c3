/*
 * Moderation: POST /api/v1/entries/{id}/approve, /publish, /reject and
 * /redact, for moderators and admins. A review ends in one of three
 * decisions, each one conditional UPDATE with its moderation row:
 * approving (vrijgeven) releases the entry to staff readers whatever its
 * consent scope, which then limits what they see of it (the access rule,
 * schema/0009_access.sql); publishing (publiceren) also clears it for use
 * outside the staff, so it first asks the rule (vh_access_entry) for the
 * "publish" use, which only the resident's publish scope (or a staff
 * visit without consent) gives; rejecting ends it. A published entry is
 * released too, so approving it again would only take publication back:
 * that is refused. Redaction rewrites the entry's title and text in one
 * transaction (the search index is a generated column of
 * the row, so it follows), and re-encodes a recording's Opus and AAC
 * renditions and peaks from the sealed original with the given ranges
 * silent; the new blobs replace the old ones, which are removed unless
 * another row uses them. Each redaction is logged by position, never by
 * the words removed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_access.h"
#include "vh_api.h"
#include "vh_apijob.h"
#include "vh_apiq.h"
#include "vh_ctx.h"
#include "vh_audit.h"
#include "vh_blobstore.h"
#include "vh_body.h"
#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_error.h"
#include "vh_jobq.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_redact.h"
#include "vh_redact_audio.h"
#include "vh_unused.h"
#include "vh_xmalloc.h"

#define DB_DETAIL "the database is unavailable; nothing was changed, try " \
	"again shortly"

enum action { A_APPROVE, A_PUBLISH, A_REJECT, A_REDACT };

struct mod_job {
	struct vh_ctx		*ctx;
	struct vh_http_req	*req;
	struct vh_principal	 who;
	struct vh_audit_actor	 actor;
	enum action		 action;
	char			 id[24], account[24];
	json_t			*body;
	struct vh_api_err	 err;
	json_t			*result;
};

static void
job_free(void *arg)
{
	struct mod_job *j = arg;

	json_decref(j->body);
	json_decref(j->result);
	vh_api_err_clear(&j->err);
	free(j);
}

/* A database failure: its text goes to the log, the moderator hears
 * that nothing was changed. */
static void
db_error(struct mod_job *j, char *err)
{
	char	what[48];

	snprintf(what, sizeof what, "moderation of entry %s", j->id);
	vh_api_err_db(&j->err, j->req, what, err, DB_DETAIL);
}

/* 404 or 409, for an UPDATE that matched nothing: the entry's status is
 * the decision already taken (or, for approving, one that includes it). */
static void
explain_miss(struct mod_job *j, PGconn *db)
{
	const char	*params[1] = { j->id };
	PGresult	*r;
	char		*err = NULL;

	if ((r = vh_db_exec(db, "SELECT status FROM entry WHERE id = $1", 1,
	    params, &err)) == NULL) {
		db_error(j, err);
		return;
	}
	if (PQntuples(r) == 0)
		vh_api_err_set(&j->err, 404, "not-found", vh_xasprintf("no entry %s", j->id));
	else if (j->action == A_APPROVE && strcmp(PQgetvalue(r, 0, 0),
	    "published") == 0)
		vh_api_err_set(&j->err, 409, "conflict", vh_xasprintf("entry %s is already "
		    "published, which releases it to analysts too", j->id));
	else
		vh_api_err_set(&j->err, 409, "conflict", vh_xasprintf("entry %s is already "
		    "%s", j->id, PQgetvalue(r, 0, 0)));
	PQclear(r);
}

static void
decide(struct mod_job *j, PGconn *db)
{
	const char	*reason = json_string_value(json_object_get(j->body,
			    "reason"));
	const char	*params[6];
	PGresult	*r;
	char		*err = NULL, *scope = NULL;
	int		 rc;

	if (j->action == A_PUBLISH && (rc = vh_access_entry(db, &j->who, j->id,
	    "publish", &scope, &err)) != 0) {
		if (rc == VH_ENOENT)
			vh_api_err_set(&j->err, 404, "not-found", vh_xasprintf("no entry %s",
			    j->id));
		else if (rc == VH_ENOTSUP)
			vh_api_err_set(&j->err, 409, "consent-scope", vh_xasprintf("entry %s"
			    " cannot be published: the resident's consent scope"
			    " is %s, and only the publish scope allows"
			    " publication outside the staff; approve it"
			    " (POST /api/v1/entries/%s/approve) to release it to"
			    " analysts within its scope", j->id, *scope != '\0' ?
			    scope : "missing", j->id));
		else
			db_error(j, err);
		free(scope);
		return;
	}
	params[0] = j->id;
	params[1] = j->action == A_APPROVE ? "approved" :
	    j->action == A_PUBLISH ? "published" : "rejected";
	params[2] = j->who.account_id != 0 ? j->account : NULL;
	params[3] = j->action == A_APPROVE ? "approve" :
	    j->action == A_PUBLISH ? "publish" : "reject";
	params[4] = reason != NULL ? reason : "";
	/* The statuses the decision is already part of. */
	params[5] = j->action == A_APPROVE ? "{approved,published}" :
	    j->action == A_PUBLISH ? "{published}" : "{rejected}";
	r = vh_db_exec(db,
	    "WITH u AS (UPDATE entry SET status = $2, updated_at = now()"
	    " WHERE id = $1 AND status <> ALL ($6::text[])"
	    " RETURNING id, status),"
	    " m AS (INSERT INTO moderation (entry_id, account_id, action,"
	    " reason) SELECT id, $3, $4, $5 FROM u)"
	    " SELECT json_build_object('id', id, 'status', status) FROM u",
	    6, params, &err);
	if (r == NULL) {
		db_error(j, err);
		return;
	}
	if (PQntuples(r) == 1)
		j->result = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	else
		explain_miss(j, db);
	PQclear(r);
	if (j->result != NULL && reason != NULL)
		json_object_set_new(j->result, "reason", json_string(reason));
}

/* Spans as logged: positions and replacements only. */
static json_t *
spans_log(const struct vh_redact_span *s, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:I, s:I, s:s}", "start",
		    (json_int_t)s[i].start, "end", (json_int_t)s[i].end,
		    "replacement", s[i].replacement != NULL ? s[i].replacement :
		    VH_REDACT_MARK));
	return (a);
}

/* Redacts title and text in one transaction. */
static int
redact_text(struct mod_job *j, PGconn *db)
{
	static const char *fields[2] = { "title", "text" };
	struct vh_redact_span	*spans[2] = { NULL, NULL };
	size_t			 n[2] = { 0, 0 };
	char			*text[2] = { NULL, NULL }, *why = NULL, *err = NULL;
	char			*log_s = NULL;
	const char		*params[5];
	json_t			*log = json_object();
	PGresult		*r = NULL;
	int			 rc = VH_EINVAL;

	for (int f = 0; f < 2; f++) {
		json_t *l = json_object_get(j->body, fields[f]);

		if (l != NULL && vh_redact_spans_parse(l, &spans[f], &n[f],
		    &why) != 0) {
			vh_api_err_set(&j->err, 422, "invalid-redaction", vh_xasprintf("%s: "
			    "%s", fields[f], why));
			free(why);
			goto out;
		}
	}
	if (n[0] == 0 && n[1] == 0) {
		rc = 0;
		goto out;
	}
	if (vh_db_begin(db, &err) != 0) {
		db_error(j, err);	/* nothing began: nothing to roll back */
		goto out;
	}
	params[0] = j->id;
	if ((r = vh_db_exec(db, "SELECT title, body FROM entry WHERE id = $1"
	    " FOR UPDATE", 1, params, &err)) == NULL)
		goto dberr;
	if (PQntuples(r) != 1) {
		vh_api_err_set(&j->err, 404, "not-found", vh_xasprintf("no entry %s", j->id));
		goto rollback;
	}
	for (int f = 0; f < 2; f++) {
		if (vh_redact_text(PQgetvalue(r, 0, f), spans[f], n[f], &text[f],
		    &why) != 0) {
			vh_api_err_set(&j->err, 422, "invalid-redaction", vh_xasprintf("%s: "
			    "%s", fields[f], why));
			free(why);
			goto rollback;
		}
		if (n[f] > 0)
			json_object_set_new(log, fields[f],
			    spans_log(spans[f], n[f]));
	}
	PQclear(r);
	log_s = json_dumps(log, JSON_COMPACT);
	params[1] = text[0];
	params[2] = text[1];
	params[3] = j->who.account_id != 0 ? j->account : NULL;
	params[4] = log_s;
	r = vh_db_exec(db, "WITH u AS (UPDATE entry SET title = $2, body = $3,"
	    " updated_at = now() WHERE id = $1 RETURNING id)"
	    " INSERT INTO redaction (entry_id, account_id, actor, kind, spans)"
	    " SELECT id, $4, (SELECT name FROM account WHERE id = $4), 'text',"
	    " $5::jsonb FROM u", 5, params, &err);
	if (r == NULL)
		goto dberr;
	PQclear(r);
	r = NULL;
	if (vh_db_commit(db, &err) != 0)
		goto dberr;
	rc = 0;
	goto out;
dberr:
	db_error(j, err);
rollback:
	vh_db_rollback(db);
out:
	PQclear(r);
	for (int f = 0; f < 2; f++) {
		free(spans[f]);
		free(text[f]);
	}
	free(log_s);
	json_decref(log);
	return (rc);
}

/* The HTTP answer to a failed vh_redact_audio_queue. */
static void
queue_error(struct mod_job *j, int rc, char *err)
{
	int	status = vh_api_status(rc);

	if (status == 503)
		db_error(j, err);
	else
		vh_api_err_set(&j->err, status, status == 422 ?
		    "invalid-redaction" : vh_api_status_type(status), err);
}

/*
 * Text spans are redacted at once; each recording gets a redaction job
 * for the media runners, all queued in one transaction (so a bad item
 * queues none), and the answer names the jobs to follow.
 */
static void
redact(struct mod_job *j, PGconn *db)
{
	const char	*params[1] = { j->id };
	json_t		*item, *queued = json_array();
	PGresult	*r;
	char		*err = NULL, href[48];
	size_t		 i;
	int64_t		 job_id;
	int		 rc;

	if (redact_text(j, db) != 0)
		goto out;
	if (json_array_size(json_object_get(j->body, "audio")) > 0) {
		if (vh_db_begin(db, &err) != 0) {
			db_error(j, err);
			goto out;
		}
		json_array_foreach(json_object_get(j->body, "audio"), i, item) {
			if ((rc = vh_redact_audio_queue(db, j->id,
			    json_object_get(item, "media"), json_object_get(item,
			    "mute"), &j->who, &job_id, &err)) != 0) {
				vh_db_rollback(db);
				queue_error(j, rc, err);
				goto out;
			}
			snprintf(href, sizeof href, "/api/v1/jobs/%" PRId64,
			    job_id);
			json_array_append_new(queued, json_pack("{s:O, s:O, s:I,"
			    " s:s, s:s}", "media", json_object_get(item, "media"),
			    "mute", json_object_get(item, "mute"), "job",
			    (json_int_t)job_id, "state", "queued", "href", href));
		}
		if (vh_db_commit(db, &err) != 0) {
			db_error(j, err);
			goto out;
		}
	}
	if ((r = vh_db_exec(db, "SELECT json_build_object('id', id, 'status',"
	    " status, 'title', title, 'text', body) FROM entry WHERE id = $1",
	    1, params, &err)) == NULL) {
		db_error(j, err);
		goto out;
	}
	if (PQntuples(r) == 1) {
		j->result = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
		json_object_set(j->result, "audio", queued);
	} else
		vh_api_err_set(&j->err, 404, "not-found", vh_xasprintf("no entry %s", j->id));
	PQclear(r);
out:
	json_decref(queued);
}

/* The audit row of a decision taken, with the moderator's reason (for a
 * redaction: how many spans, never the words). */
static void
record(struct mod_job *j, PGconn *db)
{
	static const char *names[] = { "approve", "publish", "reject", "redact" };
	const char	*reason = json_string_value(json_object_get(j->body,
			    "reason"));
	char		*why, *err = NULL;

	if (j->action == A_REDACT)
		why = vh_xasprintf("%s%stext spans %zu, recordings %zu",
		    reason != NULL ? reason : "", reason != NULL ? "; " : "",
		    json_array_size(json_object_get(j->body, "title")) +
		    json_array_size(json_object_get(j->body, "text")),
		    json_array_size(json_object_get(j->body, "audio")));
	else
		why = vh_xstrdup(reason != NULL ? reason : "");
	if (vh_audit_record(db, &j->actor, names[j->action], "entry", j->id,
	    why, &err) != 0) {
		/* The decision stands; the moderator hears it was not logged. */
		vh_log_warnx("req=%s audit: %s", vh_http_req_id(j->req), err);
		vh_api_err_set(&j->err, 503, "audit-unavailable", vh_xasprintf("entry %s:"
		    " the decision was taken but could not be recorded in the"
		    " audit trail", j->id));
	}
	free(err);
	free(why);
}

static void
mod_work(struct vh_worker *w, void *arg)
{
	struct mod_job	*j = arg;
	PGconn		*db;

	if ((db = vh_api_db(w, j->req, &j->err, DB_DETAIL)) == NULL)
		return;
	if (j->action == A_REDACT)
		redact(j, db);
	else
		decide(j, db);
	if (j->err.status == 0)
		record(j, db);
}

static void
mod_done(void *arg)
{
	struct mod_job	*j = arg;
	json_t		*first;
	int		 status = 200;

	/* Recordings are muted by the media runners: 202, and where to
	 * follow the (first) job. */
	first = json_array_get(json_object_get(j->result, "audio"), 0);
	if (j->err.status == 0 && first != NULL) {
		status = 202;
		vh_http_add_header(j->req, "Location", "%s",
		    json_string_value(json_object_get(first, "href")));
	}
	if (j->err.status == 0) {
		vh_log_info("req=%s %s %s entry %s", vh_http_req_id(j->req),
		    j->who.name, j->action == A_APPROVE ? "approved" :
		    j->action == A_PUBLISH ? "published" :
		    j->action == A_REJECT ? "rejected" : status == 202 ?
		    "queued the redaction of" : "redacted", j->id);
	}
	vh_api_reply_json(j->req, &j->err, status, j->result);
	job_free(j);
}

static void
on_body(struct vh_http_req *req, json_t *body, void *arg)
{
	struct mod_job	*j = arg;
	const char	*reason = json_string_value(json_object_get(body,
			    "reason"));
	json_t		*audio = json_object_get(body, "audio");

	if (j->action == A_REJECT && (reason == NULL || *reason == '\0' ||
	    strlen(reason) > 2000)) {
		vh_http_respond_problem(req, 422, "reason-required",
		    "send {\"reason\": \"why the story is rejected\"} (at most "
		    "2000 bytes)");
		job_free(j);
		return;
	}
	if (j->action == A_REDACT && ((audio != NULL && !json_is_array(audio)) ||
	    (json_object_get(body, "text") == NULL &&
	    json_object_get(body, "title") == NULL && audio == NULL))) {
		vh_http_respond_problem(req, 422, "invalid-redaction",
		    "send {\"text\": [{\"start\", \"end\", \"replacement\"}],"
		    " \"title\": [...], \"audio\": [{\"media\": id, \"mute\":"
		    " [[start_ms, end_ms]]}]}");
		job_free(j);
		return;
	}
	j->body = json_incref(body);
	vh_pool_submit(j->ctx->pool, mod_work, mod_done, j);
}

static void
moderate(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who,
    enum action action)
{
	struct mod_job	*j;
	const char	*id = vh_route_param(params, "id");	/* {id:int} */

	j = vh_xcalloc(1, sizeof *j);
	j->ctx = ctx;
	j->req = req;
	j->who = *who;
	vh_audit_actor_from(&j->actor, req, who);
	j->action = action;
	snprintf(j->id, sizeof j->id, "%s", id);
	snprintf(j->account, sizeof j->account, "%" PRId64, who->account_id);
	vh_body_read_json(req, 256 * 1024, on_body, job_free, j);
}

void
vh_api_entry_approve(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	moderate(ctx, req, params, who, A_APPROVE);
}

void
vh_api_entry_publish(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	moderate(ctx, req, params, who, A_PUBLISH);
}

void
vh_api_entry_reject(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	moderate(ctx, req, params, who, A_REJECT);
}

void
vh_api_entry_redact(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params, const struct vh_principal *who)
{
	moderate(ctx, req, params, who, A_REDACT);
}

/* GET /api/v1/jobs/{id}: the state of a job, such as a redaction's. */
void
vh_api_job_get(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params,
    const struct vh_principal *who VH_UNUSED)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON };
	const char	*id = vh_route_param(params, "id");	/* {id:int} */

	q.sql = VH_JOBQ_GET_SQL;
	q.nparams = 1;
	q.params[0] = vh_xstrdup(id);
	q.not_found = "no such job";
	vh_apiq_run(ctx, req, &q);
}
