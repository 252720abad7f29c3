/*
 * Streaming CSV reader. Input comes from a FILE through a fixed 64 KiB
 * window, or straight from memory; a record is decoded character by
 * character into one growing buffer of NUL-terminated fields, so memory
 * is bounded by the field and field-count limits rather than the file.
 * Line numbers count every '\n' consumed, including those inside quoted
 * fields, so a record's number is the physical line it starts on, which
 * is what a person opening the file in an editor sees.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_csv.h"
#include "vh_error.h"
#include "vh_xmalloc.h"

#define WINDOW	(64 * 1024)

struct vh_csv {
	FILE		*f;
	char		*window;	/* owned, file input only */
	const char	*p;		/* the bytes being read */
	size_t		 pos, len;
	bool		 eof;
	bool		 started;
	int		 delim;
	int		 rc;		/* sticky error */

	size_t		 line;		/* current physical line */
	size_t		 recline;	/* where the current record began */

	char		*fbuf;		/* fields, each NUL-terminated */
	size_t		 flen, fcap;
	size_t		*offs;		/* start of field i in fbuf */
	size_t		 nf;
	size_t		 fieldstart;

	char		 err[192];
	size_t		 errline;
};

static struct vh_csv *
csv_alloc(int delim)
{
	struct vh_csv	*csv;

	csv = vh_xcalloc(1, sizeof *csv);
	csv->delim = delim == ',' || delim == ';' ? delim : 0;
	csv->line = 1;
	csv->fcap = 256;
	csv->fbuf = vh_xmalloc(csv->fcap);
	csv->offs = vh_xreallocarray(NULL, VH_CSV_MAX_FIELDS + 1,
	    sizeof *csv->offs);
	return (csv);
}

struct vh_csv *
vh_csv_new_file(FILE *f, int delim)
{
	struct vh_csv	*csv = csv_alloc(delim);

	csv->f = f;
	csv->window = vh_xmalloc(WINDOW);
	csv->p = csv->window;
	return (csv);
}

struct vh_csv *
vh_csv_new_mem(const char *buf, size_t len, int delim)
{
	struct vh_csv	*csv = csv_alloc(delim);

	csv->p = buf;
	csv->len = len;
	csv->eof = true;
	return (csv);
}

void
vh_csv_free(struct vh_csv *csv)
{
	if (csv == NULL)
		return;
	free(csv->window);
	free(csv->fbuf);
	free(csv->offs);
	free(csv);
}

static int __attribute__((format(printf, 2, 3)))
fail(struct vh_csv *csv, const char *fmt, ...)
{
	va_list	 ap;

	csv->errline = csv->line;
	va_start(ap, fmt);
	vsnprintf(csv->err, sizeof csv->err, fmt, ap);
	va_end(ap);
	csv->rc = VH_EINVAL;
	return (VH_EINVAL);
}

/* Moves the unread tail to the front and reads more; false at the end. */
static bool
refill(struct vh_csv *csv)
{
	size_t	n;

	if (csv->eof)
		return (false);
	memmove(csv->window, csv->window + csv->pos, csv->len - csv->pos);
	csv->len -= csv->pos;
	csv->pos = 0;
	while (csv->len < WINDOW) {
		n = fread(csv->window + csv->len, 1, WINDOW - csv->len, csv->f);
		if (n == 0) {
			if (ferror(csv->f)) {
				snprintf(csv->err, sizeof csv->err,
				    "read: %s", strerror(errno));
				csv->errline = csv->line;
				csv->rc = VH_EIO;
			}
			csv->eof = true;
			break;
		}
		csv->len += n;
	}
	return (csv->pos < csv->len);
}

static int
peekc(struct vh_csv *csv)
{
	if (csv->pos == csv->len && !refill(csv))
		return (EOF);
	return ((unsigned char)csv->p[csv->pos]);
}

static int
getch(struct vh_csv *csv)
{
	int	c = peekc(csv);

	if (c != EOF)
		csv->pos++;
	return (c);
}

/*
 * Skips a byte order mark and, when asked to, picks the delimiter by
 * counting both candidates outside quotes up to the first line break.
 * The whole header of the exports we read fits in one window.
 */
static void
start(struct vh_csv *csv)
{
	size_t	 commas = 0, semis = 0;
	bool	 quoted = false;

	csv->started = true;
	if (csv->f != NULL)
		refill(csv);
	if (csv->len - csv->pos >= 3 &&
	    memcmp(csv->p + csv->pos, "\xef\xbb\xbf", 3) == 0)
		csv->pos += 3;
	if (csv->delim != 0)
		return;
	for (size_t i = csv->pos; i < csv->len; i++) {
		char	c = csv->p[i];

		if (c == '"')
			quoted = !quoted;
		else if (!quoted && c == '\n')
			break;
		else if (!quoted && c == ',')
			commas++;
		else if (!quoted && c == ';')
			semis++;
	}
	csv->delim = semis > commas ? ';' : ',';
}

/* Room for one more byte: a field's byte or its terminating NUL. */
static void
reserve(struct vh_csv *csv)
{
	if (csv->flen + 1 > csv->fcap) {
		csv->fcap *= 2;
		csv->fbuf = vh_xreallocarray(csv->fbuf, csv->fcap, 1);
	}
}

static int
put(struct vh_csv *csv, int c)
{
	if (c == '\0')
		return (fail(csv, "NUL byte in field %zu", csv->nf + 1));
	if (csv->flen - csv->fieldstart >= VH_CSV_MAX_FIELD)
		return (fail(csv, "field %zu is longer than %d bytes",
		    csv->nf + 1, VH_CSV_MAX_FIELD));
	reserve(csv);
	csv->fbuf[csv->flen++] = (char)c;
	return (0);
}

static int
begin_field(struct vh_csv *csv)
{
	if (csv->nf == VH_CSV_MAX_FIELDS)
		return (fail(csv, "more than %d fields", VH_CSV_MAX_FIELDS));
	csv->fieldstart = csv->flen;
	csv->offs[csv->nf] = csv->flen;
	return (0);
}

static void
end_field(struct vh_csv *csv)
{
	reserve(csv);
	csv->fbuf[csv->flen++] = '\0';
	csv->nf++;
}

/* Reads a quoted field after its opening quote; *c gets what follows. */
static int
quoted_field(struct vh_csv *csv, int *c)
{
	size_t	opened = csv->line;
	int	rc;

	for (;;) {
		*c = getch(csv);
		if (*c == EOF) {
			if (csv->rc != 0)
				return (csv->rc);
			fail(csv, "quoted field opened on line %zu is not "
			    "closed", opened);
			/* Point at the field, not at the end of the file. */
			csv->errline = opened;
			return (VH_EINVAL);
		}
		if (*c == '"') {
			if (peekc(csv) != '"')
				break;
			getch(csv);
		} else if (*c == '\n')
			csv->line++;
		if ((rc = put(csv, *c)) != 0)
			return (rc);
	}
	*c = getch(csv);
	if (*c == '\r' && peekc(csv) == '\n')
		*c = getch(csv);
	if (*c != csv->delim && *c != '\n' && *c != EOF)
		return (fail(csv, "unexpected character after the closing "
		    "quote of field %zu", csv->nf + 1));
	return (0);
}

/* Reads an unquoted field starting with *c; *c gets what ends it. */
static int
plain_field(struct vh_csv *csv, int *c)
{
	int	rc;

	while (*c != csv->delim && *c != '\n' && *c != EOF) {
		if (*c == '\r' && peekc(csv) == '\n') {
			*c = getch(csv);
			break;
		}
		if ((rc = put(csv, *c)) != 0)
			return (rc);
		*c = getch(csv);
	}
	return (0);
}

int
vh_csv_read(struct vh_csv *csv)
{
	bool	 quoted;
	int	 c, rc;

	if (csv->rc != 0)
		return (csv->rc);
	if (!csv->started)
		start(csv);
again:
	csv->nf = 0;
	csv->flen = 0;
	csv->recline = csv->line;
	if ((c = getch(csv)) == EOF)
		return (csv->rc);
	quoted = false;
	for (;;) {
		if ((rc = begin_field(csv)) != 0)
			return (rc);
		if (c == '"') {
			quoted = true;
			rc = quoted_field(csv, &c);
		} else
			rc = plain_field(csv, &c);
		if (rc != 0)
			return (rc);
		end_field(csv);
		if (c == csv->delim) {
			c = getch(csv);
			continue;
		}
		if (c == '\n')
			csv->line++;
		break;
	}
	if (csv->rc != 0)
		return (csv->rc);
	/* A blank line is no record, but it still counts as a line. */
	if (csv->nf == 1 && !quoted && csv->fbuf[0] == '\0')
		goto again;
	return (1);
}

size_t
vh_csv_nfields(const struct vh_csv *csv)
{
	return (csv->nf);
}

const char *
vh_csv_field(const struct vh_csv *csv, size_t i)
{
	return (i < csv->nf ? csv->fbuf + csv->offs[i] : NULL);
}

size_t
vh_csv_field_len(const struct vh_csv *csv, size_t i)
{
	if (i >= csv->nf)
		return (0);
	return (strlen(csv->fbuf + csv->offs[i]));
}

size_t
vh_csv_line(const struct vh_csv *csv)
{
	return (csv->recline);
}

int
vh_csv_delimiter(const struct vh_csv *csv)
{
	return (csv->delim);
}

const char *
vh_csv_error(const struct vh_csv *csv)
{
	return (csv->err);
}

size_t
vh_csv_error_line(const struct vh_csv *csv)
{
	return (csv->errline);
}
