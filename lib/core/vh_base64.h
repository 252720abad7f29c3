#ifndef VH_BASE64_H
#define VH_BASE64_H
/* Base64 (RFC 4648): strict standard decoding for tus headers, standard
 * encoding, and unpadded url-safe encoding for tokens. */
#include <stddef.h>
#include <stdint.h>

/* Bytes vh_base64_decode may write for len input characters. */
#define VH_BASE64_DECODED_MAX(len)	(((len) / 4) * 3)

/*
 * Decodes the standard alphabet with '=' padding required: len must be a
 * multiple of 4, no whitespace, and the unused bits of the last group must
 * be zero (so every value has exactly one encoding). out must hold
 * VH_BASE64_DECODED_MAX(len) bytes. 0 or VH_EINVAL.
 */
int	vh_base64_decode(const char *in, size_t len, uint8_t *out,
	    size_t *outlen) __attribute__((warn_unused_result));
/* As vh_base64_decode into a fresh buffer with a NUL after the data;
 * caller frees *out. *out is NULL on error. */
int	vh_base64_decode_alloc(const char *in, size_t len, uint8_t **out,
	    size_t *outlen) __attribute__((warn_unused_result));
/* Standard alphabet with padding, NUL-terminated; caller frees. */
char	*vh_base64_encode(const void *, size_t);
/* Url-safe alphabet ('-', '_') without padding; caller frees. */
char	*vh_base64url_encode(const void *, size_t);

#endif
