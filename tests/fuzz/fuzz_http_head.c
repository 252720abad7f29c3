/* Fuzzes request heads: vh_http_head_end, vh_http_parse_head,
 * vh_http_head_body, token lists and vh_http_split_target, and checks
 * what they promise (pointers inside the buffer, trimmed values, a head
 * end that does not move when more bytes arrive). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vh_httpparse.h"

static struct vh_http_head head;

static void
check_inside(const char *buf, size_t len, const char *p, size_t n)
{
	if (p < buf || p + n > buf + len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*buf = (const char *)data, *why;
	size_t		 end;
	enum vh_http_body_kind kind;
	int64_t		 length;
	char		*path, *query, *v;

	end = vh_http_head_end(buf, size);
	if (end > size)
		abort();
	if (end > 0 && (vh_http_head_end(buf, end) != end ||
	    vh_http_head_end(buf, end - 1) != 0))
		abort();
	if (vh_http_parse_head(buf, end > 0 ? end : size, &head, &why) != 0) {
		if (why == NULL)
			abort();
		return (0);
	}
	check_inside(buf, size, head.method_str, head.method_len);
	check_inside(buf, size, head.target, head.target_len);
	if (head.nheaders > VH_HTTP_MAX_HEADERS || head.target_len == 0)
		abort();
	for (size_t i = 0; i < head.nheaders; i++) {
		const struct vh_http_header *f = &head.headers[i];

		check_inside(buf, size, f->name, f->name_len);
		check_inside(buf, size, f->value, f->value_len);
		if (f->value_len > 0 && (f->value[0] == ' ' ||
		    f->value[f->value_len - 1] == '\t'))
			abort();
	}
	if (vh_http_head_body(&head, &kind, &length, &why) == 0) {
		if (length < (kind == VH_BODY_CHUNKED ? -1 : 0))
			abort();
	} else if (why == NULL)
		abort();
	(void)vh_http_head_has_token(&head, "Connection", "keep-alive");
	(void)vh_http_head_find(&head, "host");

	if (vh_http_split_target(head.target, head.target_len, &path,
	    &query) == 0) {
		if (strstr(path, "/../") != NULL || strstr(path, "/./") != NULL)
			abort();
		v = vh_http_query_get(query, "a");
		free(v);
		free(path);
		free(query);
	} else if (path != NULL || query != NULL)
		abort();
	return (0);
}
