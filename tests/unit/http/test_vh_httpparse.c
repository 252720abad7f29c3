/* HTTP/1.1 request heads: finding their end, every rule of the request
 * line and field lines, body framing and token lists. The chunked decoder
 * and target helpers have their own files, test_vh_chunked.c and
 * test_vh_httpurl.c, like lib/. */
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
#include "vh_httpparse.h"

static struct vh_http_head head;

static void
test_head_end(void **state VH_UNUSED)
{
	const char *crlf = "GET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT";
	const char *lf = "GET / HTTP/1.1\nHost: a\n\nNEXT";
	const char *mixed = "GET / HTTP/1.1\r\nHost: a\n\r\nNEXT";
	const char *blank = "\r\n\nGET / HTTP/1.0\r\n\r\n";

	assert_int_equal(vh_http_head_end(crlf, strlen(crlf)),
	    strlen(crlf) - 4);
	assert_int_equal(vh_http_head_end(lf, strlen(lf)), strlen(lf) - 4);
	assert_int_equal(vh_http_head_end(mixed, strlen(mixed)),
	    strlen(mixed) - 4);
	assert_int_equal(vh_http_head_end(blank, strlen(blank)),
	    strlen(blank));
	/* Every proper prefix is incomplete. */
	for (size_t i = 0; i < strlen(crlf) - 4; i++)
		assert_int_equal(vh_http_head_end(crlf, i), 0);
	for (size_t i = 0; i < strlen(blank); i++)
		assert_int_equal(vh_http_head_end(blank, i), 0);
	assert_int_equal(vh_http_head_end("\r\n\r\n\r\n", 6), 0);
	assert_int_equal(vh_http_head_end("GET / HTTP/1.1\r\r\n", 17), 0);
}

static int
parse(const char *s, const char **why)
{
	size_t	 end = vh_http_head_end(s, strlen(s));

	*why = NULL;
	return (vh_http_parse_head(s, end ? end : strlen(s), &head, why));
}

static void
test_parse_good(void **state VH_UNUSED)
{
	const char	*why;
	const char	*s = "\r\nPATCH /files/abc?x=1 HTTP/1.1\r\n"
	    "Host: example.org\r\n"
	    "Tus-Resumable:1.0.0\r\n"
	    "Empty:\r\n"
	    "X-Tabs: \t a\tb \t\r\n"
	    "X-Latin: caf\xe9\r\n"
	    "\r\n";

	assert_int_equal(parse(s, &why), 0);
	assert_null(why);
	assert_int_equal(head.method, VH_HTTP_PATCH);
	assert_int_equal(head.method_len, 5);
	assert_memory_equal(head.method_str, "PATCH", 5);
	assert_int_equal(head.target_len, 14);
	assert_memory_equal(head.target, "/files/abc?x=1", 14);
	assert_int_equal(head.version_minor, 1);
	assert_int_equal(head.nheaders, 5);
	assert_int_equal(head.headers[1].name_len, 13);
	assert_int_equal(head.headers[1].value_len, 5);
	assert_memory_equal(head.headers[1].value, "1.0.0", 5);
	assert_int_equal(head.headers[2].value_len, 0);
	assert_int_equal(head.headers[3].value_len, 3);
	assert_memory_equal(head.headers[3].value, "a\tb", 3);
	assert_int_equal(head.headers[4].value_len, 4);

	assert_int_equal(parse("OPTIONS * HTTP/1.0\n\n", &why), 0);
	assert_int_equal(head.method, VH_HTTP_OPTIONS);
	assert_int_equal(head.version_minor, 0);
	assert_int_equal(head.nheaders, 0);

	static const struct {
		const char		*line;
		enum vh_http_method	 m;
	} methods[] = {
		{ "GET / HTTP/1.1\r\n\r\n", VH_HTTP_GET },
		{ "HEAD / HTTP/1.1\r\n\r\n", VH_HTTP_HEAD },
		{ "POST / HTTP/1.1\r\n\r\n", VH_HTTP_POST },
		{ "PUT / HTTP/1.1\r\n\r\n", VH_HTTP_PUT },
		{ "DELETE / HTTP/1.1\r\n\r\n", VH_HTTP_DELETE },
		{ "get / HTTP/1.1\r\n\r\n", VH_HTTP_OTHER },
		{ "PROPFIND / HTTP/1.1\r\n\r\n", VH_HTTP_OTHER },
		{ "GETX / HTTP/1.1\r\n\r\n", VH_HTTP_OTHER },
	};
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		assert_int_equal(parse(methods[i].line, &why), 0);
		assert_int_equal(head.method, methods[i].m);
	}
}

static void
expect(const char *s, int want, const char *why_part)
{
	const char	*why;
	int		 r = parse(s, &why);

	if (r != want)
		fail_msg("'%s': got %d, want %d", s, r, want);
	assert_non_null(why);
	if (strstr(why, why_part) == NULL)
		fail_msg("'%s': got '%s', want '%s'", s, why, why_part);
}

static void
test_parse_bad_request_line(void **state VH_UNUSED)
{
	expect("GET /\r\n\r\n", VH_EINVAL, "malformed request line");
	expect("GET\r\n\r\n", VH_EINVAL, "malformed request line");
	expect("GET  / HTTP/1.1\r\n\r\n", VH_EINVAL, "target");
	expect(" GET / HTTP/1.1\r\n\r\n", VH_EINVAL, "malformed");
	expect("GET / HTTP/1.1 \r\n\r\n", VH_EINVAL, "malformed");
	expect("GET / / HTTP/1.1\r\n\r\n", VH_EINVAL, "malformed");
	expect("GET / http/1.1\r\n\r\n", VH_EINVAL, "malformed");
	expect("GET / HTTP/1\r\n\r\n", VH_EINVAL, "malformed");
	expect("GET / HTTP/11.1\r\n\r\n", VH_EINVAL, "malformed");
	expect("G(T / HTTP/1.1\r\n\r\n", VH_EINVAL, "bad method");
	expect("G\x01T / HTTP/1.1\r\n\r\n", VH_EINVAL, "bad method");
	expect("GET x HTTP/1.1\r\n\r\n", VH_EINVAL, "bad request target");
	expect("GET http://a/ HTTP/1.1\r\n\r\n", VH_EINVAL, "target");
	expect("GET * HTTP/1.1\r\n\r\n", VH_EINVAL, "OPTIONS");
	expect("GET /a\tb HTTP/1.1\r\n\r\n", VH_EINVAL, "target");
	expect("GET /a\x7f HTTP/1.1\r\n\r\n", VH_EINVAL, "target");
	expect("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", VH_EINVAL, "target");
	expect("GET /a\rb HTTP/1.1\r\n\r\n", VH_EINVAL, "target");
	expect("GET / HTTP/2.0\r\n\r\n", VH_ENOTSUP, "version");
	expect("GET / HTTP/1.2\r\n\r\n", VH_ENOTSUP, "version");
	expect("GET / HTTP/0.9\r\n\r\n", VH_ENOTSUP, "version");
	expect("GET / HTTP/1.1", VH_EINVAL, "incomplete");
	expect("GET / HTTP/1.1\r\nHost: a\r\n", VH_EINVAL, "incomplete");
}

static void
test_parse_bad_fields(void **state VH_UNUSED)
{
	expect("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", VH_EINVAL,
	    "folding");
	expect("GET / HTTP/1.1\r\nHost: a\r\n\tfolded\r\n\r\n", VH_EINVAL,
	    "folding");
	expect("GET / HTTP/1.1\r\nHost : a\r\n\r\n", VH_EINVAL,
	    "whitespace before colon");
	expect("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", VH_EINVAL,
	    "whitespace before colon");
	expect("GET / HTTP/1.1\r\nNo colon\r\n\r\n", VH_EINVAL, "malformed");
	expect("GET / HTTP/1.1\r\n: empty\r\n\r\n", VH_EINVAL, "empty");
	expect("GET / HTTP/1.1\r\nX(y): a\r\n\r\n", VH_EINVAL, "bad header name");
	expect("GET / HTTP/1.1\r\nX y: a\r\n\r\n", VH_EINVAL, "bad header name");
	expect("GET / HTTP/1.1\r\nX\xc3\xa9: a\r\n\r\n", VH_EINVAL, "name");
	expect("GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", VH_EINVAL, "control");
	expect("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", VH_EINVAL, "control");
	expect("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", VH_EINVAL, "control");
	expect("GET / HTTP/1.1\r\nX: a\r\r\n\r\n", VH_EINVAL, "control");
}

static void
test_too_many_headers(void **state VH_UNUSED)
{
	char		 buf[4096];
	const char	*why;
	size_t		 n;

	n = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < VH_HTTP_MAX_HEADERS; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "X%d: v\r\n", i);
	strcpy(buf + n, "\r\n");
	assert_int_equal(parse(buf, &why), 0);
	assert_int_equal(head.nheaders, VH_HTTP_MAX_HEADERS);
	strcpy(buf + n, "One: more\r\n\r\n");
	expect(buf, VH_ETOOBIG, "too many");
}

static void
test_find(void **state VH_UNUSED)
{
	const char	*why;
	const struct vh_http_header *f;

	assert_int_equal(parse("GET / HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\n"
	    "X-AB: 3\r\n\r\n", &why), 0);
	f = vh_http_head_find(&head, "x-A");
	assert_non_null(f);
	assert_memory_equal(f->value, "1", 1);
	f = vh_http_head_find(&head, "x-ab");
	assert_non_null(f);
	assert_memory_equal(f->value, "3", 1);
	assert_null(vh_http_head_find(&head, "X"));
	assert_null(vh_http_head_find(&head, "X-ABC"));
}

static int
body(const char *s, enum vh_http_body_kind *kind, int64_t *len,
    const char **why)
{
	const char	*pwhy;

	if (parse(s, &pwhy) != 0)
		fail_msg("'%s': %s", s, pwhy);
	return (vh_http_head_body(&head, kind, len, why));
}

static void
expect_body(const char *s, enum vh_http_body_kind want, int64_t wantlen)
{
	enum vh_http_body_kind kind;
	int64_t		 len;
	const char	*why;

	if (body(s, &kind, &len, &why) != 0)
		fail_msg("'%s': %s", s, why);
	assert_int_equal(kind, want);
	assert_int_equal(len, wantlen);
}

static void
expect_body_err(const char *s, int want, const char *why_part)
{
	enum vh_http_body_kind kind;
	int64_t		 len;
	const char	*why = NULL;
	int		 r = body(s, &kind, &len, &why);

	if (r != want)
		fail_msg("'%s': got %d, want %d", s, r, want);
	assert_non_null(why);
	if (strstr(why, why_part) == NULL)
		fail_msg("'%s': got '%s', want '%s'", s, why, why_part);
}

#define H11	"POST / HTTP/1.1\r\nHost: a\r\n"

static void
test_body_framing(void **state VH_UNUSED)
{
	expect_body(H11 "\r\n", VH_BODY_NONE, 0);
	expect_body("POST / HTTP/1.0\r\n\r\n", VH_BODY_NONE, 0);
	expect_body(H11 "Content-Length: 0\r\n\r\n", VH_BODY_LENGTH, 0);
	expect_body(H11 "content-length:  42 \r\n\r\n", VH_BODY_LENGTH, 42);
	expect_body(H11 "Content-Length: 9223372036854775807\r\n\r\n",
	    VH_BODY_LENGTH, INT64_MAX);
	expect_body(H11 "Content-Length: 5\r\nContent-Length: 5\r\n\r\n",
	    VH_BODY_LENGTH, 5);
	expect_body(H11 "Content-Length: 5, 5\r\n\r\n", VH_BODY_LENGTH, 5);
	expect_body(H11 "Transfer-Encoding: chunked\r\n\r\n",
	    VH_BODY_CHUNKED, -1);
	expect_body(H11 "Transfer-Encoding: CHUNKED \r\n\r\n",
	    VH_BODY_CHUNKED, -1);
	expect_body("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n",
	    VH_BODY_LENGTH, 3);
}

static void
test_body_framing_bad(void **state VH_UNUSED)
{
	expect_body_err(H11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
	    VH_EINVAL, "Content-Length");
	expect_body_err(H11 "Content-Length: 5, 6\r\n\r\n", VH_EINVAL,
	    "Content-Length");
	expect_body_err(H11 "Content-Length: +5\r\n\r\n", VH_EINVAL,
	    "Content-Length");
	expect_body_err(H11 "Content-Length: -1\r\n\r\n", VH_EINVAL,
	    "Content-Length");
	expect_body_err(H11 "Content-Length: 0x10\r\n\r\n", VH_EINVAL,
	    "Content-Length");
	expect_body_err(H11 "Content-Length: 1 2\r\n\r\n", VH_EINVAL,
	    "Content-Length");
	expect_body_err(H11 "Content-Length:\r\n\r\n", VH_EINVAL,
	    "Content-Length");
	expect_body_err(H11 "Content-Length: 9223372036854775808\r\n\r\n",
	    VH_EINVAL, "Content-Length");
	expect_body_err(H11 "Content-Length: 3\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", VH_EINVAL,
	    "both Transfer-Encoding and Content-Length");
	expect_body_err(H11 "Transfer-Encoding: chunked\r\n"
	    "Content-Length: 3\r\n\r\n", VH_EINVAL, "both");
	expect_body_err("POST / HTTP/1.1\r\n\r\n", VH_EINVAL, "Host");
	expect_body_err(H11 "Host: b\r\n\r\n", VH_EINVAL, "Host");
	expect_body_err("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
	    VH_EINVAL, "HTTP/1.0");
	expect_body_err(H11 "Transfer-Encoding: gzip\r\n\r\n", VH_ENOTSUP,
	    "not supported");
	expect_body_err(H11 "Transfer-Encoding: gzip, chunked\r\n\r\n",
	    VH_ENOTSUP, "not supported");
	expect_body_err(H11 "Transfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", VH_ENOTSUP, "not supported");
	expect_body_err(H11 "Transfer-Encoding: chunked, chunked\r\n\r\n",
	    VH_ENOTSUP, "not supported");
	expect_body_err(H11 "Transfer-Encoding: chunked;q=1\r\n\r\n",
	    VH_ENOTSUP, "not supported");
	expect_body_err(H11 "Transfer-Encoding: \r\n\r\n", VH_EINVAL,
	    "empty");
}

static void
test_has_token(void **state VH_UNUSED)
{
	const char	*why;

	assert_int_equal(parse("GET / HTTP/1.1\r\n"
	    "Connection: keep-alive ,Upgrade\r\n"
	    "connection: close\r\n"
	    "Expect: 100-Continue\r\n"
	    "Empty: , ,\r\n\r\n", &why), 0);
	assert_true(vh_http_head_has_token(&head, "Connection", "keep-alive"));
	assert_true(vh_http_head_has_token(&head, "connection", "upgrade"));
	assert_true(vh_http_head_has_token(&head, "Connection", "CLOSE"));
	assert_false(vh_http_head_has_token(&head, "Connection", "keep"));
	assert_false(vh_http_head_has_token(&head, "Connection", "alive"));
	assert_true(vh_http_head_has_token(&head, "Expect", "100-continue"));
	assert_false(vh_http_head_has_token(&head, "Expect", "keep-alive"));
	assert_false(vh_http_head_has_token(&head, "Empty", ""));
	assert_false(vh_http_head_has_token(&head, "Missing", "x"));
}

static void
test_unsafe(void **state VH_UNUSED)
{
	assert_false(vh_http_method_unsafe(VH_HTTP_GET));
	assert_false(vh_http_method_unsafe(VH_HTTP_HEAD));
	assert_false(vh_http_method_unsafe(VH_HTTP_OPTIONS));
	assert_true(vh_http_method_unsafe(VH_HTTP_POST));
	assert_true(vh_http_method_unsafe(VH_HTTP_PUT));
	assert_true(vh_http_method_unsafe(VH_HTTP_PATCH));
	assert_true(vh_http_method_unsafe(VH_HTTP_DELETE));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsafe),
		cmocka_unit_test(test_head_end),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad_request_line),
		cmocka_unit_test(test_parse_bad_fields),
		cmocka_unit_test(test_too_many_headers),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_body_framing),
		cmocka_unit_test(test_body_framing_bad),
		cmocka_unit_test(test_has_token),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
