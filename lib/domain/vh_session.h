#ifndef VH_SESSION_H
#define VH_SESSION_H
/*
 * Browser sessions: the cookie (parsing the Cookie header, building the
 * Set-Cookie value), and the session rows. A session id and its CSRF
 * token are random secrets like API tokens (vh_auth.h), stored only as
 * their SHA-256. The blocking functions are for worker threads.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "vh_auth.h"

#define VH_SESSION_COOKIE	"vh_session"

/* The value of cookie name in a Cookie header (NULL-able), unquoted, or
 * NULL when absent or empty. The first of duplicate names wins. Caller
 * frees. */
char	*vh_cookie_get(const char *header, const char *name);

/* A Set-Cookie value for the session cookie: HttpOnly, SameSite=Strict,
 * Path=/api/, Max-Age=max_age_s (0 with an empty value ends it), Secure
 * when secure. Caller frees. */
char	*vh_cookie_session(const char *value, int64_t max_age_s, bool secure);

/* The key that login throttling counts an address under: an IPv4 address
 * as is (also when IPv4-mapped), an IPv6 address by its /64, since one
 * host usually holds a whole /64. Writes "" for an unparsable address. */
void	vh_session_addr_key(const char *addr, char *out, size_t outlen);

/*
 * Creates a session of account for lifetime_ms: id (the cookie value) and
 * csrf get fresh secrets. 0 or VH_EDB with *err set.
 */
int	vh_session_create(PGconn *, int64_t account_id, int64_t lifetime_ms,
	    char id[VH_SECRET_LEN], char csrf[VH_SECRET_LEN], char **err)
	    __attribute__((warn_unused_result));

/*
 * Looks up the session of cookie value id, alive (before its expiry, seen
 * within idle_ms) and of an enabled account, and records it as seen.
 * *csrf_ok says whether csrf (NULL-able) is the session's CSRF token.
 * 0, VH_ENOENT, or VH_EDB with *err set.
 */
int	vh_session_lookup(PGconn *, const char *id, const char *csrf,
	    int64_t idle_ms, struct vh_principal *, bool *csrf_ok, char **err)
	    __attribute__((warn_unused_result));

/* Ends the session of cookie value id. 0, VH_ENOENT or VH_EDB. */
int	vh_session_delete(PGconn *, const char *id, char **err)
	    __attribute__((warn_unused_result));

#endif
