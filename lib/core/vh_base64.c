/*
 * Base64 (RFC 4648). Decoding is deliberately strict: tus checksums and
 * metadata values have one canonical form, and accepting sloppy input
 * (missing padding, whitespace, stray bits) would let two different header
 * strings mean the same thing. Decoding runs a 256-entry table, encoding
 * works three bytes at a time.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vh_base64.h"
#include "vh_error.h"
#include "vh_xmalloc.h"

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of c in the standard alphabet, or -1. */
static int
sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);
	return (-1);
}

int
vh_base64_decode(const char *in, size_t len, uint8_t *out, size_t *outlen)
{
	size_t	 n = 0;

	*outlen = 0;
	if (len % 4 != 0)
		return (VH_EINVAL);
	for (size_t i = 0; i < len; i += 4) {
		int	 v[4], pad = 0;

		for (int j = 0; j < 4; j++) {
			unsigned char c = (unsigned char)in[i + j];

			if (c == '=') {
				/* Padding only in the last group's last two places. */
				if (i + 4 != len || j < 2)
					return (VH_EINVAL);
				pad++;
				v[j] = 0;
				continue;
			}
			if (pad > 0 || (v[j] = sextet(c)) < 0)
				return (VH_EINVAL);
		}
		/* The bits that padding leaves over must be zero. */
		if ((pad == 1 && (v[2] & 0x03) != 0) ||
		    (pad == 2 && (v[1] & 0x0f) != 0))
			return (VH_EINVAL);
		out[n++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[n++] = (uint8_t)((v[1] & 0x0f) << 4 | v[2] >> 2);
		if (pad < 1)
			out[n++] = (uint8_t)((v[2] & 0x03) << 6 | v[3]);
	}
	*outlen = n;
	return (0);
}

int
vh_base64_decode_alloc(const char *in, size_t len, uint8_t **out,
    size_t *outlen)
{
	uint8_t	*buf;

	*out = NULL;
	buf = vh_xmalloc(VH_BASE64_DECODED_MAX(len) + 1);
	if (vh_base64_decode(in, len, buf, outlen) != 0) {
		free(buf);
		return (VH_EINVAL);
	}
	buf[*outlen] = '\0';
	*out = buf;
	return (0);
}

static char *
encode(const char *alphabet, bool pad, const void *data, size_t len)
{
	const uint8_t	*p = data;
	char		*out, *o;
	size_t		 i;

	/* One spare group holds the NUL; the product is overflow-checked. */
	o = out = vh_xreallocarray(NULL, len / 3 + 2, 4);
	for (i = 0; i + 3 <= len; i += 3) {
		*o++ = alphabet[p[i] >> 2];
		*o++ = alphabet[(p[i] & 0x03) << 4 | p[i + 1] >> 4];
		*o++ = alphabet[(p[i + 1] & 0x0f) << 2 | p[i + 2] >> 6];
		*o++ = alphabet[p[i + 2] & 0x3f];
	}
	if (len - i == 1) {
		*o++ = alphabet[p[i] >> 2];
		*o++ = alphabet[(p[i] & 0x03) << 4];
		if (pad) {
			*o++ = '=';
			*o++ = '=';
		}
	} else if (len - i == 2) {
		*o++ = alphabet[p[i] >> 2];
		*o++ = alphabet[(p[i] & 0x03) << 4 | p[i + 1] >> 4];
		*o++ = alphabet[(p[i + 1] & 0x0f) << 2];
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return (out);
}

char *
vh_base64_encode(const void *data, size_t len)
{
	return (encode(std_alphabet, true, data, len));
}

char *
vh_base64url_encode(const void *data, size_t len)
{
	return (encode(url_alphabet, false, data, len));
}
