/*
 * File responses. The ETag is the content's SHA-256, so it is strong and
 * never changes for the same bytes. Only single ranges are served; a
 * multi-range request gets the whole file, as RFC 9110 allows.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vh_error.h"
#include "vh_serve.h"

static int
parse_num(const char **p, int64_t *out)
{
	int64_t v = 0;

	if (!isdigit((unsigned char)**p))
		return (VH_EINVAL);
	while (isdigit((unsigned char)**p)) {
		if (v > (INT64_MAX - 9) / 10)
			return (VH_EINVAL);
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return (0);
}

int
vh_serve_parse_range(const char *v, int64_t size, int64_t *first,
    int64_t *last)
{
	const char	*p;
	int64_t		 a, b;

	if (strncmp(v, "bytes=", 6) != 0 || strchr(v, ',') != NULL)
		return (VH_ENOENT);
	p = v + 6;
	if (*p == '-') {		/* suffix: the last b bytes */
		p++;
		if (parse_num(&p, &b) != 0 || *p != '\0')
			return (VH_ENOENT);
		if (b == 0 || size == 0)
			return (VH_EINVAL);
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return (0);
	}
	if (parse_num(&p, &a) != 0 || *p++ != '-')
		return (VH_ENOENT);
	if (*p == '\0')
		b = size - 1;
	else if (parse_num(&p, &b) != 0 || *p != '\0' || b < a)
		return (VH_ENOENT);
	if (a >= size)
		return (VH_EINVAL);
	*first = a;
	*last = b >= size ? size - 1 : b;
	return (0);
}

/* Does If-None-Match list our ETag (or "*")? */
static bool
etag_matches(const char *inm, const char *etag)
{
	size_t n = strlen(etag);

	if (strcmp(inm, "*") == 0)
		return (true);
	for (const char *p = inm; (p = strstr(p, etag)) != NULL; p += n)
		return (true);
	return (false);
}

void
vh_serve_file(struct vh_http_req *req, int fd, int64_t size,
    const char *sha256, const char *ctype, const char *filename,
    const char *disposition)
{
	const char	*inm = vh_http_req_header(req, "If-None-Match");
	const char	*range = vh_http_req_header(req, "Range");
	char		 etag[80], safe[128];
	int64_t		 first = 0, last = size - 1;
	size_t		 j = 0;
	int		 rc;

	snprintf(etag, sizeof etag, "\"%s\"", sha256);
	vh_http_add_header(req, "ETag", "%s", etag);
	vh_http_add_header(req, "Accept-Ranges", "bytes");
	/* One Cache-Control only: downloads (sealed originals) are never
	 * stored, renditions are revalidated by ETag. */
	vh_http_add_header(req, "Cache-Control", "%s", strcmp(disposition,
	    "attachment") == 0 ? "private, no-store" : "private, no-cache");
	vh_http_add_header(req, "Content-Security-Policy",
	    "default-src 'none'; sandbox");
	/* Only plain characters reach the header. */
	for (const char *s = filename != NULL ? filename : ""; *s != '\0' &&
	    j < sizeof safe - 1; s++)
		if (isalnum((unsigned char)*s) || strchr("._- ", *s) != NULL)
			safe[j++] = *s;
	safe[j] = '\0';
	if (j > 0)
		vh_http_add_header(req, "Content-Disposition", "%s; filename=\"%s\"",
		    disposition, safe);
	else
		vh_http_add_header(req, "Content-Disposition", "%s", disposition);

	if (inm != NULL && etag_matches(inm, etag)) {
		close(fd);
		vh_http_respond(req, 304, NULL, NULL, 0);
		return;
	}
	if (range != NULL) {
		rc = vh_serve_parse_range(range, size, &first, &last);
		if (rc == VH_EINVAL) {
			close(fd);
			vh_http_add_header(req, "Content-Range", "bytes */%" PRId64,
			    size);
			vh_http_respond_problem(req, 416, "range-not-satisfiable",
			    "the file has %" PRId64 " bytes", size);
			return;
		}
		if (rc == 0) {
			vh_http_add_header(req, "Content-Range",
			    "bytes %" PRId64 "-%" PRId64 "/%" PRId64, first, last,
			    size);
			vh_http_respond_fd(req, 206, ctype, fd, first,
			    last - first + 1);
			return;
		}
	}
	vh_http_respond_fd(req, 200, ctype, fd, 0, size);
}
