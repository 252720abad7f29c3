/*
 * Streaming decoder of the chunked transfer coding (RFC 9112 section 7.1).
 * A byte-at-a-time state machine walks chunk-size lines, extensions and the
 * trailer section, while chunk data is handed to the callback straight from
 * the caller's buffer, so the decoder holds no data and needs no memory
 * beyond its own struct. Line endings must be CRLF here: a lone LF inside a
 * body is where front proxies and servers disagree, and disagreement is
 * how requests get smuggled. Trailer fields are checked and discarded.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vh_error.h"
#include "vh_httpparse.h"
#include "vh_xmalloc.h"

#define MAX_LINE	4096		/* chunk-ext or one trailer line */
#define MAX_TRAILER	(16 * 1024)	/* the whole trailer section */

enum state {
	S_SIZE,		/* hex digits of chunk-size */
	S_EXT,		/* after the size: BWS, chunk-ext */
	S_SIZE_LF,	/* CR seen at the end of the size line */
	S_DATA,		/* chunk-data, remaining bytes to go */
	S_DATA_CR,	/* CRLF after chunk-data */
	S_DATA_LF,
	S_TRAILER,	/* start of a trailer line or the final CRLF */
	S_TRAILER_NAME,
	S_TRAILER_VALUE,
	S_TRAILER_LF,	/* CR seen at the end of a trailer line */
	S_END_LF,	/* CR of the final empty line seen */
	S_DONE,
	S_ERROR,
};

struct vh_chunked {
	enum state	 state;
	int64_t		 size;		/* current chunk, then bytes left */
	size_t		 ndigits;
	size_t		 linelen;	/* of the chunk-ext or trailer line */
	size_t		 trailer_len;
	bool		 ext_started;	/* ';' seen on this size line */
	int64_t		 total;
};

struct vh_chunked *
vh_chunked_new(void)
{
	return (vh_xcalloc(1, sizeof(struct vh_chunked)));
}

void
vh_chunked_free(struct vh_chunked *c)
{
	free(c);
}

int64_t
vh_chunked_total(const struct vh_chunked *c)
{
	return (c->total);
}

static bool
is_ctl(unsigned char ch)
{
	return ((ch < 0x20 && ch != '\t') || ch == 0x7f);
}

/* Advances the line-oriented states by one byte; VH_EINVAL if malformed. */
static int
step(struct vh_chunked *c, unsigned char ch)
{
	int	 v;

	switch (c->state) {
	case S_SIZE:
		if ((v = vh_http_hexval(ch)) >= 0) {
			if (c->size > (INT64_MAX - v) / 16)
				return (VH_EINVAL);
			c->size = c->size * 16 + v;
			c->ndigits++;
			return (0);
		}
		if (c->ndigits == 0)
			return (VH_EINVAL);
		if (ch == '\r') {
			c->state = S_SIZE_LF;
			return (0);
		}
		if (ch != ';' && ch != ' ' && ch != '\t')
			return (VH_EINVAL);
		c->state = S_EXT;
		c->linelen = 0;
		c->ext_started = false;
		/* FALLTHROUGH */
	case S_EXT:
		if (ch == '\r') {
			c->state = S_SIZE_LF;
			return (0);
		}
		/* Only BWS may come between the size and the first ';'. */
		if (is_ctl(ch) || ++c->linelen > MAX_LINE ||
		    (!c->ext_started && ch != ';' && ch != ' ' && ch != '\t'))
			return (VH_EINVAL);
		if (ch == ';')
			c->ext_started = true;
		return (0);
	case S_SIZE_LF:
		if (ch != '\n')
			return (VH_EINVAL);
		if (c->size == 0) {
			c->state = S_TRAILER;
			return (0);
		}
		if (c->total > INT64_MAX - c->size)
			return (VH_EINVAL);
		c->state = S_DATA;
		return (0);
	case S_DATA_CR:
		if (ch != '\r')
			return (VH_EINVAL);
		c->state = S_DATA_LF;
		return (0);
	case S_DATA_LF:
		if (ch != '\n')
			return (VH_EINVAL);
		c->state = S_SIZE;
		c->size = 0;
		c->ndigits = 0;
		return (0);
	case S_TRAILER:
		if (ch == '\r') {
			c->state = S_END_LF;
			return (0);
		}
		/* A field line starts with its name: no obs-fold. */
		if (!vh_http_is_tchar(ch))
			return (VH_EINVAL);
		c->state = S_TRAILER_NAME;
		c->linelen = 0;
		/* FALLTHROUGH */
	case S_TRAILER_NAME:
	case S_TRAILER_VALUE:
		if (++c->linelen > MAX_LINE || ++c->trailer_len > MAX_TRAILER)
			return (VH_EINVAL);
		if (c->state == S_TRAILER_NAME) {
			if (ch == ':')
				c->state = S_TRAILER_VALUE;
			else if (!vh_http_is_tchar(ch))
				return (VH_EINVAL);
			return (0);
		}
		if (ch == '\r')
			c->state = S_TRAILER_LF;
		else if (is_ctl(ch))
			return (VH_EINVAL);
		return (0);
	case S_TRAILER_LF:
		if (ch != '\n')
			return (VH_EINVAL);
		c->state = S_TRAILER;
		return (0);
	case S_END_LF:
		if (ch != '\n')
			return (VH_EINVAL);
		c->state = S_DONE;
		return (0);
	case S_DATA:
	case S_DONE:
	case S_ERROR:
		break;
	}
	return (VH_EINVAL);
}

ssize_t
vh_chunked_feed(struct vh_chunked *c, const char *in, size_t len,
    vh_chunked_data_cb cb, void *arg, bool *done)
{
	size_t	 i = 0;
	int	 error;

	*done = false;
	if (c->state == S_ERROR)
		return (VH_EINVAL);
	while (i < len && c->state != S_DONE) {
		if (c->state == S_DATA) {
			size_t	 n = len - i;

			if ((uint64_t)n > (uint64_t)c->size)
				n = (size_t)c->size;
			/* Counted first: the callback may look at the total.
			 * c is used after it returns: the callback must not
			 * free the decoder (the HTTP server holds the request
			 * that owns it across every body callback). */
			c->total += (int64_t)n;
			c->size -= (int64_t)n;
			if ((error = cb(arg, in + i, n)) < 0) {
				c->state = S_ERROR;
				return (error);
			}
			i += n;
			if (c->size == 0)
				c->state = S_DATA_CR;
			continue;
		}
		if (step(c, (unsigned char)in[i]) != 0) {
			c->state = S_ERROR;
			return (VH_EINVAL);
		}
		i++;
	}
	*done = c->state == S_DONE;
	return ((ssize_t)i);
}
