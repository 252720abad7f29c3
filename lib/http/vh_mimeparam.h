#ifndef VH_MIMEPARAM_H
#define VH_MIMEPARAM_H
/* MIME header parameters ("type; name=value; name="quoted""), shared by
 * Content-Type and Content-Disposition parsing in vh_multipart.c. */
#include <stdbool.h>
#include <stddef.h>

/*
 * Reads the leading token (media type or disposition type) of a header
 * value into [*start, *start + *len) and leaves *p after it. VH_EINVAL if
 * there is none.
 */
int	vh_mimeparam_type(const char **p, const char **start, size_t *len)
	    __attribute__((warn_unused_result));
/*
 * Reads the next "; name=value" from *p. Returns 1 with *name, *nlen
 * (borrowed) and *value (unquoted, caller frees) set, 0 at the end of the
 * value, or VH_EINVAL for bad syntax. In a quoted-string a backslash
 * escapes only '"' and '\': other backslashes are kept, so old browsers'
 * unescaped Windows paths survive.
 */
int	vh_mimeparam_next(const char **p, const char **name, size_t *nlen,
	    char **value) __attribute__((warn_unused_result));
/* Does the parameter name [name, name + nlen) equal want, ignoring case? */
bool	vh_mimeparam_is(const char *name, size_t nlen, const char *want);

#endif
