#ifndef VH_CSV_H
#define VH_CSV_H
/*
 * A streaming CSV reader (RFC 4180 plus what real exports do): ',' or ';'
 * separated, optional UTF-8 byte order mark, CRLF or LF, quoted fields
 * with "" escapes and embedded newlines. Records come one at a time with
 * the physical line number they start on.
 */
#include <stddef.h>
#include <stdio.h>

#define VH_CSV_MAX_FIELD	(64 * 1024)	/* bytes in one field */
#define VH_CSV_MAX_FIELDS	1024		/* fields in one record */

struct vh_csv;

/*
 * A reader over f (borrowed; the caller closes it) or over the len bytes
 * at buf (borrowed, must outlive the reader). delim is ',' or ';', or 0
 * to pick whichever of the two occurs more often, outside quotes, in the
 * first line.
 */
struct vh_csv	*vh_csv_new_file(FILE *f, int delim);
struct vh_csv	*vh_csv_new_mem(const char *buf, size_t len, int delim);
void		 vh_csv_free(struct vh_csv *);

/*
 * Reads the next record. Returns 1 with a record, 0 at the end of input,
 * VH_EINVAL for malformed input (vh_csv_error says why) or VH_EIO. Blank
 * lines are skipped. Fields stay valid until the next call.
 */
int		 vh_csv_read(struct vh_csv *) __attribute__((warn_unused_result));

size_t		 vh_csv_nfields(const struct vh_csv *);
/* Field i of the current record, NUL-terminated (NUL bytes are refused). */
const char	*vh_csv_field(const struct vh_csv *, size_t i);
size_t		 vh_csv_field_len(const struct vh_csv *, size_t i);
/* The physical line (from 1) on which the current record starts. */
size_t		 vh_csv_line(const struct vh_csv *);
/* The delimiter in use, once the first record has been read. */
int		 vh_csv_delimiter(const struct vh_csv *);
/* Why the last vh_csv_read failed, and on which physical line. */
const char	*vh_csv_error(const struct vh_csv *);
size_t		 vh_csv_error_line(const struct vh_csv *);

#endif
