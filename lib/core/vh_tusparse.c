/*
 * tus 1.0.0 header values (https://tus.io/protocols/resumable-upload).
 * Upload-Metadata is split on commas into at most VH_TUS_MAX_PAIRS
 * key/value pairs whose values are decoded with the strict base64 decoder,
 * so a header has exactly one meaning; the decoded values are kept
 * NUL-terminated beside their lengths because they may be binary.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vh_base64.h"
#include "vh_error.h"
#include "vh_tusparse.h"
#include "vh_xmalloc.h"

struct pair {
	char		*key;
	uint8_t		*value;
	size_t		 len;
};

struct vh_tus_metadata {
	struct pair	 pairs[VH_TUS_MAX_PAIRS];
	size_t		 n;
};

int
vh_parse_int64_strict(const char *s, size_t len, int64_t *out)
{
	int64_t	 v = 0;

	if (len == 0)
		return (VH_EINVAL);
	for (size_t i = 0; i < len; i++) {
		int	 d = s[i] - '0';

		if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - d) / 10)
			return (VH_EINVAL);
		v = v * 10 + d;
	}
	*out = v;
	return (0);
}

void
vh_tus_metadata_free(struct vh_tus_metadata *md)
{
	if (md == NULL)
		return;
	for (size_t i = 0; i < md->n; i++) {
		free(md->pairs[i].key);
		free(md->pairs[i].value);
	}
	free(md);
}

/* Adds one "key[ value]" pair, already trimmed. */
static int
add_pair(struct vh_tus_metadata *md, const char *s, size_t len,
    const char **why)
{
	const char	*sp = memchr(s, ' ', len);
	size_t		 klen = sp != NULL ? (size_t)(sp - s) : len;
	struct pair	*p;

	if (len == 0) {
		*why = "empty Upload-Metadata pair";
		return (VH_EINVAL);
	}
	if (klen == 0 || klen > VH_TUS_MAX_KEY) {
		*why = "Upload-Metadata key must be 1 to 64 characters";
		return (VH_EINVAL);
	}
	for (size_t i = 0; i < klen; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f) {
			*why = "bad character in Upload-Metadata key";
			return (VH_EINVAL);
		}
	}
	for (size_t i = 0; i < md->n; i++) {
		if (strlen(md->pairs[i].key) == klen &&
		    memcmp(md->pairs[i].key, s, klen) == 0) {
			*why = "duplicate Upload-Metadata key";
			return (VH_EINVAL);
		}
	}
	if (md->n == VH_TUS_MAX_PAIRS) {
		*why = "too many Upload-Metadata pairs";
		return (VH_EINVAL);
	}
	p = &md->pairs[md->n];
	if (sp == NULL) {
		p->value = (uint8_t *)vh_xstrdup("");
		p->len = 0;
	} else if (vh_base64_decode_alloc(sp + 1, len - klen - 1, &p->value,
	    &p->len) != 0) {
		*why = "Upload-Metadata value is not base64";
		return (VH_EINVAL);
	}
	p->key = vh_xstrndup(s, klen);
	md->n++;
	return (0);
}

int
vh_tus_metadata_parse(const char *value, size_t len,
    struct vh_tus_metadata **out, const char **why)
{
	struct vh_tus_metadata *md = NULL;
	int		 error;

	*out = NULL;
	*why = NULL;
	if (len > VH_TUS_MAX_METADATA) {
		*why = "Upload-Metadata too long";
		return (VH_EINVAL);
	}
	md = vh_xcalloc(1, sizeof *md);
	for (size_t i = 0; len > 0 && i <= len;) {
		const char	*e = memchr(value + i, ',', len - i);
		size_t		 s = i, t = e != NULL ? (size_t)(e - value) : len;

		i = t + 1;
		while (s < t && (value[s] == ' ' || value[s] == '\t'))
			s++;
		while (t > s && (value[t - 1] == ' ' || value[t - 1] == '\t'))
			t--;
		if ((error = add_pair(md, value + s, t - s, why)) != 0)
			goto fail;
	}
	*out = md;
	return (0);
fail:
	vh_tus_metadata_free(md);
	return (error);
}

const char *
vh_tus_metadata_get(const struct vh_tus_metadata *md, const char *key,
    size_t *len)
{
	for (size_t i = 0; i < md->n; i++) {
		if (strcmp(md->pairs[i].key, key) == 0) {
			if (len != NULL)
				*len = md->pairs[i].len;
			return ((const char *)md->pairs[i].value);
		}
	}
	return (NULL);
}

size_t
vh_tus_metadata_count(const struct vh_tus_metadata *md)
{
	return (md->n);
}

const char *
vh_tus_metadata_key(const struct vh_tus_metadata *md, size_t i)
{
	return (i < md->n ? md->pairs[i].key : NULL);
}

int
vh_tus_checksum_parse(const char *value, enum vh_tus_algo *algo,
    uint8_t digest[32], size_t *digest_len)
{
	const char	*sp = strchr(value, ' '), *b64;
	size_t		 nlen, blen, want, n;
	uint8_t		 buf[VH_BASE64_DECODED_MAX(44)];

	*digest_len = 0;
	if (sp == NULL || sp == value)
		return (VH_EINVAL);
	nlen = (size_t)(sp - value);
	for (size_t i = 0; i < nlen; i++) {
		if (value[i] <= 0x20 || value[i] >= 0x7f)
			return (VH_EINVAL);
	}
	if (nlen == 4 && strncasecmp(value, "sha1", 4) == 0) {
		*algo = VH_TUS_SHA1;
		want = 20;
	} else if (nlen == 6 && strncasecmp(value, "sha256", 6) == 0) {
		*algo = VH_TUS_SHA256;
		want = 32;
	} else
		return (VH_ENOTSUP);
	b64 = sp + 1;
	blen = strlen(b64);
	/* Checked before decoding, so buf cannot overflow. */
	if (blen != (want + 2) / 3 * 4 ||
	    vh_base64_decode(b64, blen, buf, &n) != 0 || n != want)
		return (VH_EINVAL);
	memcpy(digest, buf, n);
	*digest_len = n;
	return (0);
}
