/*
 * Request-target helpers: split an origin-form target into a decoded path
 * and its raw query, and look names up in a form-urlencoded query. The
 * path is checked after decoding, so "%2e%2e" and "%2F" cannot smuggle a
 * dot segment past the router; %00 never reaches a C string.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vh_error.h"
#include "vh_httpparse.h"
#include "vh_xmalloc.h"

/*
 * Percent-decodes s[0..len) into a fresh string, also '+' to space when
 * plus is set. NULL for a bad escape or %00.
 */
static char *
decode(const char *s, size_t len, bool plus)
{
	char	*out = vh_xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int	 hi, lo;

			if (i + 2 >= len ||
			    (hi = vh_http_hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = vh_http_hexval((unsigned char)s[i + 2])) < 0 ||
			    (hi == 0 && lo == 0))
				goto fail;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus && s[i] == '+')
			*o++ = ' ';
		else
			*o++ = s[i];
	}
	*o = '\0';
	return (out);
fail:
	free(out);
	return (NULL);
}

/* Does the decoded path hold a "." or ".." segment? */
static bool
has_dot_segment(const char *path)
{
	const char	*p = path;

	while ((p = strchr(p, '/')) != NULL) {
		p++;
		if (p[0] == '.' && (p[1] == '/' || p[1] == '\0'))
			return (true);
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return (true);
	}
	return (false);
}

int
vh_http_split_target(const char *target, size_t len, char **path,
    char **query)
{
	const char	*q;
	size_t		 plen;

	*path = *query = NULL;
	if (len == 1 && target[0] == '*') {
		*path = vh_xstrdup("*");
		*query = vh_xstrdup("");
		return (0);
	}
	if (len == 0 || target[0] != '/' || memchr(target, '#', len) != NULL ||
	    memchr(target, '\0', len) != NULL)
		return (VH_EINVAL);
	q = memchr(target, '?', len);
	plen = q != NULL ? (size_t)(q - target) : len;
	if ((*path = decode(target, plen, false)) == NULL)
		return (VH_EINVAL);
	if (has_dot_segment(*path)) {
		free(*path);
		*path = NULL;
		return (VH_EINVAL);
	}
	if (q != NULL)
		*query = vh_xstrndup(q + 1, len - plen - 1);
	else
		*query = vh_xstrdup("");
	return (0);
}

char *
vh_http_query_get(const char *query, const char *name)
{
	const char	*p = query;

	if (query == NULL)
		return (NULL);
	while (*p != '\0') {
		const char	*end = strchr(p, '&'), *eq;
		size_t		 n;
		char		*key;
		bool		 match;

		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		eq = memchr(p, '=', n);
		key = decode(p, eq != NULL ? (size_t)(eq - p) : n, true);
		match = key != NULL && strcmp(key, name) == 0;
		free(key);
		if (match) {
			if (eq == NULL)
				return (vh_xstrdup(""));
			return (decode(eq + 1, (size_t)(end - eq - 1), true));
		}
		p = *end == '&' ? end + 1 : end;
	}
	return (NULL);
}
