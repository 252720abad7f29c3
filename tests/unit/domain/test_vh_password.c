/* Passwords: the policy, Argon2id hashes that verify, mismatch, and the
 * PHC string carrying the configured costs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "vh_error.h"
#include "vh_unused.h"
#include "vh_password.h"

static void
test_policy(void **state VH_UNUSED)
{
	const char	*why = NULL;
	char		 big[VH_PASSWORD_MAX + 2];

	assert_int_equal(vh_password_check("short", &why), VH_EINVAL);
	assert_non_null(why);
	assert_int_equal(vh_password_check("twelve chars", &why), 0);
	assert_int_equal(vh_password_check("with a newline\n", &why), VH_EINVAL);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(vh_password_check(big, &why), VH_EINVAL);
	big[VH_PASSWORD_MAX] = '\0';
	assert_int_equal(vh_password_check(big, &why), 0);
	assert_null(vh_password_hash("short"));
}

static void
test_hash_verify(void **state VH_UNUSED)
{
	char		*h = vh_password_hash("correct horse battery");
	char		*h2 = vh_password_hash("correct horse battery");
	char		 prefix[64];
	struct timespec	 a, b;

	assert_non_null(h);
	snprintf(prefix, sizeof prefix, "$argon2id$v=19$m=%d,t=%d,p=%d$",
	    VH_ARGON2_M_COST, VH_ARGON2_T_COST, VH_ARGON2_LANES);
	assert_memory_equal(h, prefix, strlen(prefix));
	/* A fresh salt each time. */
	assert_string_not_equal(h, h2);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(vh_password_verify(h, "correct horse battery"), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message("argon2id verify: %.1f ms\n",
	    (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
	assert_int_equal(vh_password_verify(h2, "correct horse battery"), 0);
	assert_int_equal(vh_password_verify(h, "correct horse batterY"),
	    VH_ENOENT);
	assert_int_equal(vh_password_verify(h, ""), VH_ENOENT);
	assert_false(vh_password_needs_rehash(h));
	free(h);
	free(h2);
}

static void
test_malformed_and_old(void **state VH_UNUSED)
{
	/* A hash of another scheme or none at all is not a match. */
	assert_int_equal(vh_password_verify(NULL, "x"), VH_EINVAL);
	assert_int_equal(vh_password_verify("$2b$12$abcdefghijklmnopqrstuv",
	    "x"), VH_EINVAL);
	assert_int_equal(vh_password_verify("$argon2id$v=19$m=19456,t=2,p=1$"
	    "garbage", "x"), VH_EINVAL);
	/* Weaker costs than today's ask for a new hash. */
	assert_true(vh_password_needs_rehash("$argon2id$v=19$m=4096,t=3,p=1$"
	    "c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"));
	assert_true(vh_password_needs_rehash("$argon2i$v=19$m=65536,t=3,p=1$x$y"));
	vh_password_verify_dummy("anything at all");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_malformed_and_old),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
