#ifndef VH_AUDIT_H
#define VH_AUDIT_H
/*
 * The audit trail: who read, played, exported, redacted or deleted what,
 * when, from where and why. A handler fills a vh_audit_actor on the loop
 * thread (it copies what it needs from the request), hands it to its
 * worker job by value, and the job calls vh_audit_record() on its own
 * connection, before the access it records is served:
 *
 *	vh_audit_actor_from(&j->actor, req, who);	(loop thread, vh_api.h)
 *	…
 *	if (vh_audit_record(db, &j->actor, "read", "media", id, reason,
 *	    &err) != 0)					(worker)
 *		→ 503, and do not serve
 *
 * Actions are the short lowercase words of the one list in vh_audit.c
 * (vh_audit_actions; verhaalctl audit --actions prints it).
 */
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "vh_auth.h"

struct vh_audit_actor {
	int64_t	account_id;	/* 0 when no account acted */
	char	name[65];	/* account name, "resident", "anonymous", "verhaalctl" */
	char	role[16];	/* "" when none */
	char	addr[64];	/* client address, "" when local */
	char	request_id[65];
};

/* An actor: its principal (NULL or role NONE: anonymous), its client
 * address and request id (either may be NULL for ""). The api layer's
 * vh_audit_actor_from() fills these from a request. */
void	vh_audit_actor_set(struct vh_audit_actor *, const struct vh_principal *,
	    const char *addr, const char *request_id);
/* An actor for a local tool or job ("verhaalctl", "system"). */
void	vh_audit_actor_local(struct vh_audit_actor *, const char *name);

/*
 * Writes one audit row, chained by hash in the database (for a daily
 * action, none when this person has one for the object today);
 * object_type, object_id and reason may be NULL. Blocking. 0, VH_EINVAL
 * for an action not in the list (vh_audit_actions) or a bad object type, or
 * VH_EDB with *err set (caller frees).
 */
int	vh_audit_record(PGconn *, const struct vh_audit_actor *,
	    const char *action, const char *object_type, const char *object_id,
	    const char *reason, char **err) __attribute__((warn_unused_result));

/* One audited action: the list is the table in vh_audit.c. */
struct vh_audit_action {
	const char	*name;
	const char	*objects;	/* the object types it names */
	int		 daily;		/* one row per person, object and day */
	const char	*what;		/* for people: what it records */
};

/* The list of audited actions (static), n set to its length. */
const struct vh_audit_action *vh_audit_actions(size_t *n);
/* The action named, or NULL when it is not audited. */
const struct vh_audit_action *vh_audit_action_find(const char *);

/*
 * Loop thread: records a row on a worker, for events that have no worker
 * job of their own (a configuration reload). A failure is logged.
 */
struct vh_pool;
void	vh_audit_submit(struct vh_pool *, const struct vh_audit_actor *,
	    const char *action, const char *object_type, const char *object_id,
	    const char *reason);

/* What vh_audit_verify() found. */
struct vh_audit_check {
	int	ok;
	int64_t	rows;
	int64_t	bad_id, bad_seq;	/* the first bad row; 0 when ok */
	char	problem[160];
};

/* Walks the hash chain in the database. Blocking. 0 (see out->ok) or
 * VH_EDB with *err set (caller frees). */
int	vh_audit_verify(PGconn *, struct vh_audit_check *out, char **err)
	    __attribute__((warn_unused_result));

/* Removes rows older than retention_ms (0: keep all), leaving the anchor
 * the chain goes on from, and records that it did. Blocking. 0, or VH_EDB
 * with *err set (caller frees). */
int	vh_audit_trim(PGconn *, int64_t retention_ms, int64_t *removed,
	    char **err) __attribute__((warn_unused_result));

/* Which rows vh_audit_list() returns; NULL fields do not filter. */
struct vh_audit_filter {
	const char	*actor;
	const char	*action;
	const char	*object_type;
	const char	*object_id;
	const char	*entry;		/* rows about this entry or its files */
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
