/*
 * HTTP/1.1 request heads (RFC 9112 sections 2-3, 5-6). The server finds the
 * end of a head with vh_http_head_end, then vh_http_parse_head splits it in
 * place into a request line and up to VH_HTTP_MAX_HEADERS fields, pointing
 * into the caller's buffer. Parsing is strict where leniency has caused
 * request smuggling elsewhere: no obs-fold, no whitespace before the colon,
 * one Content-Length value, Transfer-Encoding and Content-Length never
 * together. A bare LF ends a line, as RFC 9112 section 2.2 allows.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "vh_error.h"
#include "vh_httpparse.h"

bool
vh_http_is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return (true);
	return (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int
vh_http_hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return (ch - '0');
	if (ch >= 'a' && ch <= 'f')
		return (ch - 'a' + 10);
	if (ch >= 'A' && ch <= 'F')
		return (ch - 'A' + 10);
	return (-1);
}

/* Length of the empty lines (CRLF or LF) at the start of buf. */
static size_t
skip_empty_lines(const char *buf, size_t len)
{
	size_t	 i = 0;

	for (;;) {
		if (i < len && buf[i] == '\n')
			i++;
		else if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
			i += 2;
		else
			return (i);
	}
}

size_t
vh_http_head_end(const char *buf, size_t len)
{
	const char	*p, *end = buf + len;
	size_t		 start = skip_empty_lines(buf, len);

	p = buf + start;
	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		if (p < end && *p == '\n')
			return ((size_t)(p + 1 - buf));
		if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
			return ((size_t)(p + 2 - buf));
	}
	return (0);
}

/*
 * Finds the next line in [*pos, end): sets *line and *linelen (without its
 * CRLF or LF) and moves *pos past it. False when no line end remains.
 */
static bool
next_line(const char *buf, size_t len, size_t *pos, const char **line,
    size_t *linelen)
{
	const char	*nl;
	size_t		 n;

	if (*pos >= len)
		return (false);
	if ((nl = memchr(buf + *pos, '\n', len - *pos)) == NULL)
		return (false);
	n = (size_t)(nl - (buf + *pos));
	*line = buf + *pos;
	*pos += n + 1;
	if (n > 0 && (*line)[n - 1] == '\r')
		n--;
	*linelen = n;
	return (true);
}

static const struct {
	const char		*name;
	enum vh_http_method	 method;
} methods[] = {
	{ "GET", VH_HTTP_GET },
	{ "HEAD", VH_HTTP_HEAD },
	{ "POST", VH_HTTP_POST },
	{ "PUT", VH_HTTP_PUT },
	{ "PATCH", VH_HTTP_PATCH },
	{ "DELETE", VH_HTTP_DELETE },
	{ "OPTIONS", VH_HTTP_OPTIONS },
};

/* request-line = method SP request-target SP HTTP-version */
static int
parse_request_line(const char *l, size_t n, struct vh_http_head *h,
    const char **why)
{
	const char	*sp1, *sp2, *v;
	size_t		 i, vlen;

	if ((sp1 = memchr(l, ' ', n)) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - l))) == NULL) {
		*why = "malformed request line";
		return (VH_EINVAL);
	}
	h->method_str = l;
	h->method_len = (size_t)(sp1 - l);
	h->target = sp1 + 1;
	h->target_len = (size_t)(sp2 - h->target);
	v = sp2 + 1;
	vlen = n - (size_t)(v - l);

	if (h->method_len == 0) {
		*why = "malformed request line";
		return (VH_EINVAL);
	}
	for (i = 0; i < h->method_len; i++) {
		if (!vh_http_is_tchar((unsigned char)l[i])) {
			*why = "bad method";
			return (VH_EINVAL);
		}
	}
	h->method = VH_HTTP_OTHER;
	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		if (strlen(methods[i].name) == h->method_len &&
		    memcmp(methods[i].name, l, h->method_len) == 0)
			h->method = methods[i].method;
	}

	/* Only printable ASCII: no controls, spaces or raw non-ASCII bytes. */
	for (i = 0; i < h->target_len; i++) {
		unsigned char c = (unsigned char)h->target[i];

		if (c <= 0x20 || c >= 0x7f) {
			*why = "bad request target";
			return (VH_EINVAL);
		}
	}
	if (h->target_len == 1 && h->target[0] == '*') {
		if (h->method != VH_HTTP_OPTIONS) {
			*why = "asterisk target is only for OPTIONS";
			return (VH_EINVAL);
		}
	} else if (h->target_len == 0 || h->target[0] != '/') {
		*why = "bad request target";
		return (VH_EINVAL);
	}

	/* HTTP-version = "HTTP/" DIGIT "." DIGIT; the name is case-sensitive. */
	if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') {
		*why = "malformed request line";
		return (VH_EINVAL);
	}
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
		*why = "HTTP version not supported";
		return (VH_ENOTSUP);
	}
	h->version_minor = v[7] - '0';
	return (0);
}

/* field-line = field-name ":" OWS field-value OWS */
static int
parse_field(const char *l, size_t n, struct vh_http_header *f,
    const char **why)
{
	const char	*colon;
	size_t		 i, vs, ve;

	if (l[0] == ' ' || l[0] == '\t') {
		*why = "obsolete line folding";
		return (VH_EINVAL);
	}
	if ((colon = memchr(l, ':', n)) == NULL) {
		*why = "malformed header line";
		return (VH_EINVAL);
	}
	f->name = l;
	f->name_len = (size_t)(colon - l);
	if (f->name_len == 0) {
		*why = "empty header name";
		return (VH_EINVAL);
	}
	if (l[f->name_len - 1] == ' ' || l[f->name_len - 1] == '\t') {
		*why = "whitespace before colon";
		return (VH_EINVAL);
	}
	for (i = 0; i < f->name_len; i++) {
		if (!vh_http_is_tchar((unsigned char)l[i])) {
			*why = "bad header name";
			return (VH_EINVAL);
		}
	}
	vs = f->name_len + 1;
	ve = n;
	for (i = vs; i < n; i++) {
		unsigned char c = (unsigned char)l[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*why = "control character in header value";
			return (VH_EINVAL);
		}
	}
	while (vs < ve && (l[vs] == ' ' || l[vs] == '\t'))
		vs++;
	while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
		ve--;
	f->value = l + vs;
	f->value_len = ve - vs;
	return (0);
}

int
vh_http_parse_head(const char *buf, size_t len, struct vh_http_head *h,
    const char **why)
{
	const char	*line;
	size_t		 pos, n;
	int		 error;

	*why = NULL;
	h->nheaders = 0;
	pos = skip_empty_lines(buf, len);
	if (!next_line(buf, len, &pos, &line, &n)) {
		*why = "incomplete request head";
		return (VH_EINVAL);
	}
	if ((error = parse_request_line(line, n, h, why)) != 0)
		return (error);
	for (;;) {
		if (!next_line(buf, len, &pos, &line, &n)) {
			*why = "incomplete request head";
			return (VH_EINVAL);
		}
		if (n == 0)
			break;
		if (h->nheaders == VH_HTTP_MAX_HEADERS) {
			*why = "too many header fields";
			return (VH_ETOOBIG);
		}
		if ((error = parse_field(line, n, &h->headers[h->nheaders],
		    why)) != 0)
			return (error);
		h->nheaders++;
	}
	return (0);
}

static bool
name_is(const struct vh_http_header *f, const char *name, size_t len)
{
	return (f->name_len == len && strncasecmp(f->name, name, len) == 0);
}

const struct vh_http_header *
vh_http_head_find(const struct vh_http_head *h, const char *name)
{
	size_t	 len = strlen(name);

	for (size_t i = 0; i < h->nheaders; i++)
		if (name_is(&h->headers[i], name, len))
			return (&h->headers[i]);
	return (NULL);
}

/*
 * Calls fn for each element of the comma-separated lists in all fields
 * called name, trimmed of OWS; empty elements are skipped as RFC 9110
 * section 5.6.1 asks. Stops at and returns fn's first non-zero result.
 */
static int
list_each(const struct vh_http_head *h, const char *name,
    int (*fn)(void *, const char *, size_t), void *arg)
{
	size_t	 nlen = strlen(name);
	int	 r;

	for (size_t i = 0; i < h->nheaders; i++) {
		const struct vh_http_header *f = &h->headers[i];
		const char	*p = f->value, *end = f->value + f->value_len;

		if (!name_is(f, name, nlen))
			continue;
		while (p < end) {
			const char	*e = memchr(p, ',', (size_t)(end - p));
			const char	*s = p, *t;

			if (e == NULL)
				e = end;
			t = e;
			p = e + 1;
			while (s < t && (*s == ' ' || *s == '\t'))
				s++;
			while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
				t--;
			if (s < t && (r = fn(arg, s, (size_t)(t - s))) != 0)
				return (r);
		}
	}
	return (0);
}

static int
token_matches(void *arg, const char *s, size_t len)
{
	const char	*token = arg;

	return (strlen(token) == len && strncasecmp(s, token, len) == 0);
}

bool
vh_http_head_has_token(const struct vh_http_head *h, const char *name,
    const char *token)
{
	return (list_each(h, name, token_matches, (void *)(uintptr_t)token) ==
	    1);
}

/* Content-Length values are digits only: no sign, no spaces, no hex. */
static int
parse_length(const char *s, size_t len, int64_t *out)
{
	int64_t	 v = 0;

	if (len == 0)
		return (VH_EINVAL);
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (VH_EINVAL);
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return (VH_EINVAL);
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return (0);
}

struct framing {
	int64_t		 length;	/* -1 until a Content-Length is seen */
	bool		 bad;
	size_t		 ncodings;
	bool		 chunked;	/* the last coding seen is chunked */
};

static int
length_element(void *arg, const char *s, size_t len)
{
	struct framing	*fr = arg;
	int64_t		 v;

	/* RFC 9110 section 8.6 lets identical repeats through, nothing else. */
	if (parse_length(s, len, &v) != 0 ||
	    (fr->length != -1 && fr->length != v)) {
		fr->bad = true;
		return (1);
	}
	fr->length = v;
	return (0);
}

static int
coding_element(void *arg, const char *s, size_t len)
{
	struct framing	*fr = arg;

	fr->ncodings++;
	fr->chunked = len == 7 && strncasecmp(s, "chunked", 7) == 0;
	return (0);
}

int
vh_http_head_body(const struct vh_http_head *h, enum vh_http_body_kind *kind,
    int64_t *length, const char **why)
{
	struct framing	 fr = { .length = -1 };
	size_t		 nhost = 0, ncl = 0, nte = 0;

	*why = NULL;
	*kind = VH_BODY_NONE;
	*length = 0;
	for (size_t i = 0; i < h->nheaders; i++) {
		const struct vh_http_header *f = &h->headers[i];

		if (name_is(f, "Host", 4))
			nhost++;
		else if (name_is(f, "Content-Length", 14))
			ncl++;
		else if (name_is(f, "Transfer-Encoding", 17))
			nte++;
	}
	if (h->version_minor == 1 && nhost != 1) {
		*why = nhost == 0 ? "missing Host header" :
		    "more than one Host header";
		return (VH_EINVAL);
	}
	if (nte > 0 && ncl > 0) {
		*why = "both Transfer-Encoding and Content-Length";
		return (VH_EINVAL);
	}
	if (nte > 0) {
		/* HTTP/1.0 has no transfer codings: its framing is suspect. */
		if (h->version_minor == 0) {
			*why = "Transfer-Encoding in HTTP/1.0 request";
			return (VH_EINVAL);
		}
		(void)list_each(h, "Transfer-Encoding", coding_element, &fr);
		if (fr.ncodings == 0) {
			*why = "empty Transfer-Encoding";
			return (VH_EINVAL);
		}
		if (fr.ncodings != 1 || !fr.chunked) {
			*why = "transfer coding not supported";
			return (VH_ENOTSUP);
		}
		*kind = VH_BODY_CHUNKED;
		*length = -1;
		return (0);
	}
	if (ncl > 0) {
		(void)list_each(h, "Content-Length", length_element, &fr);
		if (fr.bad || fr.length == -1) {
			*why = "bad Content-Length";
			return (VH_EINVAL);
		}
		*kind = VH_BODY_LENGTH;
		*length = fr.length;
	}
	return (0);
}

bool
vh_http_method_unsafe(enum vh_http_method m)
{
	/* Everything but the safe methods of RFC 9110 section 9.2.1. */
	return (m != VH_HTTP_GET && m != VH_HTTP_HEAD && m != VH_HTTP_OPTIONS);
}
