/* Text redaction by character ranges (code points, not bytes), span
 * validation, and mute-range parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_error.h"
#include "vh_redact.h"

static char *
redact(const char *text, const char *spans_json, int *rc)
{
	json_t			*j = json_loads(spans_json, 0, NULL);
	struct vh_redact_span	*s = NULL;
	size_t			 n = 0;
	char			*out = NULL, *why = NULL;

	assert_non_null(j);
	if ((*rc = vh_redact_spans_parse(j, &s, &n, &why)) == 0)
		*rc = vh_redact_text(text, s, n, &out, &why);
	assert_true(*rc == 0 ? why == NULL : why != NULL);
	free(why);
	free(s);
	json_decref(j);
	return (out);
}

static void
test_text(void **state)
{
	char	*out;
	int	 rc;

	(void)state;
	out = redact("Ik ben Jan de Vries uit de Zonstraat 12.",
	    "[{\"start\":27,\"end\":39,\"replacement\":\"[adres]\"},"
	    "{\"start\":7,\"end\":19}]", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "Ik ben [\u2026] uit de [adres].");
	free(out);
	/* Offsets count characters: "é" and "€" are one each. */
	out = redact("Café € 5 bij Anneké", "[{\"start\":13,\"end\":19}]", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "Café € 5 bij [\u2026]");
	free(out);
	out = redact("abc", "[{\"start\":0,\"end\":3,\"replacement\":\"\"}]",
	    &rc);
	assert_string_equal(out, "");
	free(out);
	/* Past the end, overlapping, empty, negative, bad replacement. */
	assert_null(redact("abc", "[{\"start\":2,\"end\":4}]", &rc));
	assert_int_equal(rc, VH_EINVAL);
	assert_null(redact("abc", "[{\"start\":5,\"end\":6}]", &rc));
	assert_null(redact("abcdef", "[{\"start\":0,\"end\":3},"
	    "{\"start\":2,\"end\":4}]", &rc));
	assert_null(redact("abc", "[{\"start\":1,\"end\":1}]", &rc));
	assert_null(redact("abc", "[{\"start\":-1,\"end\":1}]", &rc));
	assert_null(redact("abc", "[{\"start\":0,\"end\":1,"
	    "\"replacement\":\"a\\nb\"}]", &rc));
	assert_null(redact("abc", "{}", &rc));
}

static void
test_ranges(void **state)
{
	struct vh_audio_range	*r = NULL;
	size_t			 n;
	char			*why = NULL;
	json_t			*j;

	(void)state;
	j = json_loads("[[0,500],[1500,2000]]", 0, NULL);
	assert_int_equal(vh_redact_ranges_parse(j, &r, &n, &why), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[1].start_ms, 1500);
	assert_int_equal(r[1].end_ms, 2000);
	free(r);
	json_decref(j);
	j = json_loads("[[500,500]]", 0, NULL);
	assert_int_equal(vh_redact_ranges_parse(j, &r, &n, &why), VH_EINVAL);
	free(why);
	json_decref(j);
	j = json_loads("[]", 0, NULL);
	why = NULL;
	assert_int_equal(vh_redact_ranges_parse(j, &r, &n, &why), VH_EINVAL);
	free(why);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_ranges),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
