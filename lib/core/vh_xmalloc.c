/* Checked allocation: every size product is overflow-checked and failure
 * aborts through vh_fatal, so callers never test for NULL. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_log.h"
#include "vh_xmalloc.h"

void *
vh_xmalloc(size_t size)
{
	void	*p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		vh_fatal("malloc %zu bytes", size);
	return (p);
}

void *
vh_xcalloc(size_t n, size_t size)
{
	void	*p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		vh_fatal("calloc %zu x %zu bytes", n, size);
	return (p);
}

void *
vh_xreallocarray(void *old, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		vh_fatal("reallocarray %zu x %zu overflows", n, size);
	if (n * size == 0)
		n = size = 1;
	if ((p = realloc(old, n * size)) == NULL)
		vh_fatal("realloc %zu x %zu bytes", n, size);
	return (p);
}

char *
vh_xstrdup(const char *s)
{
	return (vh_xstrndup(s, strlen(s)));
}

char *
vh_xstrndup(const char *s, size_t n)
{
	char	*p;
	size_t	 len;

	len = strnlen(s, n);
	p = vh_xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

char *
vh_xvasprintf(const char *fmt, va_list ap)
{
	char	*s;

	if (vasprintf(&s, fmt, ap) == -1)
		vh_fatal("vasprintf");
	return (s);
}

char *
vh_xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = vh_xvasprintf(fmt, ap);
	va_end(ap);
	return (s);
}
