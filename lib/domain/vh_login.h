#ifndef VH_LOGIN_H
#define VH_LOGIN_H
/*
 * Password logins with throttling. Every attempt counts against the name
 * it tried and the address it came from, within a fixed window; past the
 * limit an attempt is refused before its password is even checked, so a
 * guesser learns nothing and costs no Argon2 time. A success clears the
 * name's count and takes its own attempt back off the address's.
 * Blocking: for worker threads.
 */
#include <stdint.h>

#include <libpq-fe.h>

#include "vh_auth.h"

struct vh_login_limits {
	int64_t	max_account;	/* attempts per account name per window */
	int64_t	max_address;	/* attempts per address (IPv6 /64) */
	int64_t	window_ms;
	int64_t	lifetime_ms;	/* of the session a success makes */
};

struct vh_login {
	struct vh_principal	who;
	char			session[VH_SECRET_LEN];	/* cookie value */
	char			csrf[VH_SECRET_LEN];
	int64_t			retry_after_s;		/* when throttled */
};

/*
 * Logs name in with password from client address addr. 0 with a new
 * session in *out; VH_ENOENT for a wrong name or password or a disabled
 * account (one answer for all three); VH_ETOOBIG when throttled, with
 * out->retry_after_s; VH_EDB with *err set.
 */
int	vh_login_attempt(PGconn *, const char *name, const char *password,
	    const char *addr, const struct vh_login_limits *,
	    struct vh_login *out, char **err) __attribute__((warn_unused_result));

#endif
