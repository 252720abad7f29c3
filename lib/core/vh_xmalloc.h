#ifndef VH_XMALLOC_H
#define VH_XMALLOC_H
/* Allocation that never returns NULL: on failure it logs and aborts, the
 * only way lib/ ever ends the process. */
#include <stdarg.h>
#include <stddef.h>

void	*vh_xmalloc(size_t);
void	*vh_xcalloc(size_t, size_t);
void	*vh_xreallocarray(void *, size_t, size_t);
char	*vh_xstrdup(const char *);
char	*vh_xstrndup(const char *, size_t);
char	*vh_xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*vh_xvasprintf(const char *, va_list) __attribute__((format(printf, 1, 0)));

#endif
