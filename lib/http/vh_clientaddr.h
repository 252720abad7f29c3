#ifndef VH_CLIENTADDR_H
#define VH_CLIENTADDR_H
/*
 * The client address of a request behind reverse proxies. Only a peer in
 * the trusted list (trusted_proxies: addresses or CIDR blocks) is believed
 * about X-Forwarded-For, and then the right-most address in it that is not
 * itself a trusted proxy is the client: everything left of that was
 * written by the client and may be forged.
 */
#include <stdbool.h>
#include <stddef.h>

#include "vh_httpparse.h"

struct vh_clientaddr;

/* Parses "127.0.0.1, ::1, 10.0.0.0/8" (commas or spaces; "" trusts no
 * one). NULL with *err (caller frees) for a malformed entry. */
struct vh_clientaddr *vh_clientaddr_new(const char *list, char **err);
void	vh_clientaddr_free(struct vh_clientaddr *);
/* Whether addr (text) is one of the trusted proxies. */
bool	vh_clientaddr_trusted(const struct vh_clientaddr *, const char *addr);

/*
 * Writes the client's address to out: peer itself unless it is trusted
 * and head carries X-Forwarded-For (all such fields, in order, read as
 * one list). trusted may be NULL (trusts no one). Addresses come out in
 * canonical form (inet_ntop; IPv4-mapped IPv6 as IPv4).
 */
void	vh_clientaddr_resolve(const struct vh_clientaddr *, const char *peer,
	    const struct vh_http_head *, char *out, size_t outlen);

#endif
