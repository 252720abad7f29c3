/* ODK Collect's settings payload: zlib-compressed JSON in base64 that
 * inflates to {"general":{"server_url"},"admin":{},"project":{"name"}};
 * the server URL with the token in its path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <zlib.h>

#include "vh_base64.h"
#include "vh_unused.h"
#include "vh_odk.h"

static void
test_server_url(void **state VH_UNUSED)
{
	char *u = vh_odk_server_url("https://verhaal.example.nl//", "vh_abc");

	assert_string_equal(u, "https://verhaal.example.nl/odk/key/vh_abc");
	free(u);
}

static void
test_settings(void **state VH_UNUSED)
{
	char		*b64 = vh_odk_settings("https://v.example/odk/key/vh_x",
			    "verhaal");
	uint8_t		*z = NULL;
	size_t		 zn;
	char		 json[1024];
	uLongf		 n = sizeof json - 1;
	json_t		*o;
	json_error_t	 jerr;

	assert_int_equal(vh_base64_decode_alloc(b64, strlen(b64), &z, &zn), 0);
	assert_int_equal(uncompress((Bytef *)json, &n, z, zn), Z_OK);
	json[n] = '\0';
	o = json_loads(json, 0, &jerr);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o,
	    "general"), "server_url")), "https://v.example/odk/key/vh_x");
	assert_true(json_is_object(json_object_get(o, "admin")));
	assert_int_equal(json_object_size(json_object_get(o, "admin")), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o,
	    "project"), "name")), "verhaal");
	json_decref(o);
	free(z);
	free(b64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_url),
		cmocka_unit_test(test_settings),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
