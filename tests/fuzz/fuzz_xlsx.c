/* libFuzzer target for the workbook reader (vh_indicators_xlsx.c): any
 * bytes, taken as an .xlsx archive, must give CSV text or an error, never
 * both and never neither, and the CSV holds no NUL (the indicator parser
 * reads it as text). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "vh_indicators.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	*csv, *err = NULL;
	size_t	 n = 0;

	csv = vh_ind_xlsx_mem_to_csv(data, len, "fuzz.xlsx", &n, &err);
	if ((csv == NULL) == (err == NULL))
		abort();
	if (csv != NULL && (strlen(csv) != n))
		abort();
	free(csv);
	free(err);
	xmlResetLastError();
	return (0);
}
