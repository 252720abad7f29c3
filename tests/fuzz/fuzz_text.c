/* UTF-8 validation against GLib's validator as an oracle: both must agree
 * on where the valid prefix ends (GLib also stops at NUL). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <glib.h>

#include "vh_text.h"
#include "vh_utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const gchar	*end = NULL;
	size_t		 ours;

	ours = vh_utf8_valid(data, size);
	(void)g_utf8_validate((const gchar *)data, (gssize)size, &end);
	if (ours != (size_t)((const uint8_t *)end - data))
		abort();
	return (0);
}
