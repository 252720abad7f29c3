#ifndef VH_HTTPPARSE_H
#define VH_HTTPPARSE_H
/*
 * Pure HTTP/1.1 parsing (RFC 9112) for the server: request heads, body
 * framing, the chunked transfer coding and request-target helpers. Nothing
 * here does I/O; vh_http.c feeds it bytes from its evbuffers.
 * Head parsing lives in vh_httpparse.c, the chunked decoder in vh_chunked.c
 * and the target helpers in vh_httpurl.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VH_HTTP_MAX_HEADERS 100

enum vh_http_method {
	VH_HTTP_GET,
	VH_HTTP_HEAD,
	VH_HTTP_POST,
	VH_HTTP_PUT,
	VH_HTTP_PATCH,
	VH_HTTP_DELETE,
	VH_HTTP_OPTIONS,
	VH_HTTP_OTHER,
};

struct vh_http_header {
	const char	*name;
	size_t		 name_len;
	const char	*value;
	size_t		 value_len;
};

struct vh_http_head {
	enum vh_http_method method;
	const char	*method_str;
	size_t		 method_len;
	const char	*target;	/* request-target as sent */
	size_t		 target_len;
	int		 version_minor;	/* HTTP/1.0 -> 0, HTTP/1.1 -> 1 */
	struct vh_http_header headers[VH_HTTP_MAX_HEADERS];
	size_t		 nheaders;
};

/*
 * Length of the head including its terminating blank line (CRLFCRLF; a bare
 * LF line ending is accepted too), or 0 when buf does not yet hold a whole
 * head. Empty lines before the request line (RFC 9112 section 2.2) are
 * skipped and counted in the length.
 */
size_t	vh_http_head_end(const char *buf, size_t len);

/*
 * Parses a whole head (as delimited by vh_http_head_end). Pointers point
 * into buf (borrowed). 0 on success; VH_EINVAL (400) with *why for a
 * malformed line, bad method token, bad target (must start with '/' or be
 * "*" for OPTIONS; printable ASCII only: no control chars, no spaces, no
 * bytes >= 0x80), obs-fold, whitespace before colon, bad header name token,
 * control chars in values (except HTAB); VH_ETOOBIG when more than
 * VH_HTTP_MAX_HEADERS headers (431); VH_ENOTSUP for a version other than
 * HTTP/1.0 or HTTP/1.1 (505). Header values are trimmed of leading and
 * trailing SP/HTAB. *why is a static string.
 */
int	vh_http_parse_head(const char *buf, size_t len, struct vh_http_head *,
	    const char **why) __attribute__((warn_unused_result));

/* Case-insensitive lookup; the first match or NULL. */
const struct vh_http_header *vh_http_head_find(const struct vh_http_head *,
	    const char *name);

/* How the body is framed. */
enum vh_http_body_kind {
	VH_BODY_NONE,
	VH_BODY_LENGTH,
	VH_BODY_CHUNKED,
};

/*
 * Reads Content-Length and Transfer-Encoding: VH_EINVAL (400) with *why for
 * a bad or conflicting Content-Length (several different values, non-digits,
 * overflow past INT64_MAX), for both Transfer-Encoding and Content-Length
 * (smuggling), for Transfer-Encoding in an HTTP/1.0 request (RFC 9112
 * section 6.1), for HTTP/1.1 without exactly one Host header; VH_ENOTSUP
 * (501) for a transfer coding other than a single "chunked".
 * Content-Length 0 -> VH_BODY_LENGTH with length 0. *length is 0 for
 * VH_BODY_NONE and -1 for VH_BODY_CHUNKED.
 */
int	vh_http_head_body(const struct vh_http_head *, enum vh_http_body_kind *,
	    int64_t *length, const char **why) __attribute__((warn_unused_result));

/* Does the comma-separated token list of header `name` (all its instances)
 * contain token (case-insensitive)? e.g. Connection: keep-alive, Upgrade /
 * Expect: 100-continue */
bool	vh_http_head_has_token(const struct vh_http_head *, const char *name,
	    const char *token);

/* HTTP-token character (RFC 9110 tchar)? */
bool	vh_http_is_tchar(unsigned char);
/* Value of a hex digit, or -1. */
int	vh_http_hexval(unsigned char);

/* Streaming decoder of the chunked transfer coding (vh_chunked.c). */
struct vh_chunked;
struct vh_chunked *vh_chunked_new(void);
void	vh_chunked_free(struct vh_chunked *);
typedef int (*vh_chunked_data_cb)(void *arg, const char *data, size_t len);
/*
 * Consumes as much of in as it can; calls cb for each piece of body data
 * (never buffering data itself). Returns bytes consumed (>= 0); sets *done
 * once the last chunk and the trailer section have been read (bytes after
 * that are left unconsumed: they belong to the next pipelined request).
 * Returns VH_EINVAL for malformed coding (bad hex, size overflow past
 * INT64_MAX, missing CRLF after data, chunk-ext or trailer line longer than
 * 4096 bytes, trailer section over 16 KiB), or the callback's negative
 * return value unchanged. Chunk lines and trailers must end in CRLF. After
 * an error the decoder stays failed and returns VH_EINVAL.
 */
ssize_t	vh_chunked_feed(struct vh_chunked *, const char *in, size_t len,
	    vh_chunked_data_cb, void *arg, bool *done)
	    __attribute__((warn_unused_result));
/* Body bytes decoded so far. */
int64_t	vh_chunked_total(const struct vh_chunked *);

/*
 * Splits an origin-form target (vh_httpurl.c) into its path,
 * percent-decoded into a fresh string, and its raw query (after '?'; ""
 * when there is none, never NULL). Rejects with VH_EINVAL a target not
 * starting with '/' (the asterisk-form "*" gives path "*"), '#', %00,
 * bad %-escapes and "." or ".." segments (also when percent-encoded).
 * Caller frees both; both are NULL on error.
 */
int	vh_http_split_target(const char *target, size_t len, char **path,
	    char **query) __attribute__((warn_unused_result));
/*
 * Percent- and '+'-decoded value of the first name=value in an
 * application/x-www-form-urlencoded query ("" for a bare name), or NULL if
 * absent, if query is NULL, or if the value has a bad escape or %00.
 * Caller frees.
 */
char	*vh_http_query_get(const char *query, const char *name);

/* True when a request method changes state (POST, PUT, PATCH, DELETE):
 * with a session cookie it needs the CSRF token. */
bool	vh_http_method_unsafe(enum vh_http_method);

#endif
