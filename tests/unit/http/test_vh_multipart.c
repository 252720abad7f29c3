/* multipart/form-data: the boundary parameter, part headers (names,
 * quoted and RFC 5987 filenames, directories stripped), identical callback
 * output for every way of splitting a body, and each malformation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_error.h"
#include "vh_unused.h"
#include "vh_multipart.h"

/* Callbacks write a transcript: B(name|filename|type) data... E */
struct log {
	char	 buf[8192];
	size_t	 len;
	int	 fail_on;	/* 'B', 'D' or 'E': that callback returns -77 */
};

static void
append(struct log *l, const char *s, size_t n)
{
	assert_true(l->len + n < sizeof l->buf);
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

static int
on_begin(void *arg, const struct vh_multipart_part *p)
{
	struct log	*l = arg;
	char		 tmp[512];
	int		 n;

	n = snprintf(tmp, sizeof tmp, "B(%s|%s|%s)", p->name,
	    p->filename ? p->filename : "-",
	    p->content_type ? p->content_type : "-");
	append(l, tmp, (size_t)n);
	return (l->fail_on == 'B' ? -77 : 0);
}

static int
on_data(void *arg, const char *data, size_t len)
{
	struct log	*l = arg;

	assert_true(len > 0);
	append(l, data, len);
	return (l->fail_on == 'D' ? -77 : 0);
}

static int
on_end(void *arg)
{
	struct log	*l = arg;

	append(l, "E", 1);
	/* A positive return is not an error. */
	return (l->fail_on == 'E' ? -77 : 1);
}

static const struct vh_multipart_cbs cbs = { on_begin, on_data, on_end };

/* Feeds body in pieces cut at the given positions; returns the first
 * error or finish's result. */
static int
run(const char *boundary, const char *body, size_t len, const size_t *cuts,
    size_t ncuts, struct log *l)
{
	struct vh_multipart *m;
	size_t		 at = 0;
	int		 r = 0;

	l->len = 0;
	l->buf[0] = '\0';
	m = vh_multipart_new(boundary, &cbs, l);
	assert_non_null(m);
	for (size_t i = 0; i <= ncuts && r == 0; i++) {
		size_t	 to = i < ncuts ? cuts[i] : len;

		r = vh_multipart_feed(m, body + at, to - at);
		at = to;
	}
	if (r == 0)
		r = vh_multipart_finish(m);
	vh_multipart_free(m);
	return (r);
}

#define BND	"----vh4-x'()+_,./:=?"

static const char good_body[] =
    "preamble, ignored\r\n--" "----vh4-x'()+_,./:=\r\n"
    "--" BND "  \t\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "Het verhaal\r\nvan de Oudegracht\r\n"
    "--" BND "\r\n"
    "content-disposition: FORM-DATA; filename=\"a \\\"quoted\\\" name.ogg\";"
    " name=audio\r\n"
    "Content-Type:  audio/ogg \r\n"
    "X-Ignored: yes\r\n"
    "\r\n"
    "\r\n-\r\n--\r\n--" "----vh4-x\r\r\n--" "----vh4-x'()+_,./:=x\0\xff"
    "\r\n--" BND "\r\n"
    "Content-Disposition: form-data; name=\"photo\"; "
    "filename=\"C:\\Users\\Anna\\foto.jpg\"\r\n"
    "\r\n"
    "\r\n--" BND "\r\n"
    "Content-Disposition: form-data; name=\"f\"; filename=\"plain.txt\"; "
    "filename*=UTF-8''%E2%82%AC%20rates.txt\r\n"
    "\r\n"
    "x"
    "\r\n--" BND "--\r\n"
    "epilogue: \r\n--" BND "\r\ngarbage";

static const char good_log[] =
    "B(title|-|-)Het verhaal\r\nvan de Oudegracht" "E"
    "B(audio|a \"quoted\" name.ogg|audio/ogg)"
    "\r\n-\r\n--\r\n--" "----vh4-x\r\r\n--" "----vh4-x'()+_,./:=x\0\xff" "E"
    "B(photo|foto.jpg|-)E"
    "B(f|\xe2\x82\xac rates.txt|-)xE";

static void
test_every_split(void **state VH_UNUSED)
{
	struct log	 l;
	size_t		 len = sizeof good_body - 1, cuts[2];

	memset(&l, 0, sizeof l);
	assert_int_equal(run(BND, good_body, len, NULL, 0, &l), 0);
	assert_int_equal(l.len, sizeof good_log - 1);
	assert_memory_equal(l.buf, good_log, l.len);
	for (size_t i = 0; i <= len; i++) {
		cuts[0] = i;
		assert_int_equal(run(BND, good_body, len, cuts, 1, &l), 0);
		assert_int_equal(l.len, sizeof good_log - 1);
		assert_memory_equal(l.buf, good_log, l.len);
	}
	/* Two cuts, a boundary's length apart, catch splits mid-delimiter. */
	for (size_t i = 0; i + 24 <= len; i++) {
		cuts[0] = i;
		cuts[1] = i + 24;
		assert_int_equal(run(BND, good_body, len, cuts, 2, &l), 0);
		assert_memory_equal(l.buf, good_log, l.len);
	}
}

static void
test_byte_at_a_time(void **state VH_UNUSED)
{
	static size_t	 cuts[sizeof good_body];
	struct log	 l;
	size_t		 len = sizeof good_body - 1;

	for (size_t i = 0; i < len; i++)
		cuts[i] = i + 1;
	memset(&l, 0, sizeof l);
	assert_int_equal(run(BND, good_body, len, cuts, len - 1, &l), 0);
	assert_int_equal(l.len, sizeof good_log - 1);
	assert_memory_equal(l.buf, good_log, l.len);
}

static void
test_boundary(void **state VH_UNUSED)
{
	char	*b;
	char	 ct[200];

	assert_int_equal(vh_multipart_boundary(
	    "multipart/form-data; boundary=abc", &b), 0);
	assert_string_equal(b, "abc");
	free(b);
	assert_int_equal(vh_multipart_boundary(
	    "Multipart/Form-Data ;charset=utf-8;  BOUNDARY=\"a b=c?\" ;", &b),
	    0);
	assert_string_equal(b, "a b=c?");
	free(b);
	assert_int_equal(vh_multipart_boundary(
	    "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk", &b),
	    0);
	assert_string_equal(b, "----WebKitFormBoundary7MA4YWxk");
	free(b);
	memset(ct, 0, sizeof ct);
	strcpy(ct, "multipart/form-data; boundary=");
	memset(ct + strlen(ct), 'b', 70);
	assert_int_equal(vh_multipart_boundary(ct, &b), 0);
	assert_int_equal(strlen(b), 70);
	free(b);

	static const char *bad[] = {
		"multipart/mixed; boundary=abc",
		"text/plain; boundary=abc",
		"multipart/form-data",
		"multipart/form-data;",
		"multipart/form-data; charset=utf-8",
		"multipart/form-data; boundary=",
		"multipart/form-data; boundary=\"\"",
		"multipart/form-data; boundary=\"abc \"",
		"multipart/form-data; boundary=\"abc",
		"multipart/form-data; boundary=a;b",
		"multipart/form-data; boundary=ab\"c",
		"multipart/form-data; boundary=\"a\x01\"",
		"multipart/form-data; boundary=\"a*b\"",
		"multipart/form-data; boundary=a; boundary=a",
		"multipart/form-data boundary=abc",
		"multipart/form-data; boundary=abc junk",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		b = (char *)1;
		if (vh_multipart_boundary(bad[i], &b) != VH_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_null(b);
	}
	ct[strlen(ct)] = 'b';
	assert_int_equal(vh_multipart_boundary(ct, &b), VH_EINVAL);
	assert_null(vh_multipart_new("", &cbs, NULL));
	assert_null(vh_multipart_new("a\rb", &cbs, NULL));
	vh_multipart_free(NULL);
}

static int
run_one(const char *body, size_t len, struct log *l)
{
	return (run("b", body, len, NULL, 0, l));
}

#define PART(h, data)	"--b\r\n" h "\r\n\r\n" data "\r\n"

static void
expect_log(const char *body, const char *want)
{
	struct log	 l;

	memset(&l, 0, sizeof l);
	if (run_one(body, strlen(body), &l) != 0)
		fail_msg("'%s' rejected", body);
	assert_string_equal(l.buf, want);
}

static void
test_filenames(void **state VH_UNUSED)
{
	expect_log(PART("Content-Disposition: form-data; name=a; "
	    "filename=\"../../etc/passwd\"", "") "--b--",
	    "B(a|passwd|-)E");
	expect_log(PART("Content-Disposition: form-data; name=a; "
	    "filename=\"dir/..\"", "") "--b--", "B(a||-)E");
	expect_log(PART("Content-Disposition: form-data; name=a; "
	    "filename=\"\"", "") "--b--", "B(a||-)E");
	expect_log(PART("Content-Disposition: form-data; name=a; "
	    "filename=\"x\\\\y\"", "") "--b--", "B(a|y|-)E");
	expect_log(PART("Content-Disposition: form-data; name=a; "
	    "filename*=utf-8'nl'a%2Fb%5Cc.txt", "") "--b--", "B(a|c.txt|-)E");
	/* A charset other than UTF-8 falls back to filename. */
	expect_log(PART("Content-Disposition: form-data; name=a; "
	    "filename*=iso-8859-1''%E9.txt; filename=e.txt", "") "--b--",
	    "B(a|e.txt|-)E");
	expect_log(PART("Content-Disposition: form-data; name=\"\"", "v")
	    "--b--", "B(|-|-)vE");
	/* No parts at all, and a body starting straight at the delimiter. */
	expect_log("--b--", "");
	expect_log("--b--\r\n", "");
}

static void
expect_invalid(const char *body, size_t len)
{
	struct log	 l;
	size_t		 cut;

	memset(&l, 0, sizeof l);
	if (run_one(body, len, &l) != VH_EINVAL)
		fail_msg("'%s' accepted", body);
	/* Also when cut anywhere. */
	for (cut = 0; cut <= len; cut++)
		if (run("b", body, len, &cut, 1, &l) != VH_EINVAL)
			fail_msg("'%s' cut at %zu accepted", body, cut);
}

#define INVALID(s)	expect_invalid(s, sizeof(s) - 1)

static void
test_malformed(void **state VH_UNUSED)
{
	static char	 big[20000];
	size_t		 n;

	INVALID("");					/* never closed */
	INVALID("no delimiter at all");
	INVALID(PART("Content-Disposition: form-data; name=a", "x"));
	INVALID(PART("Content-Type: text/plain", "x") "--b--");
	INVALID("--b\r\n\r\nx\r\n--b--");		/* no headers */
	INVALID(PART("Content-Disposition: attachment; name=a", "") "--b--");
	INVALID(PART("Content-Disposition: form-data", "") "--b--");
	INVALID(PART("Content-Disposition: form-data; filename=a", "")
	    "--b--");
	INVALID(PART("Content-Disposition: form-data; name=a; name=b", "")
	    "--b--");
	INVALID(PART("Content-Disposition: form-data; name=a\r\n"
	    "Content-Disposition: form-data; name=b", "") "--b--");
	INVALID(PART("Content-Disposition: form-data; name=\"a", "") "--b--");
	INVALID(PART("Content-Disposition: form-data; name=a b", "")
	    "--b--");
	INVALID(PART("Content-Disposition: form-data;\r\n name=a", "")
	    "--b--");
	INVALID(PART("Content-Disposition : form-data; name=a", "") "--b--");
	INVALID(PART("Content-Disposition: form-data; name=a\r\nX:\x01", "")
	    "--b--");
	INVALID(PART("Content-Disposition: form-data; name=a; "
	    "filename*=UTF-8''%zz", "") "--b--");
	INVALID(PART("Content-Disposition: form-data; name=a; "
	    "filename*=UTF-8''a%00b", "") "--b--");
	INVALID(PART("Content-Disposition: form-data; name=a; "
	    "filename*=UTF-8''a%0Ab", "") "--b--");
	INVALID(PART("Content-Disposition: form-data; name=a; "
	    "filename*=nocharset", "") "--b--");
	INVALID("--b\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--b--");
	INVALID("--b x\r\n");				/* garbage after it */
	INVALID("--b-\r\n");
	INVALID("--b \t-");
	INVALID("--bb\r\n");
	INVALID("--b\r\nContent-Disposition: form-data; name=a\0\r\n\r\n");
	/* The boundary inside content, followed by junk. */
	INVALID(PART("Content-Disposition: form-data; name=a", "x\r\n--bX"));

	/* A 16 KiB header block is too big. */
	n = (size_t)snprintf(big, sizeof big,
	    "--b\r\nContent-Disposition: form-data; name=a\r\nX: ");
	memset(big + n, 'v', 16 * 1024);
	n += 16 * 1024;
	memcpy(big + n, "\r\n\r\n\r\n--b--", 11);
	expect_invalid(big, n + 11);
}

static void
test_callback_errors(void **state VH_UNUSED)
{
	const char	*body = PART("Content-Disposition: form-data; name=a",
	    "data") "--b--";
	const char	*modes = "BDE";
	struct log	 l;
	struct vh_multipart *m;

	for (int i = 0; i < 3; i++) {
		memset(&l, 0, sizeof l);
		l.fail_on = modes[i];
		assert_int_equal(run_one(body, strlen(body), &l), -77);
	}
	/* Failed parsers stay failed. */
	memset(&l, 0, sizeof l);
	l.fail_on = 'B';
	m = vh_multipart_new("b", &cbs, &l);
	assert_int_equal(vh_multipart_feed(m, body, strlen(body)), -77);
	assert_int_equal(vh_multipart_feed(m, "--b--", 5), VH_EINVAL);
	assert_int_equal(vh_multipart_finish(m), VH_EINVAL);
	vh_multipart_free(m);
	/* Callbacks left NULL are skipped. */
	{
		struct vh_multipart_cbs none = { NULL, NULL, NULL };

		m = vh_multipart_new("b", &none, NULL);
		assert_int_equal(vh_multipart_feed(m, body, strlen(body)), 0);
		assert_int_equal(vh_multipart_finish(m), 0);
		vh_multipart_free(m);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_boundary),
		cmocka_unit_test(test_filenames),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_callback_errors),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
