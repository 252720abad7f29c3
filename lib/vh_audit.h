#ifndef VH_AUDIT_H
#define VH_AUDIT_H
/*
 * The audit trail: who read, played, exported, redacted or deleted what,
 * when, from where and why. A handler fills a vh_audit_actor on the loop
 * thread (it copies what it needs from the request), hands it to its
 * worker job by value, and the job calls vh_audit_record() on its own
 * connection, before the access it records is served:
 *
 *	vh_audit_actor_from(&j->actor, req, who);	(loop thread)
 *	…
 *	if (vh_audit_record(db, &j->actor, "read", "media", id, reason,
 *	    &err) != 0)					(worker)
 *		→ 503, and do not serve
 *
 * Actions are short lowercase words: read, play, export, redact, delete,
 * login, login_failed, logout, publish, reject, withdraw, purge, …
 */
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "vh_auth.h"

struct vh_http_req;

struct vh_audit_actor {
	int64_t	account_id;	/* 0 when no account acted */
	char	name[65];	/* account name, "resident", "anonymous", "verhaalctl" */
	char	role[16];	/* "" when none */
	char	addr[64];	/* client address, "" when local */
	char	request_id[65];
};

/* The actor of a request: its principal (NULL or role NONE: anonymous),
 * its client address and request id. Loop thread. */
void	vh_audit_actor_from(struct vh_audit_actor *, struct vh_http_req *,
	    const struct vh_principal *);
/* An actor for a local tool or job ("verhaalctl", "system"). */
void	vh_audit_actor_local(struct vh_audit_actor *, const char *name);

/*
 * Writes one audit row; object_type, object_id and reason may be NULL.
 * Blocking. 0, VH_EINVAL for a malformed action or object type, or
 * VH_EDB with *err set (caller frees).
 */
int	vh_audit_record(PGconn *, const struct vh_audit_actor *,
	    const char *action, const char *object_type, const char *object_id,
	    const char *reason, char **err) __attribute__((warn_unused_result));

/* Which rows vh_audit_list() returns; NULL fields do not filter. */
struct vh_audit_filter {
	const char	*actor;
	const char	*action;
	const char	*object_type;
	const char	*object_id;
	const char	*since;		/* ISO 8601 time, inclusive */
	const char	*until;		/* exclusive */
	int64_t		 before;	/* keyset: only ids below this; 0 none */
	int		 limit;		/* 1..1000 */
};

/*
 * The rows matching f, newest first, as a JSON array (caller decrefs).
 * *next is the id to pass as before for the next page, or 0 at the end.
 * 0, VH_EINVAL (a time the database cannot read, *err says), or VH_EDB.
 */
int	vh_audit_list(PGconn *, const struct vh_audit_filter *, json_t **rows,
	    int64_t *next, char **err) __attribute__((warn_unused_result));

/*
 * Reads a time for a filter: an ISO 8601 date or time is kept as is, a
 * duration ("90m", "24h", "7d") means that long before now. Writes UTC
 * "YYYY-MM-DDTHH:MM:SSZ" or the input into out. VH_EINVAL otherwise.
 */
int	vh_audit_parse_time(const char *, time_t now, char out[40])
	    __attribute__((warn_unused_result));

/* True when s is a valid action word (also for object types, with
 * empty allowed there). */
int	vh_audit_word_ok(const char *s, int allow_empty);

#endif
