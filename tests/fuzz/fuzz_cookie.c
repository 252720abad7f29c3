/* Fuzzes the Cookie header parser and the address key: a found value is
 * non-empty, holds no ';', and is part of the input; a value put into a
 * header between other cookies is found again unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vh_session.h"
#include "vh_xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, *v, *hdr, key[64];

	s = vh_xstrndup((const char *)data, size);	/* stops at a NUL */
	if ((v = vh_cookie_get(s, VH_SESSION_COOKIE)) != NULL) {
		if (*v == '\0' || strchr(v, ';') != NULL || strstr(s, v) == NULL)
			abort();
		free(v);
	}
	/* Round trip for values a server would set (no ; , space or quote). */
	if (strpbrk(s, "; \t\"") == NULL && *s != '\0') {
		hdr = vh_xasprintf("a=1; %s=%s; b=2", VH_SESSION_COOKIE, s);
		v = vh_cookie_get(hdr, VH_SESSION_COOKIE);
		if (v == NULL || strcmp(v, s) != 0)
			abort();
		free(v);
		free(hdr);
	}
	vh_session_addr_key(s, key, sizeof key);
	if (strlen(key) >= sizeof key)
		abort();
	free(s);
	return (0);
}
