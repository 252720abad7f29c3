/* Chunked transfer coding: decoding in one piece and split at every byte,
 * extensions, trailers, pipelined bytes, and each malformation it rejects. */
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

struct sink {
	char	 buf[70000];
	size_t	 len;
	size_t	 calls;
	int	 fail_after;	/* return -99 on this call; 0 never */
};

static int
collect(void *arg, const char *data, size_t len)
{
	struct sink	*s = arg;

	assert_true(len > 0);
	assert_true(s->len + len <= sizeof s->buf);
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	if (++s->calls == (size_t)s->fail_after)
		return (-99);
	return (0);
}

/* Feeds in, optionally split at one position; returns the bytes consumed
 * in total or the error. */
static ssize_t
decode(const char *in, size_t len, size_t split, struct sink *s, bool *done)
{
	struct vh_chunked *c = vh_chunked_new();
	ssize_t		 a, b = 0;

	memset(s, 0, sizeof *s);
	*done = false;
	a = vh_chunked_feed(c, in, split, collect, s, done);
	if (a >= 0 && !*done) {
		/* Everything offered before the end must have been taken. */
		assert_int_equal(a, split);
		b = vh_chunked_feed(c, in + split, len - split, collect, s,
		    done);
	}
	if (a >= 0 && b >= 0)
		assert_int_equal(vh_chunked_total(c), s->len);
	vh_chunked_free(c);
	if (a < 0)
		return (a);
	if (b < 0)
		return (b);
	return (a + b);
}

static void
test_good_every_split(void **state VH_UNUSED)
{
	const char	*in = "4\r\nWiki\r\n"
	    "5;name=value;q=\"quoted ; x\"\r\npedia\r\n"
	    "E \t; ext\r\n in\r\n\r\nchunks.\r\n"
	    "000\r\n"
	    "Expires: never\r\nX-Checksum:\tabc\r\n"
	    "\r\n"
	    "GET / HTTP/1.1\r\n";
	const char	*want = "Wikipedia in\r\n\r\nchunks.";
	size_t		 len = strlen(in), body_end = len - 16;
	struct sink	 s;
	bool		 done;

	for (size_t split = 0; split <= len; split++) {
		/* The next request's bytes are never consumed. */
		assert_int_equal(decode(in, len, split, &s, &done), body_end);
		assert_true(done);
		assert_int_equal(s.len, strlen(want));
		assert_memory_equal(s.buf, want, s.len);
	}
}

static void
test_byte_at_a_time(void **state VH_UNUSED)
{
	const char	*in = "a\r\n0123456789\r\n1\r\nX\r\n0\r\n\r\nrest";
	struct vh_chunked *c = vh_chunked_new();
	struct sink	 s;
	bool		 done = false;
	size_t		 i;

	memset(&s, 0, sizeof s);
	for (i = 0; !done; i++)
		assert_int_equal(vh_chunked_feed(c, in + i, 1, collect, &s,
		    &done), 1);
	assert_int_equal(i, strlen(in) - 4);
	assert_int_equal(vh_chunked_total(c), 11);
	assert_memory_equal(s.buf, "0123456789X", 11);
	/* Once done, nothing more is consumed. */
	assert_int_equal(vh_chunked_feed(c, "rest", 4, collect, &s, &done), 0);
	assert_true(done);
	vh_chunked_free(c);
	vh_chunked_free(NULL);
}

static void
test_large_chunk(void **state VH_UNUSED)
{
	static char	 in[70000];
	struct sink	 s;
	bool		 done;
	size_t		 n;

	n = (size_t)snprintf(in, sizeof in, "FfFf\r\n");
	memset(in + n, 'z', 0xffff);
	n += 0xffff;
	memcpy(in + n, "\r\n0\r\n\r\n", 7);
	n += 7;
	assert_int_equal(decode(in, n, 3000, &s, &done), n);
	assert_true(done);
	assert_int_equal(s.len, 0xffff);
}

static void
expect_bad(const char *in, size_t len)
{
	struct sink	 s;
	bool		 done;

	for (size_t split = 0; split <= len; split++) {
		ssize_t	 n = decode(in, len, split, &s, &done);

		if (n != VH_EINVAL)
			fail_msg("'%.40s' split %zu: got %zd", in, split, n);
	}
}

#define BAD(s)	expect_bad(s, sizeof(s) - 1)

static void
test_malformed(void **state VH_UNUSED)
{
	static char	 big[20000];
	size_t		 n;

	BAD("g\r\n");			/* bad hex */
	BAD("\r\n");			/* no size */
	BAD(";x\r\n");
	BAD("-1\r\n");
	BAD("0x5\r\n");
	BAD("+5\r\n");
	BAD("5 x\r\n");			/* only BWS before ';' */
	BAD("5\n");			/* chunk lines end in CRLF */
	BAD("5\r\r\n");
	BAD("5\r\nhello\n0\r\n\r\n");	/* missing CRLF after data */
	BAD("5\r\nhelloX\r\n");
	BAD("5\r\nhello\rX");
	BAD("5\r\nhellohello\r\n0\r\n\r\n");
	BAD("5;a\x01\r\n");		/* control in chunk-ext */
	BAD("8000000000000000\r\n");	/* past INT64_MAX */
	BAD("10000000000000000000\r\n");
	BAD("0\r\nX\r\n\r\n");		/* trailer without a colon */
	BAD("0\r\n folded: x\r\n\r\n");	/* obs-fold in trailer */
	BAD("0\r\nX y: z\r\n\r\n");
	BAD("0\r\nX: \x01\r\n\r\n");
	BAD("0\r\nX: y\n\r\n");
	BAD("0\r\n\r\r\n");
	BAD("0\r\n\n");

	/* chunk-ext: 4096 bytes are fine, 4097 are not. */
	n = (size_t)snprintf(big, sizeof big, "1;");
	memset(big + n, 'e', 4095);
	n += 4095;
	memcpy(big + n, "\r\nA\r\n0\r\n\r\n", 10);
	{
		struct sink s;
		bool	 done;

		assert_int_equal(decode(big, n + 10, n / 2, &s, &done),
		    n + 10);
		assert_true(done);
	}
	memmove(big + 3, big + 2, n + 10 - 2);
	expect_bad(big, n + 11);

	/* A 4097-byte trailer line. */
	n = (size_t)snprintf(big, sizeof big, "0\r\nX:");
	memset(big + n, 'v', 4095);
	expect_bad(big, n + 4095);
	/* A trailer section of many short lines past 16 KiB. */
	n = (size_t)snprintf(big, sizeof big, "0\r\n");
	while (n < 17 * 1024)
		n += (size_t)snprintf(big + n, sizeof big - n,
		    "X-Field: some value\r\n");
	memcpy(big + n, "\r\n", 2);
	{
		struct sink s;
		bool	 done;

		assert_int_equal(decode(big, n + 2, 0, &s, &done), VH_EINVAL);
	}
}

static void
test_total_overflow(void **state VH_UNUSED)
{
	/* Each size is fine alone; with the byte before, they pass INT64_MAX. */
	struct sink	 s;
	bool		 done;

	assert_int_equal(decode("7fffffffffffffff\r\nx", 20, 10, &s, &done),
	    20);
	assert_false(done);
	BAD("1\r\nx\r\n7fffffffffffffff\r\n");
	BAD("1\r\nx\r\n7FFFFFFFFFFFFFFF;ext\r\n");
}

static void
test_callback_error(void **state VH_UNUSED)
{
	const char	*in = "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
	struct vh_chunked *c = vh_chunked_new();
	struct sink	 s;
	bool		 done;

	memset(&s, 0, sizeof s);
	s.fail_after = 2;
	assert_int_equal(vh_chunked_feed(c, in, strlen(in), collect, &s, &done),
	    -99);
	assert_false(done);
	assert_int_equal(s.len, 6);
	/* The decoder stays failed. */
	assert_int_equal(vh_chunked_feed(c, "0\r\n\r\n", 5, collect, &s, &done),
	    VH_EINVAL);
	vh_chunked_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_every_split),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_large_chunk),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_total_overflow),
		cmocka_unit_test(test_callback_error),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
