/*
 * Credentials. API tokens and upload-link secrets are 32 random bytes,
 * base64url-encoded behind a "vh_" prefix; the database keeps only their
 * SHA-256, which is enough for secrets of that entropy (unlike passwords,
 * they need no slow hash) and lets a lookup use the unique index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "vh_auth.h"
#include "vh_base64.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

static const struct {
	unsigned	 role;
	const char	*name;
} roles[] = {
	{ VH_ROLE_RESIDENT, "resident" },
	{ VH_ROLE_FIELDWORKER, "fieldworker" },
	{ VH_ROLE_ANALYST, "analyst" },
	{ VH_ROLE_MODERATOR, "moderator" },
	{ VH_ROLE_ADMIN, "admin" },
};

void
vh_auth_hash(const char *secret, uint8_t hash[32])
{
	unsigned int n = 32;

	if (EVP_Digest(secret, strlen(secret), hash, &n, EVP_sha256(), NULL) != 1)
		vh_fatal("EVP_Digest");
}

void
vh_auth_seal(const char *secret, const uint8_t *in, size_t n, uint8_t *out)
{
	uint8_t		 ks[64];
	EVP_MD_CTX	*ctx;
	unsigned int	 len;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		vh_fatal("EVP_MD_CTX_new");
	for (int i = 0; i < 2; i++) {
		uint8_t block = (uint8_t)('1' + i);

		len = 32;
		if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
		    EVP_DigestUpdate(ctx, "verhaal receipt ", 16) != 1 ||
		    EVP_DigestUpdate(ctx, &block, 1) != 1 ||
		    EVP_DigestUpdate(ctx, secret, strlen(secret)) != 1 ||
		    EVP_DigestFinal_ex(ctx, ks + 32 * i, &len) != 1)
			vh_fatal("EVP_Digest");
	}
	EVP_MD_CTX_free(ctx);
	for (size_t i = 0; i < n && i < sizeof ks; i++)
		out[i] = in[i] ^ ks[i];
}

void
vh_auth_secret_new(char out[VH_SECRET_LEN], uint8_t hash[32])
{
	uint8_t	 raw[32];
	char	*enc;

	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		vh_fatal("getrandom");
	enc = vh_base64url_encode(raw, sizeof raw);
	snprintf(out, VH_SECRET_LEN, "vh_%s", enc);
	free(enc);
	vh_auth_hash(out, hash);
}

void
vh_auth_hash_sql(const uint8_t hash[32], char out[67])
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	out[1] = 'x';
	for (int i = 0; i < 32; i++) {
		out[2 + 2 * i] = hex[hash[i] >> 4];
		out[3 + 2 * i] = hex[hash[i] & 15];
	}
	out[66] = '\0';
}

int
vh_role_parse(const char *s, unsigned *role)
{
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
		if (strcmp(s, roles[i].name) == 0) {
			*role = roles[i].role;
			return (0);
		}
	}
	return (VH_EINVAL);
}

const char *
vh_role_name(unsigned role)
{
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
		if (roles[i].role == role)
			return (roles[i].name);
	return ("none");
}

int
vh_auth_token_query(PGconn *db, const char *sql, const char *token,
    struct vh_principal *p, PGresult **rp, char **err)
{
	uint8_t		 hash[32];
	char		 h[67];
	const char	*params[1] = { h };
	PGresult	*r;
	int		 rc = VH_ENOENT;

	memset(p, 0, sizeof *p);
	if (rp != NULL)
		*rp = NULL;
	vh_auth_hash(token, hash);
	vh_auth_hash_sql(hash, h);
	if ((r = vh_db_exec(db, sql, 1, params, err)) == NULL)
		return (VH_EDB);
	if (PQntuples(r) == 1) {
		p->account_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		snprintf(p->name, sizeof p->name, "%s", PQgetvalue(r, 0, 1));
		p->via = VH_VIA_TOKEN;
		if (vh_role_parse(PQgetvalue(r, 0, 2), &p->role) == 0)
			rc = 0;
	}
	if (rp != NULL)
		*rp = r;
	else
		PQclear(r);
	return (rc);
}

int
vh_auth_lookup_token(PGconn *db, const char *token, struct vh_principal *p,
    char **err)
{
	PGresult	*r;
	int		 rc;

	rc = vh_auth_token_query(db,
	    "SELECT a.id, a.name, a.role, t.id, coalesce(t.last_used_at <"
	    " now() - interval '1 minute', true)"
	    " FROM api_token t JOIN account a ON a.id = t.account_id"
	    " WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT a.disabled"
	    /* ODK tokens travel in paths: they open only OpenRosa routes. */
	    " AND t.kind = 'api'"
	    " AND (t.expires_at IS NULL OR t.expires_at > now())", token, p, &r,
	    err);
	/* Last use to the minute: a write per request would cost a commit,
	 * and so a WAL flush, on every upload. */
	if (rc == 0 && strcmp(PQgetvalue(r, 0, 4), "t") == 0) {
		const char *id[1] = { PQgetvalue(r, 0, 3) };
		PGresult *u = vh_db_exec(db, "UPDATE api_token SET"
		    " last_used_at = now() WHERE id = $1", 1, id, NULL);

		PQclear(u);
	}
	PQclear(r);
	return (rc);
}

int
vh_auth_lookup_link(PGconn *db, const char *slug, const char *secret,
    struct vh_principal *p, char **err)
{
	uint8_t		 hash[32];
	char		 h[67];
	const char	*params[2] = { slug, h };
	PGresult	*r;
	int		 rc = VH_ENOENT;

	memset(p, 0, sizeof *p);
	vh_auth_hash(secret, hash);
	vh_auth_hash_sql(hash, h);
	r = vh_db_exec(db, "SELECT id FROM collection WHERE slug = $1"
	    " AND upload_secret_hash = $2", 2, params, err);
	if (r == NULL)
		return (VH_EDB);
	if (PQntuples(r) == 1) {
		p->role = VH_ROLE_RESIDENT;
		p->via = VH_VIA_LINK;
		p->collection_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		snprintf(p->collection, sizeof p->collection, "%s", slug);
		snprintf(p->name, sizeof p->name, "resident");
		rc = 0;
	}
	PQclear(r);
	return (rc);
}
