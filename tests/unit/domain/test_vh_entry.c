/* Entries: the field checks of vh_entry_validate for a position (lat and
 * lon, issue 11) and for what residents and staff may send. What needs
 * the database (areas, themes, the buurt of a point) is tested end to end
 * in tests/e2e/privacy_review.test.mjs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_auth.h"
#include "vh_entry.h"
#include "vh_error.h"

/* vh_entry_validate's answer for text as a field worker's entry; *why
 * gets the detail (caller frees) or NULL. */
static int
check(const char *text, char **why)
{
	struct vh_principal	 fw = { .role = VH_ROLE_FIELDWORKER,
				    .account_id = 7 };
	json_t			*j = json_loads(text, 0, NULL);
	int			 rc;

	assert_non_null(j);
	*why = NULL;
	rc = vh_entry_validate(j, &fw, why);
	assert_true(rc == 0 ? *why == NULL : *why != NULL);
	json_decref(j);
	return (rc);
}

static void
test_position(void **state)
{
	char	*why;

	(void)state;
	assert_int_equal(check("{\"kind\":\"visit\",\"lat\":52.09,"
	    "\"lon\":5.12}", &why), 0);
	/* Whole degrees are numbers too. */
	assert_int_equal(check("{\"kind\":\"visit\",\"lat\":52,\"lon\":5}",
	    &why), 0);
	assert_int_equal(check("{\"kind\":\"visit\",\"lat\":52.09}", &why),
	    VH_EINVAL);
	assert_non_null(strstr(why, "go together"));
	free(why);
	assert_int_equal(check("{\"kind\":\"visit\",\"lat\":91,\"lon\":5}",
	    &why), VH_EINVAL);
	assert_non_null(strstr(why, "'lat' must be a number of degrees"));
	free(why);
	assert_int_equal(check("{\"kind\":\"visit\",\"lat\":52,\"lon\":-181}",
	    &why), VH_EINVAL);
	assert_non_null(strstr(why, "'lon'"));
	free(why);
	assert_int_equal(check("{\"kind\":\"visit\",\"lat\":\"52\",\"lon\":5}",
	    &why), VH_EINVAL);
	free(why);
	assert_int_equal(check("{\"kind\":\"visit\",\"lat\":52,\"lon\":5,"
	    "\"area\":\"BU03440111\"}", &why), VH_EINVAL);
	assert_non_null(strstr(why, "not both"));
	free(why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_position),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
