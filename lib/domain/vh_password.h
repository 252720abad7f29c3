#ifndef VH_PASSWORD_H
#define VH_PASSWORD_H
/* Account passwords: a length policy, Argon2id hashing (libargon2) in the
 * PHC string format, and verification. Blocking: workers and verhaalctl. */
#include <stdbool.h>

#define VH_PASSWORD_MIN		12	/* characters (bytes) */
#define VH_PASSWORD_MAX		1024

/* Argon2id cost: OWASP's minimum (19 MiB, two passes, one lane). */
#define VH_ARGON2_T_COST	2
#define VH_ARGON2_M_COST	19456	/* KiB */
#define VH_ARGON2_LANES		1

/* 0 when pw may be a password; else VH_EINVAL with *why set (static). */
int	vh_password_check(const char *pw, const char **why)
	    __attribute__((warn_unused_result));

/* The "$argon2id$v=19$m=…,t=…,p=…$salt$hash" string of pw with a fresh
 * random salt (caller frees), or NULL when pw fails the policy. */
char	*vh_password_hash(const char *pw);

/*
 * 0 when pw matches encoded, VH_ENOENT when it does not, VH_EINVAL when
 * encoded is not an Argon2id string. The parameters come from encoded, so
 * hashes made with older costs still verify.
 */
int	vh_password_verify(const char *encoded, const char *pw)
	    __attribute__((warn_unused_result));

/* Spends the time of one verification without any account, so that an
 * unknown name answers no faster than a wrong password. */
void	vh_password_verify_dummy(const char *pw);

/* True when encoded was made with weaker costs than the current ones. */
bool	vh_password_needs_rehash(const char *encoded);

#endif
