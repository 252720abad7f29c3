/*
 * Logins. The attempt is counted first, in one upsert per key that also
 * starts a new window when the old one has passed, and only then is the
 * password checked: concurrent guesses cannot all slip in before their
 * failures are counted. Unknown names spend an Argon2 verification too,
 * so the time of an answer does not say whether a name exists.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_db.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_login.h"
#include "vh_password.h"
#include "vh_session.h"
#include "vh_xmalloc.h"

/* Counts one attempt for (scope, key); *over when past max, with the
 * seconds until the window ends in *retry. */
static int
count_attempt(PGconn *db, const char *scope, const char *key, int64_t max,
    int64_t window_ms, bool *over, int64_t *retry, char **err)
{
	char		 win[40];
	const char	*params[3] = { scope, key, win };
	PGresult	*r;

	snprintf(win, sizeof win, "%" PRId64 " milliseconds", window_ms);
	r = vh_db_exec(db, "INSERT INTO login_throttle AS t (scope, key,"
	    " failures) VALUES ($1, $2, 1) ON CONFLICT (scope, key) DO UPDATE SET"
	    " failures = CASE WHEN t.window_start <= now() - $3::interval"
	    " THEN 1 ELSE t.failures + 1 END,"
	    " window_start = CASE WHEN t.window_start <= now() - $3::interval"
	    " THEN now() ELSE t.window_start END"
	    " RETURNING failures, ceil(extract(epoch FROM"
	    " t.window_start + $3::interval - now()))::bigint", 3, params, err);
	if (r == NULL)
		return (VH_EDB);
	*over = strtoll(PQgetvalue(r, 0, 0), NULL, 10) > max;
	if (*over) {
		int64_t s = strtoll(PQgetvalue(r, 0, 1), NULL, 10);

		if (s < 1)
			s = 1;
		if (s > *retry)
			*retry = s;
	}
	PQclear(r);
	return (0);
}

static int
succeeded(PGconn *db, int64_t account_id, const char *name,
    const char *addrkey, char **err)
{
	struct vh_db_params	 p;
	const char		*params[2] = { name, addrkey };
	PGresult		*r;

	r = vh_db_exec(db, "WITH a AS (DELETE FROM login_throttle WHERE"
	    " scope = 'account' AND key = $1) UPDATE login_throttle SET"
	    " failures = greatest(failures - 1, 0) WHERE scope = 'address'"
	    " AND key = $2", 2, params, err);
	if (r == NULL)
		return (VH_EDB);
	PQclear(r);
	vh_db_params_init(&p);
	vh_db_params_int(&p, account_id);
	r = vh_db_exec(db, "UPDATE account SET last_login_at = now()"
	    " WHERE id = $1", p.n, p.v, err);
	if (r == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

/* A new hash with today's costs for a password that verified against an
 * older one. A failure only costs the upgrade. */
static void
rehash(PGconn *db, int64_t account_id, const char *password)
{
	struct vh_db_params	 p;
	char			*h, *err = NULL;
	PGresult		*r;

	if ((h = vh_password_hash(password)) == NULL)
		return;
	vh_db_params_init(&p);
	vh_db_params_int(&p, account_id);
	vh_db_params_str(&p, h);
	if ((r = vh_db_exec(db, "UPDATE account SET password_hash = $2"
	    " WHERE id = $1", p.n, p.v, &err)) == NULL) {
		vh_log_warnx("rehash of account %" PRId64 ": %s", account_id,
		    err);
		free(err);
	}
	PQclear(r);
	free(h);
}

/* Drops ended sessions and passed throttling windows. Logins are the
 * only writers of both tables, so sweeping here keeps them bounded
 * without a timer; a failure only postpones the sweep. */
static void
sweep(PGconn *db, const struct vh_login_limits *lim)
{
	char		 win[40], *err = NULL;
	const char	*params[1] = { win };
	PGresult	*r;

	snprintf(win, sizeof win, "%" PRId64 " milliseconds", lim->window_ms);
	r = vh_db_exec(db, "WITH s AS (DELETE FROM session WHERE expires_at"
	    " <= now()) DELETE FROM login_throttle WHERE window_start <="
	    " now() - $1::interval", 1, params, &err);
	if (r == NULL) {
		vh_log_warnx("login sweep: %s", err);
		free(err);
	}
	PQclear(r);
}

int
vh_login_attempt(PGconn *db, const char *name, const char *password,
    const char *addr, const struct vh_login_limits *lim,
    struct vh_login *out, char **err)
{
	char		 key[65], addrkey[64];
	const char	*params[1] = { key };
	PGresult	*r = NULL;
	bool		 over1 = false, over2 = false;
	int		 rc;

	memset(out, 0, sizeof *out);
	sweep(db, lim);
	/* Names are lowercase; count "Alice" and "alice" as one. */
	snprintf(key, sizeof key, "%s", name);
	for (char *p = key; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	vh_session_addr_key(addr, addrkey, sizeof addrkey);
	if ((rc = count_attempt(db, "account", key, lim->max_account,
	    lim->window_ms, &over1, &out->retry_after_s, err)) != 0 ||
	    (rc = count_attempt(db, "address", addrkey, lim->max_address,
	    lim->window_ms, &over2, &out->retry_after_s, err)) != 0)
		return (rc);
	if (over1 || over2)
		return (VH_ETOOBIG);

	r = vh_db_exec(db, "SELECT id, name, role, password_hash FROM account"
	    " WHERE name = $1 AND NOT disabled AND password_hash IS NOT NULL",
	    1, params, err);
	if (r == NULL)
		return (VH_EDB);
	if (PQntuples(r) != 1) {
		vh_password_verify_dummy(password);
		rc = VH_ENOENT;
		goto out;
	}
	if ((rc = vh_password_verify(PQgetvalue(r, 0, 3), password)) != 0) {
		rc = VH_ENOENT;
		goto out;
	}
	out->who.account_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	snprintf(out->who.name, sizeof out->who.name, "%s", PQgetvalue(r, 0, 1));
	if (vh_role_parse(PQgetvalue(r, 0, 2), &out->who.role) != 0) {
		rc = VH_ENOENT;
		goto out;
	}
	if (vh_password_needs_rehash(PQgetvalue(r, 0, 3)))
		rehash(db, out->who.account_id, password);
	if ((rc = succeeded(db, out->who.account_id, key, addrkey, err)) != 0)
		goto out;
	rc = vh_session_create(db, out->who.account_id, lim->lifetime_ms,
	    out->session, out->csrf, err);
out:
	PQclear(r);
	return (rc);
}
