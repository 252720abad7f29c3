/*
 * Streaming multipart/form-data (RFC 7578 on RFC 2046 section 5.1). The
 * body is scanned for the delimiter CRLF "--" boundary; everything between
 * delimiters goes straight from the caller's buffer to part_data. Because
 * boundary characters never include CR, a partial match can only start at
 * the delimiter's first byte, so the parser keeps no lookahead copy: the
 * count of matched bytes is enough, and on a mismatch those bytes are
 * re-emitted from the delimiter string itself. Each part's header block is
 * gathered (at most VH_MULTIPART_MAX_HEADER bytes) and parsed for its
 * Content-Disposition and Content-Type before part_begin runs.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vh_error.h"
#include "vh_httpparse.h"
#include "vh_mimeparam.h"
#include "vh_multipart.h"
#include "vh_text.h"
#include "vh_xmalloc.h"

#define MAX_BOUNDARY	70

enum state {
	M_PREAMBLE,	/* before the first delimiter: discarded */
	M_AFTER_DELIM,	/* "--" closes, else padding and CRLF */
	M_CLOSE_DASH,	/* one '-' of "--" seen */
	M_PADDING,	/* transport padding after the delimiter */
	M_PADDING_LF,	/* CR seen after the delimiter */
	M_HEADERS,	/* a part's header block */
	M_BODY,		/* a part's content */
	M_DONE,		/* the closing delimiter has been seen */
	M_ERROR,
};

struct vh_multipart {
	enum state	 state;
	char		*delim;		/* CRLF "--" boundary */
	size_t		 dlen;
	size_t		 matched;	/* bytes of delim matched so far */
	const struct vh_multipart_cbs *cbs;
	void		*arg;
	char		*hdr;		/* the header block being gathered */
	size_t		 hlen;
	char		*name;		/* of the current part */
	char		*filename;
	char		*content_type;
};

/* RFC 2046 bchars: DIGIT / ALPHA / "'()+_,-./:=? " */
static bool
is_bchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return (true);
	return (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

static bool
boundary_ok(const char *b)
{
	size_t	 len = strlen(b);

	if (len == 0 || len > MAX_BOUNDARY || b[len - 1] == ' ')
		return (false);
	for (size_t i = 0; i < len; i++)
		if (!is_bchar((unsigned char)b[i]))
			return (false);
	return (true);
}

int
vh_multipart_boundary(const char *content_type, char **boundary)
{
	const char	*p = content_type, *type, *name;
	size_t		 tlen, nlen;
	char		*value, *found = NULL;
	int		 r;

	*boundary = NULL;
	if (vh_mimeparam_type(&p, &type, &tlen) != 0 ||
	    !vh_mimeparam_is(type, tlen, "multipart/form-data"))
		return (VH_EINVAL);
	while ((r = vh_mimeparam_next(&p, &name, &nlen, &value)) == 1) {
		if (!vh_mimeparam_is(name, nlen, "boundary")) {
			free(value);
			continue;
		}
		if (found != NULL || !boundary_ok(value)) {
			free(value);
			goto fail;
		}
		found = value;
	}
	if (r != 0 || found == NULL)
		goto fail;
	*boundary = found;
	return (0);
fail:
	free(found);
	return (VH_EINVAL);
}

struct vh_multipart *
vh_multipart_new(const char *boundary, const struct vh_multipart_cbs *cbs,
    void *arg)
{
	struct vh_multipart *m;

	if (!boundary_ok(boundary))
		return (NULL);
	m = vh_xcalloc(1, sizeof *m);
	m->delim = vh_xasprintf("\r\n--%s", boundary);
	m->dlen = strlen(m->delim);
	/* The first delimiter may open the body: pretend a CRLF came first. */
	m->matched = 2;
	m->state = M_PREAMBLE;
	m->cbs = cbs;
	m->arg = arg;
	m->hdr = vh_xmalloc(VH_MULTIPART_MAX_HEADER);
	return (m);
}

static void
clear_part(struct vh_multipart *m)
{
	free(m->name);
	free(m->filename);
	free(m->content_type);
	m->name = m->filename = m->content_type = NULL;
}

void
vh_multipart_free(struct vh_multipart *m)
{
	if (m == NULL)
		return;
	clear_part(m);
	free(m->hdr);
	free(m->delim);
	free(m);
}

/*
 * Decodes an RFC 5987 ext-value (charset'language'pct-encoded) in place.
 * Returns 1 when decoded, 0 for a charset other than UTF-8 (the caller
 * falls back to the plain filename), VH_EINVAL when malformed.
 */
static int
ext_value(char *v)
{
	char	*q1, *q2, *s, *o;

	if ((q1 = strchr(v, '\'')) == NULL ||
	    (q2 = strchr(q1 + 1, '\'')) == NULL)
		return (VH_EINVAL);
	if ((size_t)(q1 - v) != 5 || strncasecmp(v, "UTF-8", 5) != 0)
		return (0);
	for (s = q2 + 1, o = v; *s != '\0'; s++) {
		int	 hi, lo;

		if (*s != '%') {
			*o++ = *s;
			continue;
		}
		if ((hi = vh_http_hexval((unsigned char)s[1])) < 0 ||
		    (lo = vh_http_hexval((unsigned char)s[2])) < 0 ||
		    (hi == 0 && lo == 0))
			return (VH_EINVAL);
		*o++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*o = '\0';
	return (1);
}

/* Content-Disposition: form-data; name="..."[; filename="..."] */
static int
parse_disposition(struct vh_multipart *m, const char *value)
{
	const char	*p = value, *type, *name;
	size_t		 tlen, nlen;
	char		*v, *plain = NULL, *ext = NULL;
	int		 r;

	if (vh_mimeparam_type(&p, &type, &tlen) != 0 ||
	    !vh_mimeparam_is(type, tlen, "form-data"))
		return (VH_EINVAL);
	while ((r = vh_mimeparam_next(&p, &name, &nlen, &v)) == 1) {
		char	**slot = NULL;

		if (vh_mimeparam_is(name, nlen, "name"))
			slot = &m->name;
		else if (vh_mimeparam_is(name, nlen, "filename"))
			slot = &plain;
		else if (vh_mimeparam_is(name, nlen, "filename*"))
			slot = &ext;
		if (slot == NULL) {
			free(v);
			continue;
		}
		if (*slot != NULL) {
			free(v);
			r = VH_EINVAL;
			break;
		}
		*slot = v;
	}
	if (r != 0 || m->name == NULL)
		goto fail;
	/* RFC 6266 section 4.3: filename* wins when it can be decoded. */
	if (ext != NULL && (r = ext_value(ext)) < 0)
		goto fail;
	if (ext != NULL && r == 1) {
		free(plain);
		plain = ext;
		ext = NULL;
	}
	if (plain != NULL &&
	    vh_text_clean_filename(plain, strlen(plain)) != 0)
		goto fail;
	free(ext);
	m->filename = plain;
	return (0);
fail:
	free(plain);
	free(ext);
	return (VH_EINVAL);
}

/* Parses the gathered header block, lines ending in CRLF. */
static int
parse_headers(struct vh_multipart *m)
{
	char	*line = m->hdr, *end = m->hdr + m->hlen - 2, *nl, *colon;
	bool	 have_cd = false;

	clear_part(m);
	*end = '\0';		/* drop the blank line's CRLF */
	for (; line < end; line = nl + 2) {
		char	*v, *t;

		nl = strstr(line, "\r\n");
		*nl = '\0';
		if ((colon = strchr(line, ':')) == NULL || colon == line)
			return (VH_EINVAL);
		for (char *s = line; s < colon; s++)
			if (!vh_http_is_tchar((unsigned char)*s))
				return (VH_EINVAL);
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (t = v; *t != '\0'; t++)
			if (((unsigned char)*t < 0x20 && *t != '\t') ||
			    *t == 0x7f)
				return (VH_EINVAL);
		while (t > v && (t[-1] == ' ' || t[-1] == '\t'))
			*--t = '\0';
		*colon = '\0';
		if (strcasecmp(line, "Content-Disposition") == 0) {
			if (have_cd || parse_disposition(m, v) != 0)
				return (VH_EINVAL);
			have_cd = true;
		} else if (strcasecmp(line, "Content-Type") == 0) {
			if (m->content_type != NULL)
				return (VH_EINVAL);
			m->content_type = vh_xstrdup(v);
		}
	}
	return (have_cd ? 0 : VH_EINVAL);
}

static int
emit(struct vh_multipart *m, const char *data, size_t len)
{
	if (m->state != M_BODY || len == 0 || m->cbs->part_data == NULL)
		return (0);
	return (m->cbs->part_data(m->arg, data, len));
}

/*
 * Scans in[0..len) for the delimiter, passing other bytes to emit. Sets
 * *used to the bytes consumed and *found once the whole delimiter has been
 * consumed.
 */
static int
scan(struct vh_multipart *m, const char *in, size_t len, size_t *used,
    bool *found)
{
	const char	*cr;
	size_t		 i = 0, n;
	int		 error;

	*found = false;
	while (i < len) {
		if (m->matched > 0) {
			while (i < len && m->matched < m->dlen &&
			    in[i] == m->delim[m->matched]) {
				i++;
				m->matched++;
			}
			if (m->matched == m->dlen) {
				m->matched = 0;
				*found = true;
				break;
			}
			if (i == len)
				break;
			/* Not a delimiter after all: what matched is data. */
			error = emit(m, m->delim, m->matched);
			m->matched = 0;
			if (error < 0) {
				*used = i;
				return (error);
			}
			continue;
		}
		cr = memchr(in + i, '\r', len - i);
		n = cr != NULL ? (size_t)(cr - (in + i)) : len - i;

		if ((error = emit(m, in + i, n)) < 0) {
			*used = i;
			return (error);
		}
		i += n;
		if (cr != NULL) {
			m->matched = 1;
			i++;
		}
	}
	*used = i;
	return (0);
}

/* One byte of the states between a delimiter and a part's content. */
static int
step(struct vh_multipart *m, unsigned char c)
{
	int	 error;

	switch (m->state) {
	case M_AFTER_DELIM:
		if (c == '-') {
			m->state = M_CLOSE_DASH;
			return (0);
		}
		m->state = M_PADDING;
		/* FALLTHROUGH */
	case M_PADDING:
		if (c == '\r')
			m->state = M_PADDING_LF;
		else if (c != ' ' && c != '\t')
			return (VH_EINVAL);
		return (0);
	case M_CLOSE_DASH:
		if (c != '-')
			return (VH_EINVAL);
		m->state = M_DONE;
		return (0);
	case M_PADDING_LF:
		if (c != '\n')
			return (VH_EINVAL);
		m->state = M_HEADERS;
		m->hlen = 0;
		return (0);
	case M_HEADERS:
		if (c == '\0' || m->hlen == VH_MULTIPART_MAX_HEADER)
			return (VH_EINVAL);
		m->hdr[m->hlen++] = (char)c;
		if (c != '\n' || m->hlen < 2 || m->hdr[m->hlen - 2] != '\r')
			return (0);
		if (m->hlen != 2 && (m->hlen < 4 ||
		    memcmp(m->hdr + m->hlen - 4, "\r\n\r\n", 4) != 0))
			return (0);
		if (parse_headers(m) != 0)
			return (VH_EINVAL);
		m->state = M_BODY;
		m->matched = 0;
		if (m->cbs->part_begin != NULL) {
			struct vh_multipart_part part = { m->name, m->filename,
			    m->content_type };

			if ((error = m->cbs->part_begin(m->arg, &part)) < 0)
				return (error);
		}
		return (0);
	default:
		return (VH_EINVAL);
	}
}

int
vh_multipart_feed(struct vh_multipart *m, const char *in, size_t len)
{
	size_t		 i = 0, used;
	bool		 found;
	int		 error = 0;

	while (i < len && error == 0) {
		switch (m->state) {
		case M_PREAMBLE:
		case M_BODY:
			error = scan(m, in + i, len - i, &used, &found);
			i += used;
			if (error != 0 || !found)
				break;
			if (m->state == M_BODY && m->cbs->part_end != NULL &&
			    (error = m->cbs->part_end(m->arg)) > 0)
				error = 0;
			m->state = M_AFTER_DELIM;
			break;
		case M_DONE:
			return (0);
		case M_ERROR:
			return (VH_EINVAL);
		default:
			if ((error = step(m, (unsigned char)in[i++])) > 0)
				error = 0;
			break;
		}
	}
	if (m->state == M_ERROR)
		return (VH_EINVAL);
	if (error < 0) {
		m->state = M_ERROR;
		return (error);
	}
	return (0);
}

int
vh_multipart_finish(struct vh_multipart *m)
{
	return (m->state == M_DONE ? 0 : VH_EINVAL);
}
