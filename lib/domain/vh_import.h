#ifndef VH_IMPORT_H
#define VH_IMPORT_H
/* Small pieces shared by the area and indicator importers. */
#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

/* Strips leading and trailing blanks in place; returns s. */
char	*vh_import_trim(char *s);

/* The last path component of path; borrowed from path. */
const char *vh_import_basename(const char *path);

/*
 * Reads all of path into a NUL-terminated buffer (caller frees), at most
 * max bytes. Returns NULL with *err set (caller frees).
 */
char	*vh_import_slurp(const char *path, size_t max, size_t *len, char **err);

/*
 * Is s a plain decimal number ("12", "-3.5", " 0.8 ")? Only digits, one
 * optional sign and decimal point: no exponents, no thousands separators,
 * so "1.234" is one point two three four, as CBS writes it.
 */
bool	 vh_import_is_number(const char *s);

/* Appends to import_log; failures are only logged, never fatal. */
void	 vh_import_log_row(PGconn *, const char *kind, const char *file,
	    const char *format, bool ok, size_t rows, size_t values,
	    size_t missing, size_t unmatched, const char *message);

#endif
