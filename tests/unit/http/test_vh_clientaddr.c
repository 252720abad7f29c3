/* The client address behind proxies: the trusted list (addresses, CIDR
 * blocks, IPv4-mapped IPv6), and X-Forwarded-For read right to left,
 * believed only from a trusted peer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_clientaddr.h"
#include "vh_unused.h"
#include "vh_httpparse.h"

/* Resolves peer with the given X-Forwarded-For fields (NULL-ended). */
static const char *
resolve(const struct vh_clientaddr *t, const char *peer, ...)
{
	static char		 out[64];
	static struct vh_http_head head;
	va_list			 ap;
	const char		*v;

	memset(&head, 0, sizeof head);
	va_start(ap, peer);
	while ((v = va_arg(ap, const char *)) != NULL) {
		struct vh_http_header *h = &head.headers[head.nheaders++];

		h->name = "x-forwarded-for";
		h->name_len = 15;
		h->value = v;
		h->value_len = strlen(v);
	}
	va_end(ap);
	vh_clientaddr_resolve(t, peer, &head, out, sizeof out);
	return (out);
}

static void
test_list(void **state VH_UNUSED)
{
	struct vh_clientaddr	*t;
	char			*err = NULL;

	t = vh_clientaddr_new("127.0.0.1, ::1 10.0.0.0/8,fd00::/8", &err);
	assert_non_null(t);
	assert_true(vh_clientaddr_trusted(t, "127.0.0.1"));
	assert_true(vh_clientaddr_trusted(t, "::ffff:127.0.0.1"));
	assert_true(vh_clientaddr_trusted(t, "::1"));
	assert_true(vh_clientaddr_trusted(t, "10.200.3.4"));
	assert_true(vh_clientaddr_trusted(t, "fd12::5"));
	assert_false(vh_clientaddr_trusted(t, "127.0.0.2"));
	assert_false(vh_clientaddr_trusted(t, "11.0.0.1"));
	assert_false(vh_clientaddr_trusted(t, "fe80::1"));
	assert_false(vh_clientaddr_trusted(t, "nonsense"));
	vh_clientaddr_free(t);

	t = vh_clientaddr_new("", &err);
	assert_non_null(t);
	assert_false(vh_clientaddr_trusted(t, "127.0.0.1"));
	vh_clientaddr_free(t);

	for (const char **bad = (const char *[]){ "localhost", "10.0.0.0/33",
	    "::/129", "1.2.3.4/", "1.2.3.4/x", NULL }; *bad != NULL; bad++) {
		assert_null(vh_clientaddr_new(*bad, &err));
		assert_non_null(strstr(err, "trusted_proxies"));
		free(err);
		err = NULL;
	}
}

static void
test_forwarded(void **state VH_UNUSED)
{
	char			*err = NULL;
	struct vh_clientaddr	*t = vh_clientaddr_new("127.0.0.1, 10.0.0.0/8",
				    &err);

	/* An untrusted peer is never taken at its word. */
	assert_string_equal(resolve(t, "192.0.2.1", "198.51.100.7", NULL),
	    "192.0.2.1");
	/* A trusted one: the right-most untrusted entry. */
	assert_string_equal(resolve(t, "127.0.0.1", "198.51.100.7", NULL),
	    "198.51.100.7");
	assert_string_equal(resolve(t, "127.0.0.1",
	    "6.6.6.6, 198.51.100.7, 10.1.1.1", NULL), "198.51.100.7");
	/* Several fields are one list. */
	assert_string_equal(resolve(t, "127.0.0.1", "6.6.6.6",
	    "198.51.100.7", NULL), "198.51.100.7");
	/* No header, or all trusted: the last hop named. */
	assert_string_equal(resolve(t, "127.0.0.1", NULL), "127.0.0.1");
	assert_string_equal(resolve(t, "127.0.0.1", "10.0.0.2", NULL),
	    "10.0.0.2");
	/* Garbage stops the walk at the hop before it. */
	assert_string_equal(resolve(t, "127.0.0.1", "198.51.100.7, junk",
	    NULL), "127.0.0.1");
	assert_string_equal(resolve(t, "127.0.0.1", "junk, 10.0.0.3", NULL),
	    "10.0.0.3");
	/* Ports and brackets, canonical output, mapped peers. */
	assert_string_equal(resolve(t, "::ffff:127.0.0.1",
	    "[2001:DB8::1]:4711", NULL), "2001:db8::1");
	assert_string_equal(resolve(t, "127.0.0.1", "198.51.100.7:80", NULL),
	    "198.51.100.7");
	assert_string_equal(resolve(t, "::ffff:192.0.2.9", NULL), "192.0.2.9");
	/* No list: nobody is trusted. */
	assert_string_equal(resolve(NULL, "127.0.0.1", "198.51.100.7", NULL),
	    "127.0.0.1");
	vh_clientaddr_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_forwarded),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
