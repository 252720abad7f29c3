/* libFuzzer target for the CSV reader: any bytes, with the delimiter
 * guessed and both fixed, must end in records, EOF or VH_EINVAL, with
 * every field within the limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vh_csv.h"
#include "vh_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const int delims[] = { 0, ',', ';' };

	for (size_t d = 0; d < 3; d++) {
		struct vh_csv	*csv;
		size_t		 records = 0, last = 0;
		int		 rc;

		csv = vh_csv_new_mem((const char *)data, len, delims[d]);
		while ((rc = vh_csv_read(csv)) == 1) {
			if (vh_csv_nfields(csv) == 0 ||
			    vh_csv_nfields(csv) > VH_CSV_MAX_FIELDS)
				abort();
			for (size_t i = 0; i < vh_csv_nfields(csv); i++)
				if (vh_csv_field_len(csv, i) > VH_CSV_MAX_FIELD)
					abort();
			/* Lines only move forward. */
			if (vh_csv_line(csv) <= last && records > 0)
				abort();
			last = vh_csv_line(csv);
			if (++records > len + 1)
				abort();
		}
		if (rc != 0 && rc != VH_EINVAL)
			abort();
		vh_csv_free(csv);
	}
	return (0);
}
