/* Fuzzes the OpenRosa submission parser (vh_odkxml) on hostile XML: it
 * must never crash, leak or overrun, and what it reports must hold its
 * own invariants (NUL-terminated strings, a bounded file list, an
 * instanceID whenever it succeeds). Parsing twice gives the same answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vh_odkxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const struct vh_odkxml_instance *in, int rc)
{
	if (in->form_id[sizeof in->form_id - 1] != '\0' ||
	    in->note[sizeof in->note - 1] != '\0' ||
	    in->nfiles > VH_ODKXML_MAX_FILES)
		abort();
	for (size_t i = 0; i < in->nfiles; i++)
		if (in->files[i][VH_ODKXML_NAME_LEN - 1] != '\0' ||
		    in->files[i][0] == '\0')
			abort();
	if (rc == 0 && (in->instance_id[0] == '\0' || in->form_id[0] == '\0'))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vh_odkxml_instance a, b;
	static int	init;
	char		why[512], why2[512];
	int		rc, rc2;

	if (!init) {
		vh_odkxml_init();
		init = 1;
	}
	rc = vh_odkxml_parse((const char *)data, size, &a, why, sizeof why);
	if (why[sizeof why - 1] != '\0' && memchr(why, '\0', sizeof why) == NULL)
		abort();
	check(&a, rc);
	rc2 = vh_odkxml_parse((const char *)data, size, &b, why2, sizeof why2);
	if (rc != rc2 || memcmp(&a, &b, sizeof a) != 0)
		abort();
	return (0);
}
