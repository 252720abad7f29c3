/*
 * MIME header parameters (RFC 2045 section 5.1, RFC 9110 section 5.6.6):
 * a leading token, then "; name=value" pairs whose values are tokens or
 * quoted-strings. Values are returned unquoted in fresh strings; unquoted
 * values are taken up to the next ';' or whitespace so that sloppy but
 * common boundaries ("boundary=----x=y") still parse, and callers validate
 * the characters they care about.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vh_error.h"
#include "vh_httpparse.h"
#include "vh_mimeparam.h"
#include "vh_xmalloc.h"

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return (p);
}

bool
vh_mimeparam_is(const char *name, size_t nlen, const char *want)
{
	return (strlen(want) == nlen && strncasecmp(name, want, nlen) == 0);
}

int
vh_mimeparam_type(const char **p, const char **start, size_t *len)
{
	const char	*s = skip_ows(*p), *e = s;

	/* A media type is token "/" token; a disposition type a token. */
	while (vh_http_is_tchar((unsigned char)*e) || *e == '/')
		e++;
	if (e == s)
		return (VH_EINVAL);
	*start = s;
	*len = (size_t)(e - s);
	*p = e;
	return (0);
}

/* Unquotes the quoted-string at *p (on its opening quote). */
static int
quoted(const char **p, char **value)
{
	const char	*s = *p + 1;
	char		*out, *o;

	o = out = vh_xmalloc(strlen(s) + 1);
	for (; *s != '"'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\0' || (c < 0x20 && c != '\t') || c == 0x7f)
			goto fail;
		if (c == '\\' && (s[1] == '"' || s[1] == '\\'))
			c = (unsigned char)*++s;
		*o++ = (char)c;
	}
	*o = '\0';
	*p = s + 1;
	*value = out;
	return (0);
fail:
	free(out);
	return (VH_EINVAL);
}

int
vh_mimeparam_next(const char **p, const char **name, size_t *nlen,
    char **value)
{
	const char	*s = skip_ows(*p), *e;

	*value = NULL;
	if (*s == '\0')
		return (0);
	if (*s != ';')
		return (VH_EINVAL);
	/* A trailing ';' is common and harmless. */
	s = skip_ows(s + 1);
	if (*s == '\0') {
		*p = s;
		return (0);
	}
	for (e = s; vh_http_is_tchar((unsigned char)*e); e++)
		;
	if (e == s || *e != '=')
		return (VH_EINVAL);
	*name = s;
	*nlen = (size_t)(e - s);
	s = e + 1;
	if (*s == '"') {
		if (quoted(&s, value) != 0)
			return (VH_EINVAL);
	} else {
		for (e = s; *e != '\0' && *e != ';' && *e != ' ' && *e != '\t' &&
		    (unsigned char)*e > 0x20 && *e != 0x7f; e++)
			;
		if (e == s || (*e != '\0' && *e != ';' && *e != ' ' &&
		    *e != '\t'))
			return (VH_EINVAL);
		*value = vh_xstrndup(s, (size_t)(e - s));
		s = e;
	}
	*p = s;
	return (1);
}
