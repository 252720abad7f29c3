/* Fuzzes the chunked decoder: the input is decoded in one piece and again
 * cut into pieces chosen by a PRNG seeded from the input; both must give
 * the same data, the same bytes consumed and the same outcome. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "vh_httpparse.h"

struct out {
	uint8_t	*buf;
	size_t	 len;
};

static int
collect(void *arg, const char *data, size_t len)
{
	struct out	*o = arg;

	if (len == 0)
		abort();
	memcpy(o->buf + o->len, data, len);
	o->len += len;
	return (0);
}

/* Returns the bytes consumed, or the error. */
static ssize_t
decode(const uint8_t *data, size_t size, uint32_t seed, struct out *o,
    bool *done)
{
	struct vh_chunked *c = vh_chunked_new();
	size_t		 at = 0;
	ssize_t		 r = 0;

	*done = false;
	while (!*done) {
		size_t	 n = size - at;

		if (seed != 0 && n > 1) {
			seed = seed * 1103515245 + 12345;
			n = 1 + (seed >> 16) % n;
		}
		if ((r = vh_chunked_feed(c, (const char *)data + at, n, collect,
		    o, done)) < 0)
			break;
		if (!*done && (size_t)r != n)
			abort();
		at += (size_t)r;
		if (at == size && !*done)
			break;
	}
	if (r >= 0 && vh_chunked_total(c) != (int64_t)o->len)
		abort();
	vh_chunked_free(c);
	return (r < 0 ? r : (ssize_t)at);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out	 a = { NULL, 0 }, b = { NULL, 0 };
	bool		 da, db;
	ssize_t		 ra, rb;
	uint32_t	 seed = 1;

	for (size_t i = 0; i < size && i < 16; i++)
		seed = seed * 31 + data[i];
	a.buf = malloc(size + 1);
	b.buf = malloc(size + 1);
	ra = decode(data, size, 0, &a, &da);
	rb = decode(data, size, seed | 1, &b, &db);
	if (ra != rb || da != db || a.len != b.len ||
	    memcmp(a.buf, b.buf, a.len) != 0)
		abort();
	free(a.buf);
	free(b.buf);
	return (0);
}
