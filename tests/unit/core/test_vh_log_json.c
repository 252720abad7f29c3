/* The JSON log sink: one object per line; quotes, backslashes, control
 * bytes and bytes that are not UTF-8 never break the JSON; the request id
 * comes out of a leading "req=ID ". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vh_log.h"
#include "vh_unused.h"

/* What the sink writes for line, without the time member. */
static char *
sink_output(enum vh_log_level l, const char *line)
{
	static char	 buf[16384];
	FILE		*f = tmpfile();
	int		 saved = dup(STDERR_FILENO);
	size_t		 n;
	char		*p;

	assert_non_null(f);
	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	vh_log_json_sink(l, line, NULL);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	/* {"time":"2026-12-01T20:18:57.371Z", is 36 bytes. */
	assert_true(n > 36);
	assert_memory_equal(buf, "{\"time\":\"", 9);
	assert_memory_equal(buf + 32, "Z\",", 3);
	p = buf + 35;
	return (p);
}

static void
test_plain(void **state VH_UNUSED)
{
	assert_string_equal(sink_output(VH_LOG_INFO, "listening on http://127.0.0.1:8080/"),
	    "\"level\":\"info\",\"message\":\"listening on http://127.0.0.1:8080/\"}\n");
}

static void
test_request_id(void **state VH_UNUSED)
{
	assert_string_equal(sink_output(VH_LOG_WARN,
	    "req=ab12.x-9 127.0.0.1 \"GET /\" 200"),
	    "\"level\":\"warn\",\"request_id\":\"ab12.x-9\",\"message\":"
	    "\"127.0.0.1 \\\"GET /\\\" 200\"}\n");
	/* No id without the space after it, or with an empty one. */
	assert_string_equal(sink_output(VH_LOG_INFO, "req="),
	    "\"level\":\"info\",\"message\":\"req=\"}\n");
	assert_string_equal(sink_output(VH_LOG_INFO, "req= x"),
	    "\"level\":\"info\",\"message\":\"req= x\"}\n");
}

static void
test_escapes(void **state VH_UNUSED)
{
	/* Control bytes, backslash, DEL; é and € are valid UTF-8 and kept;
	 * a lone continuation byte, an overlong "/", a surrogate and a cut
	 * sequence are not and become U+FFFD. */
	assert_string_equal(sink_output(VH_LOG_ERROR,
	    "a\nb\tc\x01\\d\x7f \xc3\xa9\xe2\x82\xac \x80 \xc0\xaf \xed\xa0\x80 \xe2\x82"),
	    "\"level\":\"error\",\"message\":\"a\\u000ab\\u0009c\\u0001\\\\d\\u007f "
	    "\xc3\xa9\xe2\x82\xac \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd "
	    "\\ufffd\\ufffd\"}\n");
}

static void
test_format_names(void **state VH_UNUSED)
{
	enum vh_log_format f;

	assert_int_equal(vh_log_format_parse("JSON", &f), 0);
	assert_int_equal(f, VH_LOG_JSON);
	assert_int_equal(vh_log_format_parse("text", &f), 0);
	assert_int_equal(f, VH_LOG_TEXT);
	assert_int_not_equal(vh_log_format_parse("xml", &f), 0);
	assert_string_equal(vh_log_format_name(VH_LOG_JSON), "json");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_request_id),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_format_names),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
