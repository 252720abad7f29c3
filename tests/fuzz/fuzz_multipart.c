/* Fuzzes multipart/form-data: the first line of the input is a
 * Content-Type for vh_multipart_boundary, the rest a body parsed in one
 * piece and again cut by a PRNG; both runs must tell the same story. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_multipart.h"
#include "vh_xmalloc.h"

struct log {
	uint8_t	*buf;
	size_t	 len, cap;
};

static void
append(struct log *l, const void *p, size_t n)
{
	if (l->len + n > l->cap) {
		l->cap = (l->len + n) * 2;
		l->buf = vh_xreallocarray(l->buf, 1, l->cap);
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

static int
on_begin(void *arg, const struct vh_multipart_part *p)
{
	if (p->name == NULL || (p->filename != NULL &&
	    (strchr(p->filename, '/') != NULL ||
	    strchr(p->filename, '\\') != NULL)))
		abort();
	append(arg, "B", 1);
	append(arg, p->name, strlen(p->name) + 1);
	if (p->filename != NULL)
		append(arg, p->filename, strlen(p->filename) + 1);
	if (p->content_type != NULL)
		append(arg, p->content_type, strlen(p->content_type) + 1);
	return (0);
}

static int
on_data(void *arg, const char *data, size_t len)
{
	if (len == 0)
		abort();
	append(arg, data, len);
	return (0);
}

static int
on_end(void *arg)
{
	append(arg, "E", 1);
	return (0);
}

static const struct vh_multipart_cbs cbs = { on_begin, on_data, on_end };

static int
run(const char *boundary, const uint8_t *body, size_t size, uint32_t seed,
    struct log *l)
{
	struct vh_multipart *m = vh_multipart_new(boundary, &cbs, l);
	size_t		 at = 0;
	int		 r = 0;

	if (m == NULL)
		abort();
	while (at < size && r == 0) {
		size_t	 n = size - at;

		if (seed != 0 && n > 1) {
			seed = seed * 1103515245 + 12345;
			n = 1 + (seed >> 16) % n;
		}
		r = vh_multipart_feed(m, (const char *)body + at, n);
		at += n;
	}
	if (r == 0)
		r = vh_multipart_finish(m);
	vh_multipart_free(m);
	return (r);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*nl = memchr(data, '\n', size);
	struct log	 a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	char		*ct, *boundary = NULL;
	uint32_t	 seed = 7;
	size_t		 skip = 0;
	int		 ra, rb;

	if (nl != NULL) {
		ct = vh_xstrndup((const char *)data, (size_t)(nl - data));
		if (vh_multipart_boundary(ct, &boundary) == 0 &&
		    (boundary == NULL || strlen(boundary) > 70))
			abort();
		free(ct);
		skip = (size_t)(nl - data) + 1;
	}
	if (boundary == NULL)
		boundary = vh_xstrdup("b0undary");
	for (size_t i = 0; i < size && i < 16; i++)
		seed = seed * 31 + data[i];
	ra = run(boundary, data + skip, size - skip, 0, &a);
	rb = run(boundary, data + skip, size - skip, seed | 1, &b);
	if (ra != rb || a.len != b.len || (a.len > 0 &&
	    memcmp(a.buf, b.buf, a.len) != 0))
		abort();
	free(a.buf);
	free(b.buf);
	free(boundary);
	return (0);
}
