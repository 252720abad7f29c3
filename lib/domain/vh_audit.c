/*
 * Audit rows. Writing is one call of vh_audit_append() on the caller's
 * connection, which chains the row by hash in the database; listing is
 * one SELECT with optional filters and keyset pagination on the row id
 * (ids grow with time, so "newest first" is "id descending", and a page
 * boundary never shifts when rows are added meanwhile).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_audit.h"
#include "vh_config.h"
#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_xmalloc.h"

void
vh_audit_actor_set(struct vh_audit_actor *a, const struct vh_principal *who,
    const char *addr, const char *request_id)
{
	memset(a, 0, sizeof *a);
	if (who == NULL || who->role == VH_ROLE_NONE)
		snprintf(a->name, sizeof a->name, "anonymous");
	else {
		a->account_id = who->account_id;
		snprintf(a->name, sizeof a->name, "%s", who->name);
		snprintf(a->role, sizeof a->role, "%s", vh_role_name(who->role));
	}
	snprintf(a->addr, sizeof a->addr, "%s", addr != NULL ? addr : "");
	snprintf(a->request_id, sizeof a->request_id, "%s",
	    request_id != NULL ? request_id : "");
}

void
vh_audit_actor_local(struct vh_audit_actor *a, const char *name)
{
	memset(a, 0, sizeof *a);
	snprintf(a->name, sizeof a->name, "%s", name);
}

int
vh_audit_word_ok(const char *s, int allow_empty)
{
	size_t n = strlen(s);

	if (n == 0)
		return (allow_empty);
	if (n > 32 || !islower((unsigned char)s[0]))
		return (0);
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && s[i] != '_')
			return (0);
	return (1);
}

/*
 * Every action the trail records: the one list. verhaalctl audit
 * --actions prints it, docs/privacy.md lists the same (a test compares
 * them), and vh_audit_record() refuses a word that is not here.
 */
static const struct vh_audit_action actions[] = {
	{ "read", "entry, media", 0,
	  "an entry read through GET /api/v1/entries/{id}; a sealed original "
	  "read by an admin (media, with the reason given)" },
	{ "dossier", "area", 0,
	  "an area's dossier read (its stories beside its indicators), with "
	  "its period" },
	{ "search", "entries", 0,
	  "a search of the entries (GET /api/v1/entries), with its filters" },
	{ "play", "media", 1,
	  "a recording played or downloaded (audio.opus, audio.m4a, "
	  "peaks.json); one row per person, file and day" },
	{ "view", "media", 1,
	  "a photo shown or downloaded (display.jpg, thumb.jpg); one row per "
	  "person, file and day" },
	{ "export", "entries, buurten", 0,
	  "an export (entries.csv, buurten.geojson), with its filters and the "
	  "number of rows sent, written when the export ends" },
	{ "approve", "entry", 0, "a moderator released an entry to staff" },
	{ "publish", "entry", 0, "a moderator published an entry" },
	{ "reject", "entry", 0, "a moderator rejected an entry, with the reason" },
	{ "redact", "entry", 0,
	  "a moderator redacted an entry's text or recording (positions are "
	  "in the redaction log, never the words)" },
	{ "edit", "entry", 0,
	  "an entry's fields changed: by a moderator (title, themes or buurt: "
	  "the fields changed, the new themes and area, never the title's "
	  "words), or by the field worker who wrote it, before publication "
	  "(the names of the fields changed, never their values)" },
	{ "withdraw", "entry", 0,
	  "an entry withdrawn and erased: by the resident with the receipt "
	  "code, or by the field worker who wrote it, before publication" },
	{ "purge", "entry", 0, "an entry erased at the end of its retention period" },
	{ "delete", "entry", 0, "an entry erased by an administrator" },
	{ "login", "account", 0, "a successful login" },
	{ "login_failed", "account", 0, "a refused login (the name as typed)" },
	{ "login_throttled", "account", 0,
	  "a login refused because of too many failures (the name as typed)" },
	{ "logout", "account", 0, "a logout" },
	{ "user_add", "account", 0, "an account added (verhaalctl user add, POST /api/v1/accounts; a field worker's, by the first ODK token for a new name)" },
	{ "user_role", "account", 0, "an account's role changed (old and new role)" },
	{ "user_passwd", "account", 0, "an account's password changed" },
	{ "user_disable", "account", 0, "an account disabled" },
	{ "user_enable", "account", 0, "an account enabled" },
	{ "token_create", "token", 0, "an API token created (verhaalctl token create, POST /api/v1/tokens), or an ODK token (verhaalctl odk token add, POST /api/v1/odk/tokens)" },
	{ "token_revoke", "token", 0, "an API token or ODK token revoked" },
	{ "collection_create", "collection", 0, "a collection created" },
	{ "collection_rotate_link", "collection", 0,
	  "a collection's upload link replaced (`verhaalctl collection "
	  "rotate-link`, or Collecties in the staff app): the old one stopped "
	  "working" },
	{ "consent_text_add", "collection", 0,
	  "a consent text added to a collection (version and language)" },
	{ "config_reload", "config", 0,
	  "a configuration reload (SIGHUP) that changed keys: their names" },
	{ "audit_trim", "audit", 0,
	  "audit rows past audit_retention removed (how many, up to when)" },
	{ "demo_remove", "collection", 0,
	  "the example data of make demo erased (verhaalctl demo remove)" },
};
#define NACTIONS (sizeof actions / sizeof actions[0])

const struct vh_audit_action *
vh_audit_actions(size_t *n)
{
	*n = NACTIONS;
	return (actions);
}

const struct vh_audit_action *
vh_audit_action_find(const char *name)
{
	for (size_t i = 0; i < NACTIONS; i++)
		if (strcmp(actions[i].name, name) == 0)
			return (&actions[i]);
	return (NULL);
}

int
vh_audit_record(PGconn *db, const struct vh_audit_actor *a,
    const char *action, const char *object_type, const char *object_id,
    const char *reason, char **err)
{
	const struct vh_audit_action	*act;
	struct vh_db_params		 p;
	PGresult			*r;

	if (object_type == NULL)
		object_type = "";
	if (!vh_audit_word_ok(action, 0) || !vh_audit_word_ok(object_type, 1) ||
	    (act = vh_audit_action_find(action)) == NULL) {
		*err = vh_xasprintf("bad audit action '%s' or object '%s'",
		    action, object_type);
		return (VH_EINVAL);
	}
	vh_db_params_init(&p);
	vh_db_params_id(&p, a->account_id);
	vh_db_params_str(&p, a->name);
	vh_db_params_str(&p, a->role);
	vh_db_params_str(&p, action);
	vh_db_params_str(&p, object_type);
	vh_db_params_str(&p, object_id != NULL ? object_id : "");
	vh_db_params_str(&p, reason != NULL ? reason : "");
	vh_db_params_str(&p, a->addr);
	vh_db_params_str(&p, a->request_id);
	vh_db_params_str(&p, act->daily ? "t" : "f");
	/* The chain (seq, hashes) is computed in the database, under its
	 * lock: schema/0016_audit_chain_consent_texts.sql. */
	r = vh_db_exec(db, "SELECT vh_audit_append($1, $2, $3, $4, $5, $6, $7,"
	    " $8, $9, $10)", p.n, p.v, err);
	if (r == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

int
vh_audit_verify(PGconn *db, struct vh_audit_check *out, char **err)
{
	PGresult *r;

	memset(out, 0, sizeof *out);
	if ((r = vh_db_exec(db, "SELECT ok, nrows, coalesce(bad_id, 0),"
	    " coalesce(bad_seq, 0), coalesce(problem, '') FROM vh_audit_verify()",
	    0, NULL, err)) == NULL)
		return (VH_EDB);
	out->ok = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	out->rows = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	out->bad_id = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	out->bad_seq = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
	snprintf(out->problem, sizeof out->problem, "%s", PQgetvalue(r, 0, 4));
	PQclear(r);
	return (0);
}

int
vh_audit_trim(PGconn *db, int64_t retention_ms, int64_t *removed, char **err)
{
	struct vh_audit_actor	 a;
	struct vh_db_params	 p;
	char			*why;
	PGresult		*r;
	int			 rc;

	*removed = 0;
	if (retention_ms <= 0)
		return (0);
	vh_db_params_init(&p);
	vh_db_params_int(&p, retention_ms);
	if ((r = vh_db_exec(db, "SELECT vh_audit_trim(now() - $1::bigint *"
	    " interval '1 ms')", p.n, p.v, err)) == NULL)
		return (VH_EDB);
	*removed = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (*removed == 0)
		return (0);
	vh_audit_actor_local(&a, "system");
	why = vh_xasprintf("%" PRId64 " rows older than %" PRId64 " days",
	    *removed, retention_ms / 86400000);
	rc = vh_audit_record(db, &a, "audit_trim", "audit", "", why, err);
	free(why);
	return (rc);
}

int
vh_audit_list(PGconn *db, const struct vh_audit_filter *f, json_t **rows,
    int64_t *next, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;
	json_t			*a;
	int			 n;

	*rows = NULL;
	*next = 0;
	vh_db_params_init(&p);
	vh_db_params_str(&p, f->actor);
	vh_db_params_str(&p, f->action);
	vh_db_params_str(&p, f->object_type);
	vh_db_params_str(&p, f->object_id);
	vh_db_params_str(&p, f->since);
	vh_db_params_str(&p, f->until);
	if (f->before > 0)
		vh_db_params_int(&p, f->before);
	else
		vh_db_params_str(&p, NULL);
	/* One row more than asked says whether another page follows. */
	vh_db_params_int(&p, f->limit + 1);
	vh_db_params_str(&p, f->entry);
	/* PQexecParams itself, not vh_db_exec: a date the database cannot
	 * read (SQLSTATE class 22) is the caller's mistake, not an outage. */
	r = PQexecParams(db, "SELECT id, to_char(at AT TIME ZONE 'UTC',"
	    " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), account_id, actor,"
	    " actor_role, action, object_type, object_id, reason, client_addr,"
	    " request_id FROM audit"
	    " WHERE ($1::text IS NULL OR actor = $1)"
	    " AND ($2::text IS NULL OR action = $2)"
	    " AND ($3::text IS NULL OR object_type = $3)"
	    " AND ($4::text IS NULL OR object_id = $4)"
	    " AND ($5::timestamptz IS NULL OR at >= $5)"
	    " AND ($6::timestamptz IS NULL OR at < $6)"
	    " AND ($7::bigint IS NULL OR id < $7)"
	    " AND ($9::bigint IS NULL OR (object_type = 'entry' AND object_id ="
	    " $9::bigint::text) OR (object_type = 'media' AND object_id IN"
	    " (SELECT id::text FROM media WHERE entry_id = $9::bigint)))"
	    " ORDER BY id DESC LIMIT $8::int", p.n, NULL, p.v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = strncmp(vh_db_sqlstate(r), "22", 2) == 0 ? VH_EINVAL :
		    VH_EDB;

		/* The database's text would quote the value back. */
		*err = rc == VH_EINVAL ? vh_xstrdup("since and until must be "
		    "dates or times of the calendar, such as 2026-05-01 or "
		    "2026-05-01T14:30:00Z") : vh_xstrdup(r != NULL ?
		    PQresultErrorMessage(r) : PQerrorMessage(db));
		(*err)[strcspn(*err, "\n")] = '\0';
		PQclear(r);
		return (rc);
	}
	a = json_array();
	n = PQntuples(r);
	for (int i = 0; i < n && i < f->limit; i++) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
		    " s:s, s:s}",
		    "id", (json_int_t)strtoll(PQgetvalue(r, i, 0), NULL, 10),
		    "at", PQgetvalue(r, i, 1),
		    "actor", PQgetvalue(r, i, 3),
		    "role", PQgetvalue(r, i, 4),
		    "action", PQgetvalue(r, i, 5),
		    "object_type", PQgetvalue(r, i, 6),
		    "object_id", PQgetvalue(r, i, 7),
		    "reason", PQgetvalue(r, i, 8),
		    "client_addr", PQgetvalue(r, i, 9),
		    "request_id", PQgetvalue(r, i, 10));

		json_object_set_new(o, "account_id", PQgetisnull(r, i, 2) ?
		    json_null() : json_integer(strtoll(PQgetvalue(r, i, 2),
		    NULL, 10)));
		json_array_append_new(a, o);
	}
	if (n > f->limit)
		*next = strtoll(PQgetvalue(r, f->limit - 1, 0), NULL, 10);
	PQclear(r);
	*rows = a;
	return (0);
}

int
vh_audit_parse_time(const char *s, time_t now, char out[40])
{
	int64_t		 ms;
	time_t		 t;
	struct tm	 tm;
	size_t		 n = strlen(s);

	if (vh_parse_duration_ms(s, &ms) == 0 && strspn(s, "0123456789") < n) {
		t = now - (time_t)(ms / 1000);
		gmtime_r(&t, &tm);
		strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return (0);
	}
	/* A date: the database reads it; only its shape is checked here. */
	if (n < 10 || n > 35 || strspn(s, "0123456789") != 4 || s[4] != '-' ||
	    strspn(s, "0123456789-:T .+Z") != n)
		return (VH_EINVAL);
	snprintf(out, 40, "%s", s);
	return (0);
}

/* A row written from the loop thread's side: an owned job for the pool. */
struct submit_job {
	struct vh_audit_actor	 actor;
	char			*action, *type, *id, *reason;
};

static void
submit_work(struct vh_worker *w, void *arg)
{
	struct submit_job	*j = arg;
	PGconn			*db;
	char			*err = NULL;

	if ((db = vh_worker_db(w, &err)) == NULL ||
	    vh_audit_record(db, &j->actor, j->action, j->type, j->id,
	    j->reason, &err) != 0)
		vh_log_warnx("audit: %s %s was not recorded: %s", j->action,
		    j->reason != NULL ? j->reason : "", err != NULL ? err : "");
	free(err);
}

static void
submit_done(void *arg)
{
	struct submit_job *j = arg;

	free(j->action);
	free(j->type);
	free(j->id);
	free(j->reason);
	free(j);
}

void
vh_audit_submit(struct vh_pool *pool, const struct vh_audit_actor *a,
    const char *action, const char *object_type, const char *object_id,
    const char *reason)
{
	struct submit_job *j = vh_xcalloc(1, sizeof *j);

	j->actor = *a;
	j->action = vh_xstrdup(action);
	j->type = object_type != NULL ? vh_xstrdup(object_type) : NULL;
	j->id = object_id != NULL ? vh_xstrdup(object_id) : NULL;
	j->reason = reason != NULL ? vh_xstrdup(reason) : NULL;
	vh_pool_submit(pool, submit_work, submit_done, j);
}
