/*
 * Trusted proxies and X-Forwarded-For. The list is parsed once into
 * network blocks (an address alone is a /32 or /128); IPv4-mapped IPv6
 * addresses are compared as IPv4, so a dual-stack listener sees
 * "::ffff:127.0.0.1" as the 127.0.0.1 an operator wrote. Forwarded
 * entries are read right to left, the order in which proxies appended
 * them; the walk stops at the first untrusted or unreadable one.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vh_clientaddr.h"
#include "vh_error.h"
#include "vh_xmalloc.h"

#define MAX_BLOCKS	64
#define XFF_MAX		4096	/* forwarded text looked at */

struct block {
	int		 family;
	unsigned char	 addr[16];
	int		 bits;
};

struct vh_clientaddr {
	struct block	 blocks[MAX_BLOCKS];
	int		 n;
};

/* Parses an address; mapped IPv6 becomes IPv4. false if not one. */
static bool
parse_addr(const char *s, int *family, unsigned char a[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };

	if (inet_pton(AF_INET, s, a) == 1) {
		*family = AF_INET;
		return (true);
	}
	if (inet_pton(AF_INET6, s, a) != 1)
		return (false);
	*family = AF_INET6;
	if (memcmp(a, mapped, sizeof mapped) == 0) {
		memmove(a, a + 12, 4);
		*family = AF_INET;
	}
	return (true);
}

static bool
in_block(const struct block *b, int family, const unsigned char a[16])
{
	int	full = b->bits / 8, rest = b->bits % 8;

	if (b->family != family || memcmp(b->addr, a, (size_t)full) != 0)
		return (false);
	if (rest == 0)
		return (true);
	return (((b->addr[full] ^ a[full]) & (0xff << (8 - rest))) == 0);
}

static bool
trusted(const struct vh_clientaddr *t, int family, const unsigned char a[16])
{
	for (int i = 0; t != NULL && i < t->n; i++)
		if (in_block(&t->blocks[i], family, a))
			return (true);
	return (false);
}

/* One list entry, "addr" or "addr/bits", into b. */
static int
parse_block(const char *s, struct block *b)
{
	char		 buf[64], *slash, *end;
	long		 bits;
	int		 max;

	if (strlen(s) >= sizeof buf)
		return (VH_EINVAL);
	snprintf(buf, sizeof buf, "%s", s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	memset(b, 0, sizeof *b);
	if (!parse_addr(buf, &b->family, b->addr))
		return (VH_EINVAL);
	/* A mapped block "::ffff:10.0.0.0/104" keeps its IPv4 meaning. */
	max = b->family == AF_INET ? 32 : 128;
	b->bits = max;
	if (slash == NULL)
		return (0);
	if (!isdigit((unsigned char)*slash))
		return (VH_EINVAL);
	bits = strtol(slash, &end, 10);
	if (*end != '\0')
		return (VH_EINVAL);
	if (b->family == AF_INET && strchr(buf, ':') != NULL)
		bits -= 96;
	if (bits < 0 || bits > max)
		return (VH_EINVAL);
	b->bits = (int)bits;
	return (0);
}

struct vh_clientaddr *
vh_clientaddr_new(const char *list, char **err)
{
	struct vh_clientaddr	*t = vh_xcalloc(1, sizeof *t);
	char			*copy = vh_xstrdup(list), *tok, *save = NULL;

	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (t->n == MAX_BLOCKS) {
			*err = vh_xasprintf("trusted_proxies: more than %d "
			    "entries", MAX_BLOCKS);
			goto fail;
		}
		if (parse_block(tok, &t->blocks[t->n]) != 0) {
			*err = vh_xasprintf("trusted_proxies: '%s' is not an "
			    "IP address or CIDR block", tok);
			goto fail;
		}
		t->n++;
	}
	free(copy);
	return (t);
fail:
	free(copy);
	free(t);
	return (NULL);
}

void
vh_clientaddr_free(struct vh_clientaddr *t)
{
	free(t);
}

bool
vh_clientaddr_trusted(const struct vh_clientaddr *t, const char *addr)
{
	unsigned char	a[16];
	int		family;

	return (parse_addr(addr, &family, a) && trusted(t, family, a));
}

/*
 * One forwarded entry: trims blanks, and accepts "[v6]", "[v6]:port" and
 * "v4:port" as some proxies write them. false if it is no address.
 */
static bool
parse_entry(const char *s, size_t len, int *family, unsigned char a[16])
{
	char	 buf[64];
	char	*p = buf, *e;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof buf)
		return (false);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (*p == '[') {
		if ((e = strchr(++p, ']')) == NULL)
			return (false);
		*e = '\0';
	} else if ((e = strchr(p, ':')) != NULL && strchr(e + 1, ':') == NULL)
		*e = '\0';		/* v4:port */
	return (parse_addr(p, family, a));
}

static void
format(int family, const unsigned char a[16], char *out, size_t outlen)
{
	if (inet_ntop(family, a, out, (socklen_t)outlen) == NULL)
		snprintf(out, outlen, "?");
}

void
vh_clientaddr_resolve(const struct vh_clientaddr *t, const char *peer,
    const struct vh_http_head *head, char *out, size_t outlen)
{
	char		 xff[XFF_MAX];
	size_t		 n = 0, end;
	unsigned char	 a[16];
	int		 family;

	if (!parse_addr(peer, &family, a)) {
		snprintf(out, outlen, "%s", peer);
		return;
	}
	format(family, a, out, outlen);
	if (head == NULL || !trusted(t, family, a))
		return;
	/* Several fields are one list, in order (RFC 9110 5.3). */
	for (size_t i = 0; i < head->nheaders; i++) {
		const struct vh_http_header *h = &head->headers[i];

		if (h->name_len != 15 ||
		    strncasecmp(h->name, "X-Forwarded-For", 15) != 0)
			continue;
		if (n + h->value_len + 1 >= sizeof xff)
			return;		/* too long to judge: the peer */
		if (n > 0)
			xff[n++] = ',';
		memcpy(xff + n, h->value, h->value_len);
		n += h->value_len;
	}
	for (end = n; end > 0; ) {
		size_t start = end;

		while (start > 0 && xff[start - 1] != ',')
			start--;
		if (!parse_entry(xff + start, end - start, &family, a))
			return;		/* the last readable hop stands */
		format(family, a, out, outlen);
		if (!trusted(t, family, a))
			return;
		end = start > 0 ? start - 1 : 0;
	}
}
