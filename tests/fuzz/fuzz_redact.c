/* Text redaction on arbitrary input: the first line is a JSON list of
 * spans, the rest the text (any bytes, not necessarily UTF-8). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vh_redact.h"
#include "vh_xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t		*nl = memchr(data, '\n', size);
	struct vh_redact_span	*spans = NULL;
	json_t			*list;
	size_t			 n = 0;
	char			*text, *out = NULL, *why = NULL;

	if (nl == NULL)
		return (0);
	if ((list = json_loadb((const char *)data, (size_t)(nl - data), 0,
	    NULL)) == NULL)
		return (0);
	text = vh_xstrndup((const char *)nl + 1, size - (size_t)(nl - data) - 1);
	if (vh_redact_spans_parse(list, &spans, &n, &why) == 0 &&
	    vh_redact_text(text, spans, n, &out, &why) == 0)
		free(out);
	free(why);
	free(spans);
	free(text);
	json_decref(list);
	return (0);
}
