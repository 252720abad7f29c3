#ifndef VH_SERVE_H
#define VH_SERVE_H
/* Serving stored files: ETag (the SHA-256), If-None-Match, one byte
 * range, and the headers that keep a browser from interpreting them. */
#include <stdint.h>

#include "vh_http.h"

/*
 * Parses a Range header value against a file of size bytes: 0 with the
 * inclusive [*first, *last]; VH_ENOENT when the header should be ignored
 * (not "bytes=", several ranges, malformed); VH_EINVAL when unsatisfiable.
 */
int	vh_serve_parse_range(const char *value, int64_t size, int64_t *first,
	    int64_t *last);

/*
 * Answers req with the file fd (taken) of size bytes whose SHA-256 is
 * sha256: 200, 206, 304 or 416 as the request's headers ask.
 * disposition is "attachment" or "inline".
 */
void	vh_serve_file(struct vh_http_req *, int fd, int64_t size,
	    const char *sha256, const char *content_type, const char *filename,
	    const char *disposition);

#endif
