/*
 * Helpers shared by vh_areas and vh_indicators: trimming CBS's padded
 * fields, strict number recognition, whole-file reads for JSON, and the
 * import_log writer. Kept apart so each importer stays one format family.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_db.h"
#include "vh_error.h"
#include "vh_import.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

char *
vh_import_trim(char *s)
{
	size_t	n;
	char	*p = s;

	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
	    p[n - 1] == '\r'))
		n--;
	memmove(s, p, n);
	s[n] = '\0';
	return (s);
}

const char *
vh_import_basename(const char *path)
{
	const char	*slash = strrchr(path, '/');

	return (slash != NULL ? slash + 1 : path);
}

char *
vh_import_slurp(const char *path, size_t max, size_t *lenp, char **err)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
		*err = vh_xasprintf("%s: %s", path, strerror(errno));
		return (NULL);
	}
	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 65536 : cap * 2;
			buf = vh_xreallocarray(buf, cap, 1);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (len > max) {
			*err = vh_xasprintf("%s: larger than %zu bytes", path,
			    max);
			goto fail;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		*err = vh_xasprintf("%s: read: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	buf[len] = '\0';
	*lenp = len;
	return (buf);
fail:
	fclose(f);
	free(buf);
	return (NULL);
}

bool
vh_import_is_number(const char *s)
{
	size_t	digits = 0;

	while (*s == ' ')
		s++;
	if (*s == '-' || *s == '+')
		s++;
	while (isdigit((unsigned char)*s)) {
		s++;
		digits++;
	}
	if (digits == 0)
		return (false);
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return (false);
		while (isdigit((unsigned char)*s))
			s++;
	}
	while (*s == ' ')
		s++;
	return (*s == '\0');
}

void
vh_import_log_row(PGconn *db, const char *kind, const char *file,
    const char *format, bool ok, size_t rows, size_t values, size_t missing,
    size_t unmatched, const char *message)
{
	struct vh_db_params	 p;
	PGresult		*r;
	char			*err = NULL;

	vh_db_params_init(&p);
	vh_db_params_str(&p, kind);
	vh_db_params_str(&p, file);
	vh_db_params_str(&p, format);
	vh_db_params_str(&p, ok ? "t" : "f");
	vh_db_params_int(&p, (int64_t)rows);
	vh_db_params_int(&p, (int64_t)values);
	vh_db_params_int(&p, (int64_t)missing);
	vh_db_params_int(&p, (int64_t)unmatched);
	vh_db_params_str(&p, message != NULL ? message : "");
	r = vh_db_exec(db, "INSERT INTO import_log (kind, file, format, ok, "
	    "rows, values_stored, missing, unmatched, message) VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8, $9)", p.n, p.v, &err);
	if (r == NULL) {
		vh_log_warnx("import_log: %s", err);
		free(err);
		return;
	}
	PQclear(r);
}
