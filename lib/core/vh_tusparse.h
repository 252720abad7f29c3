#ifndef VH_TUSPARSE_H
#define VH_TUSPARSE_H
/* tus 1.0.0 request headers: Upload-Metadata, Upload-Checksum and the
 * strict decimal integers of Upload-Length and Upload-Offset. */
#include <stddef.h>
#include <stdint.h>

#define VH_TUS_MAX_PAIRS	64
#define VH_TUS_MAX_KEY		64
#define VH_TUS_MAX_METADATA	(16 * 1024)

struct vh_tus_metadata;

/*
 * Upload-Metadata: comma-separated "key base64value" or "key" pairs (SP and
 * HTAB around a pair are ignored). Keys: 1..64 chars, ASCII printable
 * without space or comma, unique; values strict base64 (decoded values may
 * be binary; stored NUL-terminated). At most 64 pairs and 16 KiB header;
 * an empty header gives no pairs. VH_EINVAL with *why (static) otherwise.
 * Caller frees *out; *out is NULL on error.
 */
int	vh_tus_metadata_parse(const char *value, size_t len,
	    struct vh_tus_metadata **out, const char **why)
	    __attribute__((warn_unused_result));
void	vh_tus_metadata_free(struct vh_tus_metadata *);
/* Decoded value (borrowed, NUL-terminated; "" for a key without value),
 * its length in *len if len is not NULL; NULL if absent. */
const char *vh_tus_metadata_get(const struct vh_tus_metadata *,
	    const char *key, size_t *len);
size_t	vh_tus_metadata_count(const struct vh_tus_metadata *);
/* The i-th key in header order (borrowed), NULL past the end. */
const char *vh_tus_metadata_key(const struct vh_tus_metadata *, size_t i);

enum vh_tus_algo {
	VH_TUS_SHA1,
	VH_TUS_SHA256,
};

/*
 * Upload-Checksum: "sha1 <base64>" or "sha256 <base64>" (algorithm names
 * case-insensitive); digest length must match. VH_ENOTSUP for another
 * algorithm name, VH_EINVAL for malformed.
 */
int	vh_tus_checksum_parse(const char *value, enum vh_tus_algo *,
	    uint8_t digest[32], size_t *digest_len)
	    __attribute__((warn_unused_result));

/*
 * Strict non-negative decimal (Upload-Length, Upload-Offset, Content-Length
 * style): digits only, no sign, no spaces, <= INT64_MAX. 0 or VH_EINVAL.
 */
int	vh_parse_int64_strict(const char *s, size_t len, int64_t *out)
	    __attribute__((warn_unused_result));

#endif
