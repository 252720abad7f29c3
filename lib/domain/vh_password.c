/*
 * Passwords. Argon2id from Debian's libargon2, with a 16-byte random salt
 * and a 32-byte tag, kept as the PHC string that carries its own costs.
 * Raising the constants in vh_password.h makes new hashes stronger, and
 * vh_password_needs_rehash() lets a login upgrade an old one.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <argon2.h>

#include "vh_error.h"
#include "vh_log.h"
#include "vh_password.h"
#include "vh_xmalloc.h"

#define SALT_LEN	16
#define TAG_LEN		32

int
vh_password_check(const char *pw, const char **why)
{
	size_t n = strlen(pw);

	if (n < VH_PASSWORD_MIN) {
		*why = "a password needs at least 12 characters";
		return (VH_EINVAL);
	}
	if (n > VH_PASSWORD_MAX) {
		*why = "a password may have at most 1024 characters";
		return (VH_EINVAL);
	}
	for (size_t i = 0; i < n; i++) {
		/* Control characters are typing accidents (a pasted newline). */
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f) {
			*why = "a password may not hold control characters";
			return (VH_EINVAL);
		}
	}
	return (0);
}

char *
vh_password_hash(const char *pw)
{
	uint8_t		 salt[SALT_LEN];
	size_t		 len;
	char		*out;
	const char	*why;
	int		 rc;

	if (vh_password_check(pw, &why) != 0)
		return (NULL);
	if (getrandom(salt, sizeof salt, 0) != (ssize_t)sizeof salt)
		vh_fatal("getrandom");
	len = argon2_encodedlen(VH_ARGON2_T_COST, VH_ARGON2_M_COST,
	    VH_ARGON2_LANES, SALT_LEN, TAG_LEN, Argon2_id);
	out = vh_xmalloc(len);
	rc = argon2id_hash_encoded(VH_ARGON2_T_COST, VH_ARGON2_M_COST,
	    VH_ARGON2_LANES, pw, strlen(pw), salt, sizeof salt, TAG_LEN, out,
	    len);
	if (rc != ARGON2_OK)	/* only memory exhaustion gets here */
		vh_fatal("argon2id: %s", argon2_error_message(rc));
	return (out);
}

int
vh_password_verify(const char *encoded, const char *pw)
{
	int rc;

	if (encoded == NULL || strncmp(encoded, "$argon2id$", 10) != 0)
		return (VH_EINVAL);
	rc = argon2id_verify(encoded, pw, strlen(pw));
	if (rc == ARGON2_OK)
		return (0);
	if (rc == ARGON2_VERIFY_MISMATCH)
		return (VH_ENOENT);
	return (VH_EINVAL);
}

/* A hash of nobody's password, made once per process: read-only after
 * pthread_once, so workers share it without a lock. */
static pthread_once_t	 dummy_once = PTHREAD_ONCE_INIT;
static char		*dummy_hash;

static void
dummy_init(void)
{
	dummy_hash = vh_password_hash("not the password of anyone at all");
}

void
vh_password_verify_dummy(const char *pw)
{
	int rc;

	pthread_once(&dummy_once, dummy_init);
	rc = vh_password_verify(dummy_hash, pw);
	(void)rc;	/* only the time spent matters */
}

bool
vh_password_needs_rehash(const char *encoded)
{
	unsigned m, t, p;

	if (encoded == NULL || sscanf(encoded, "$argon2id$v=19$m=%u,t=%u,p=%u",
	    &m, &t, &p) != 3)
		return (true);
	return (m < VH_ARGON2_M_COST || t < VH_ARGON2_T_COST);
}
