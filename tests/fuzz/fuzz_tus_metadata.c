/* Fuzzes tus headers: Upload-Metadata (each parsed pair re-encoded must
 * parse back to the same value), Upload-Checksum, strict integers, and
 * base64 canonicity (a decoded value re-encodes to its input). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_base64.h"
#include "vh_tusparse.h"
#include "vh_xmalloc.h"

static void
check_metadata(const char *s, size_t len)
{
	struct vh_tus_metadata *md, *again;
	const char	*why, *key, *v, *v2;
	size_t		 n, n2;
	char		*enc, *pair;

	if (vh_tus_metadata_parse(s, len, &md, &why) != 0) {
		if (md != NULL || why == NULL)
			abort();
		return;
	}
	if (vh_tus_metadata_count(md) > VH_TUS_MAX_PAIRS)
		abort();
	for (size_t i = 0; (key = vh_tus_metadata_key(md, i)) != NULL; i++) {
		if (strlen(key) == 0 || strlen(key) > VH_TUS_MAX_KEY ||
		    (v = vh_tus_metadata_get(md, key, &n)) == NULL ||
		    v[n] != '\0')
			abort();
		enc = vh_base64_encode(v, n);
		pair = vh_xasprintf("%s %s", key, enc);
		if (vh_tus_metadata_parse(pair, strlen(pair), &again, &why) != 0 ||
		    (v2 = vh_tus_metadata_get(again, key, &n2)) == NULL ||
		    n2 != n || memcmp(v, v2, n) != 0)
			abort();
		vh_tus_metadata_free(again);
		free(pair);
		free(enc);
	}
	vh_tus_metadata_free(md);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s = vh_xstrndup((const char *)data, size);
	uint8_t		 digest[32], *dec;
	size_t		 n;
	enum vh_tus_algo algo;
	int64_t		 v;
	char		*enc, num[32];

	check_metadata((const char *)data, size);

	if (vh_tus_checksum_parse(s, &algo, digest, &n) == 0 &&
	    n != (algo == VH_TUS_SHA1 ? 20u : 32u))
		abort();

	if (vh_parse_int64_strict((const char *)data, size, &v) == 0) {
		snprintf(num, sizeof num, "%lld", (long long)v);
		if (v < 0 || strlen(num) > size)
			abort();
	}

	if (vh_base64_decode_alloc((const char *)data, size, &dec, &n) == 0) {
		enc = vh_base64_encode(dec, n);
		if (strlen(enc) != size || memcmp(enc, data, size) != 0)
			abort();
		free(enc);
		free(dec);
	}
	free(s);
	return (0);
}
