/*
 * Audit rows. Writing is one INSERT on the caller's connection; listing is
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
#include "vh_error.h"
#include "vh_http.h"
#include "vh_xmalloc.h"

void
vh_audit_actor_from(struct vh_audit_actor *a, struct vh_http_req *req,
    const struct vh_principal *who)
{
	memset(a, 0, sizeof *a);
	if (who == NULL || who->role == VH_ROLE_NONE)
		snprintf(a->name, sizeof a->name, "anonymous");
	else {
		a->account_id = who->account_id;
		snprintf(a->name, sizeof a->name, "%s", who->name);
		snprintf(a->role, sizeof a->role, "%s", vh_role_name(who->role));
	}
	snprintf(a->addr, sizeof a->addr, "%s", vh_http_req_client(req));
	snprintf(a->request_id, sizeof a->request_id, "%s", vh_http_req_id(req));
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

int
vh_audit_record(PGconn *db, const struct vh_audit_actor *a,
    const char *action, const char *object_type, const char *object_id,
    const char *reason, char **err)
{
	char		 acct[24];
	const char	*params[9];
	PGresult	*r;

	if (object_type == NULL)
		object_type = "";
	if (!vh_audit_word_ok(action, 0) || !vh_audit_word_ok(object_type, 1)) {
		*err = vh_xasprintf("bad audit action '%s' or object '%s'",
		    action, object_type);
		return (VH_EINVAL);
	}
	snprintf(acct, sizeof acct, "%" PRId64, a->account_id);
	params[0] = a->account_id != 0 ? acct : NULL;
	params[1] = a->name;
	params[2] = a->role;
	params[3] = action;
	params[4] = object_type;
	params[5] = object_id != NULL ? object_id : "";
	params[6] = reason != NULL ? reason : "";
	params[7] = a->addr;
	params[8] = a->request_id;
	r = vh_db_exec(db, "INSERT INTO audit (account_id, actor, actor_role,"
	    " action, object_type, object_id, reason, client_addr, request_id)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", 9, params, err);
	if (r == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

int
vh_audit_list(PGconn *db, const struct vh_audit_filter *f, json_t **rows,
    int64_t *next, char **err)
{
	char		 before[24], limit[16];
	const char	*params[8];
	PGresult	*r;
	json_t		*a;
	int		 n;

	*rows = NULL;
	*next = 0;
	snprintf(before, sizeof before, "%" PRId64, f->before);
	/* One row more than asked says whether another page follows. */
	snprintf(limit, sizeof limit, "%d", f->limit + 1);
	params[0] = f->actor;
	params[1] = f->action;
	params[2] = f->object_type;
	params[3] = f->object_id;
	params[4] = f->since;
	params[5] = f->until;
	params[6] = f->before > 0 ? before : NULL;
	params[7] = limit;
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
	    " ORDER BY id DESC LIMIT $8::int", 8, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = strncmp(vh_db_sqlstate(r), "22", 2) == 0 ? VH_EINVAL :
		    VH_EDB;

		*err = vh_xstrdup(r != NULL ? PQresultErrorMessage(r) :
		    PQerrorMessage(db));
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
