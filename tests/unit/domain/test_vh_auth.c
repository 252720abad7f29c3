/*
 * Secrets: a receipt sealed for one device (schema/0019) opens with that
 * device's secret only, and the sealed bytes do not show the code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vh_auth.h"

static void
test_seal_round_trip(void **state)
{
	char		 code[VH_SECRET_LEN], opened[VH_SECRET_LEN];
	uint8_t		 hash[32], sealed[64];
	size_t		 n;

	(void)state;
	vh_auth_secret_new(code, hash);
	n = strlen(code);
	vh_auth_seal("device-secret-of-one-browser-0123", (const uint8_t *)code,
	    n, sealed);
	assert_memory_not_equal(sealed, code, n);
	vh_auth_seal("device-secret-of-one-browser-0123", sealed, n,
	    (uint8_t *)opened);
	opened[n] = '\0';
	assert_string_equal(opened, code);
	/* Another device's secret opens something else. */
	vh_auth_seal("device-secret-of-another-browser-9", sealed, n,
	    (uint8_t *)opened);
	assert_memory_not_equal(opened, code, n);
}

static void
test_seal_keystream_covers_64(void **state)
{
	uint8_t	zero[64] = { 0 }, a[64], b[64];

	(void)state;
	/* Both halves of the keystream are used and differ. */
	vh_auth_seal("some device secret 0000", zero, 64, a);
	assert_memory_not_equal(a, a + 32, 32);
	vh_auth_seal("some device secret 0001", zero, 64, b);
	assert_memory_not_equal(a, b, 64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_round_trip),
		cmocka_unit_test(test_seal_keystream_covers_64),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
