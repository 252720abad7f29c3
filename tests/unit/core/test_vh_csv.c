/* CSV reader: quoting, BOM, CRLF, delimiter detection, line numbers of
 * records spanning lines, blank lines, limits, and streaming through a
 * FILE in windows smaller than the input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_csv.h"
#include "vh_unused.h"
#include "vh_error.h"

static struct vh_csv *
mem(const char *s)
{
	return (vh_csv_new_mem(s, strlen(s), 0));
}

static void
test_quoting(void **state VH_UNUSED)
{
	struct vh_csv *csv = mem("a,\"b,c\",\"say \"\"hi\"\"\",,\"\"\n");

	assert_int_equal(vh_csv_read(csv), 1);
	assert_int_equal(vh_csv_nfields(csv), 5);
	assert_string_equal(vh_csv_field(csv, 0), "a");
	assert_string_equal(vh_csv_field(csv, 1), "b,c");
	assert_string_equal(vh_csv_field(csv, 2), "say \"hi\"");
	assert_string_equal(vh_csv_field(csv, 3), "");
	assert_string_equal(vh_csv_field(csv, 4), "");
	assert_int_equal(vh_csv_read(csv), 0);
	vh_csv_free(csv);
}

static void
test_bom_semicolon_crlf(void **state VH_UNUSED)
{
	struct vh_csv *csv = mem("\xef\xbb\xbf\"Wijken\";\"a,b\";\"x\"\r\n"
	    "\"Utrecht\";\"   1.0\";\".\"\r\n");

	assert_int_equal(vh_csv_read(csv), 1);
	assert_int_equal(vh_csv_delimiter(csv), ';');
	assert_int_equal(vh_csv_nfields(csv), 3);
	assert_string_equal(vh_csv_field(csv, 0), "Wijken");
	assert_string_equal(vh_csv_field(csv, 1), "a,b");
	assert_int_equal(vh_csv_read(csv), 1);
	assert_string_equal(vh_csv_field(csv, 1), "   1.0");
	assert_string_equal(vh_csv_field(csv, 2), ".");
	assert_int_equal(vh_csv_line(csv), 2);
	assert_int_equal(vh_csv_read(csv), 0);
	vh_csv_free(csv);
}

static void
test_unquoted_crlf(void **state VH_UNUSED)
{
	struct vh_csv *csv = mem("a,b\r\nc,d\r\n");

	assert_int_equal(vh_csv_read(csv), 1);
	assert_string_equal(vh_csv_field(csv, 1), "b");
	assert_int_equal(vh_csv_read(csv), 1);
	assert_string_equal(vh_csv_field(csv, 0), "c");
	assert_string_equal(vh_csv_field(csv, 1), "d");
	vh_csv_free(csv);
}

/* The CBS code list has descriptions over several lines (CR CR LF). */
static void
test_embedded_newlines(void **state VH_UNUSED)
{
	struct vh_csv *csv = mem("Key,Title\n"
	    "\"1.1.1\",\"A20 x\r\r\nA30 y\r\r\n\"\n"
	    "\n"
	    "\"2\",\"two\"\n");

	assert_int_equal(vh_csv_read(csv), 1);
	assert_int_equal(vh_csv_line(csv), 1);
	assert_int_equal(vh_csv_read(csv), 1);
	assert_int_equal(vh_csv_line(csv), 2);
	assert_string_equal(vh_csv_field(csv, 1), "A20 x\r\r\nA30 y\r\r\n");
	/* Two lines in the quoted field, one blank line: record on line 6. */
	assert_int_equal(vh_csv_read(csv), 1);
	assert_int_equal(vh_csv_line(csv), 6);
	assert_string_equal(vh_csv_field(csv, 1), "two");
	assert_int_equal(vh_csv_read(csv), 0);
	vh_csv_free(csv);
}

static void
test_no_final_newline(void **state VH_UNUSED)
{
	struct vh_csv *csv = mem("a,b\nc,");

	assert_int_equal(vh_csv_read(csv), 1);
	assert_int_equal(vh_csv_read(csv), 1);
	assert_int_equal(vh_csv_nfields(csv), 2);
	assert_string_equal(vh_csv_field(csv, 1), "");
	assert_int_equal(vh_csv_read(csv), 0);
	vh_csv_free(csv);
}

static void
expect_error_n(const char *text, size_t len, size_t line, const char *reason)
{
	struct vh_csv	*csv = vh_csv_new_mem(text, len, 0);
	int		 rc;

	while ((rc = vh_csv_read(csv)) == 1)
		;
	assert_int_equal(rc, VH_EINVAL);
	assert_int_equal(vh_csv_error_line(csv), line);
	if (strstr(vh_csv_error(csv), reason) == NULL)
		fail_msg("got '%s', want '%s'", vh_csv_error(csv), reason);
	/* Errors are sticky. */
	assert_int_equal(vh_csv_read(csv), VH_EINVAL);
	vh_csv_free(csv);
}

static void
expect_error(const char *text, size_t line, const char *reason)
{
	expect_error_n(text, strlen(text), line, reason);
}

static void
test_errors(void **state VH_UNUSED)
{
	expect_error("a,b\n\"open\nstill\n", 2, "opened on line 2");
	expect_error("a,b\n\"x\"y,z\n", 2, "after the closing quote");
	expect_error_n("a,b\nx\0y,z\n", 10, 2, "NUL");
}

static void
test_limits(void **state VH_UNUSED)
{
	size_t	 n = VH_CSV_MAX_FIELD + 10;
	char	*big = malloc(n + 16);
	char	*many = malloc(4 * (VH_CSV_MAX_FIELDS + 2));
	char	*p;

	/* Exactly the limit is fine, one more byte is not. */
	memset(big, 'x', VH_CSV_MAX_FIELD);
	strcpy(big + VH_CSV_MAX_FIELD, "\n");
	{
		struct vh_csv *csv = mem(big);

		assert_int_equal(vh_csv_read(csv), 1);
		assert_int_equal(vh_csv_field_len(csv, 0), VH_CSV_MAX_FIELD);
		vh_csv_free(csv);
	}
	memset(big, 'x', n);
	strcpy(big + n, "\n");
	expect_error(big, 1, "longer than");
	big[0] = '"';
	strcpy(big + n, "\"\n");
	expect_error(big, 1, "longer than");

	p = many;
	for (int i = 0; i < VH_CSV_MAX_FIELDS; i++)
		p += sprintf(p, "%s1", i > 0 ? "," : "");
	strcpy(p, "\n");
	{
		struct vh_csv *csv = mem(many);

		assert_int_equal(vh_csv_read(csv), 1);
		assert_int_equal(vh_csv_nfields(csv), VH_CSV_MAX_FIELDS);
		vh_csv_free(csv);
	}
	strcpy(p, ",1\n");
	expect_error(many, 1, "more than 1024 fields");
	/* Empty fields still take their terminators' room. */
	memset(many, ';', VH_CSV_MAX_FIELDS - 1);
	strcpy(many + VH_CSV_MAX_FIELDS - 1, "\n");
	{
		struct vh_csv *csv = mem(many);

		assert_int_equal(vh_csv_read(csv), 1);
		assert_int_equal(vh_csv_nfields(csv), VH_CSV_MAX_FIELDS);
		assert_string_equal(vh_csv_field(csv, VH_CSV_MAX_FIELDS - 1), "");
		vh_csv_free(csv);
	}
	free(big);
	free(many);
}

/* A file larger than the reader's window, records straddling refills. */
static void
test_file_streaming(void **state VH_UNUSED)
{
	FILE		*f = tmpfile();
	struct vh_csv	*csv;
	size_t		 n = 0;

	assert_non_null(f);
	fputs("\xef\xbb\xbfid;text\n", f);
	for (int i = 0; i < 20000; i++)
		fprintf(f, "%d;\"line %d\r\nsecond; half\"\r\n", i, i);
	rewind(f);
	csv = vh_csv_new_file(f, 0);
	assert_int_equal(vh_csv_read(csv), 1);
	assert_string_equal(vh_csv_field(csv, 0), "id");
	while (vh_csv_read(csv) == 1) {
		char	want[64];

		snprintf(want, sizeof want, "line %zu\r\nsecond; half", n);
		assert_string_equal(vh_csv_field(csv, 1), want);
		assert_int_equal(vh_csv_line(csv), 2 + 2 * n);
		n++;
	}
	assert_int_equal(n, 20000);
	vh_csv_free(csv);
	fclose(f);
}

static void
test_explicit_delimiter(void **state VH_UNUSED)
{
	struct vh_csv *csv = vh_csv_new_mem("a;b,c\n", 6, ',');

	assert_int_equal(vh_csv_read(csv), 1);
	assert_int_equal(vh_csv_nfields(csv), 2);
	assert_string_equal(vh_csv_field(csv, 0), "a;b");
	vh_csv_free(csv);
	vh_csv_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_bom_semicolon_crlf),
		cmocka_unit_test(test_unquoted_crlf),
		cmocka_unit_test(test_embedded_newlines),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_file_streaming),
		cmocka_unit_test(test_explicit_delimiter),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
