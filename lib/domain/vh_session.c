/*
 * Sessions. The cookie carries a 256-bit random id; the database keeps its
 * SHA-256 (a read of the session table yields no usable cookie) and that
 * of the CSRF token handed out at login. A lookup is one UPDATE … RETURNING
 * that checks expiry, idleness and the account in one statement, and
 * compares the CSRF token's hash there too, so the token never needs to be
 * kept in clear anywhere on the server.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_db.h"
#include "vh_error.h"
#include "vh_session.h"
#include "vh_xmalloc.h"

char *
vh_cookie_get(const char *header, const char *name)
{
	const char	*p = header, *eq, *end;
	size_t		 nlen = strlen(name), vlen;

	if (header == NULL)
		return (NULL);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		end = p + strcspn(p, ";");
		eq = memchr(p, '=', end - p);
		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    strncmp(p, name, nlen) == 0) {
			eq++;
			vlen = end - eq;
			while (vlen > 0 && (eq[vlen - 1] == ' ' ||
			    eq[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && eq[0] == '"' && eq[vlen - 1] == '"') {
				eq++;
				vlen -= 2;
			}
			return (vlen > 0 ? vh_xstrndup(eq, vlen) : NULL);
		}
		p = end;
	}
	return (NULL);
}

char *
vh_cookie_session(const char *value, int64_t max_age_s, bool secure)
{
	return (vh_xasprintf("%s=%s; Path=/api/; Max-Age=%" PRId64
	    "; HttpOnly; SameSite=Strict%s", VH_SESSION_COOKIE, value,
	    max_age_s, secure ? "; Secure" : ""));
}

void
vh_session_addr_key(const char *addr, char *out, size_t outlen)
{
	struct in6_addr	a6;
	struct in_addr	a4;
	const uint8_t	*b = a6.s6_addr;
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (inet_pton(AF_INET, addr, &a4) == 1) {
		inet_ntop(AF_INET, &a4, out, outlen);
		return;
	}
	if (inet_pton(AF_INET6, addr, &a6) != 1) {
		snprintf(out, outlen, "%s", "");
		return;
	}
	if (memcmp(b, mapped, sizeof mapped) == 0) {
		snprintf(out, outlen, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
		return;
	}
	snprintf(out, outlen, "%x:%x:%x:%x::/64", b[0] << 8 | b[1],
	    b[2] << 8 | b[3], b[4] << 8 | b[5], b[6] << 8 | b[7]);
}

int
vh_session_create(PGconn *db, int64_t account_id, int64_t lifetime_ms,
    char id[VH_SECRET_LEN], char csrf[VH_SECRET_LEN], char **err)
{
	uint8_t		 ih[32], ch[32];
	char		 ihs[67], chs[67], acct[24], life[40];
	const char	*params[4] = { ihs, acct, chs, life };
	PGresult	*r;

	vh_auth_secret_new(id, ih);
	vh_auth_secret_new(csrf, ch);
	vh_auth_hash_sql(ih, ihs);
	vh_auth_hash_sql(ch, chs);
	snprintf(acct, sizeof acct, "%" PRId64, account_id);
	snprintf(life, sizeof life, "%" PRId64 " milliseconds", lifetime_ms);
	r = vh_db_exec(db, "INSERT INTO session (id_hash, account_id, csrf_hash,"
	    " expires_at) VALUES ($1, $2, $3, now() + $4::interval)", 4,
	    params, err);
	if (r == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

int
vh_session_lookup(PGconn *db, const char *id, const char *csrf,
    int64_t idle_ms, struct vh_principal *p, bool *csrf_ok, char **err)
{
	uint8_t		 ih[32], ch[32];
	char		 ihs[67], chs[67], idle[40];
	const char	*params[3] = { ihs, NULL, idle };
	PGresult	*r;
	int		 rc = VH_ENOENT;

	memset(p, 0, sizeof *p);
	*csrf_ok = false;
	vh_auth_hash(id, ih);
	vh_auth_hash_sql(ih, ihs);
	if (csrf != NULL) {
		vh_auth_hash(csrf, ch);
		vh_auth_hash_sql(ch, chs);
		params[1] = chs;
	}
	snprintf(idle, sizeof idle, "%" PRId64 " milliseconds", idle_ms);
	r = vh_db_exec(db,
	    "UPDATE session s SET last_seen_at = now() FROM account a"
	    " WHERE s.id_hash = $1 AND a.id = s.account_id AND NOT a.disabled"
	    " AND s.expires_at > now() AND s.last_seen_at > now() - $3::interval"
	    " RETURNING a.id, a.name, a.role, coalesce(s.csrf_hash = $2, false),"
	    " to_char(s.expires_at AT TIME ZONE 'UTC',"
	    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", 3, params, err);
	if (r == NULL)
		return (VH_EDB);
	if (PQntuples(r) == 1 &&
	    vh_role_parse(PQgetvalue(r, 0, 2), &p->role) == 0) {
		p->account_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		snprintf(p->name, sizeof p->name, "%s", PQgetvalue(r, 0, 1));
		p->via = VH_VIA_SESSION;
		*csrf_ok = strcmp(PQgetvalue(r, 0, 3), "t") == 0;
		snprintf(p->session_expires, sizeof p->session_expires, "%s",
		    PQgetvalue(r, 0, 4));
		rc = 0;
	}
	PQclear(r);
	return (rc);
}

int
vh_session_delete(PGconn *db, const char *id, char **err)
{
	uint8_t		 ih[32];
	char		 ihs[67];
	const char	*params[1] = { ihs };
	PGresult	*r;
	int		 rc;

	vh_auth_hash(id, ih);
	vh_auth_hash_sql(ih, ihs);
	r = vh_db_exec(db, "DELETE FROM session WHERE id_hash = $1", 1, params,
	    err);
	if (r == NULL)
		return (VH_EDB);
	rc = strcmp(PQcmdTuples(r), "0") == 0 ? VH_ENOENT : 0;
	PQclear(r);
	return (rc);
}
