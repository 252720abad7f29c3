#ifndef VH_AUTH_H
#define VH_AUTH_H
/* Who is calling: roles, API tokens and collection upload links. Secrets
 * are random, shown once, and stored only as their SHA-256. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

enum vh_role {
	VH_ROLE_NONE = 0,
	VH_ROLE_RESIDENT = 1 << 0,	/* through a collection's upload link */
	VH_ROLE_FIELDWORKER = 1 << 1,
	VH_ROLE_ANALYST = 1 << 2,
	VH_ROLE_MODERATOR = 1 << 3,
	VH_ROLE_ADMIN = 1 << 4,
};
#define VH_ROLES_ACCOUNTS (VH_ROLE_FIELDWORKER | VH_ROLE_ANALYST | \
	    VH_ROLE_MODERATOR | VH_ROLE_ADMIN)

/* How a principal proved who it is. */
enum vh_via {
	VH_VIA_NONE = 0,
	VH_VIA_TOKEN,			/* Authorization: Bearer */
	VH_VIA_SESSION,			/* the session cookie of a login */
	VH_VIA_LINK,			/* a collection's upload link */
};

struct vh_principal {
	unsigned	role;		/* one vh_role bit, or NONE */
	enum vh_via	via;
	int64_t		account_id;	/* 0 for residents */
	char		name[65];
	int64_t		collection_id;	/* residents: the link's collection */
	char		collection[65];
	char		session_expires[40]; /* VH_VIA_SESSION: ISO 8601 UTC */
};

#define VH_SECRET_LEN 48	/* "vh_" + 43 base64url characters + NUL */

/* A new random secret ("vh_…") and its hash. */
void	vh_auth_secret_new(char out[VH_SECRET_LEN], uint8_t hash[32]);
void	vh_auth_hash(const char *secret, uint8_t hash[32]);
/* The hash as PostgreSQL bytea text ("\\x…"), for query parameters. */
void	vh_auth_hash_sql(const uint8_t hash[32], char out[67]);
/*
 * XORs n (at most 64) bytes of in with a keystream made from secret
 * (SHA-256 of a counter and the secret), into out: sealing and opening
 * are the same call. For a receipt kept for one device only.
 */
void	vh_auth_seal(const char *secret, const uint8_t *in, size_t n,
	    uint8_t *out);

int	vh_role_parse(const char *, unsigned *) __attribute__((warn_unused_result));
const char *vh_role_name(unsigned);

/*
 * Blocking lookups, for worker threads. VH_ENOENT when the token is
 * unknown, revoked, expired or its account disabled (or the slug and
 * secret do not match); VH_EDB with *err set when the database failed.
 * A found token has its last use recorded.
 */
int	vh_auth_lookup_token(PGconn *, const char *token, struct vh_principal *,
	    char **err) __attribute__((warn_unused_result));
/*
 * The lookup of a token of any kind: runs sql with the SHA-256 of token as
 * $1 (bytea text) and, when one row comes back, fills p from its first
 * three columns (account id, name, role) as a token principal. 0, VH_ENOENT
 * (no row, or a role this build does not know), or VH_EDB with *err. With
 * rp, *rp gets the result for its further columns (caller PQclears; NULL
 * on VH_EDB).
 */
int	vh_auth_token_query(PGconn *, const char *sql, const char *token,
	    struct vh_principal *, PGresult **rp, char **err)
	    __attribute__((warn_unused_result));
int	vh_auth_lookup_link(PGconn *, const char *slug, const char *secret,
	    struct vh_principal *, char **err) __attribute__((warn_unused_result));

#endif
