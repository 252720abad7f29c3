/*
 * Spreadsheet workbooks (.xlsx, Office Open XML) as the indicator parser's
 * CSV. A workbook is a ZIP archive (read with libzip) of XML parts (read
 * with libxml2): xl/workbook.xml names the sheets in order,
 * xl/_rels/workbook.xml.rels says which part holds each, and
 * xl/sharedStrings.xml holds the text that cells refer to by number. The
 * first sheet becomes ';'-separated CSV with one line per sheet row, row
 * n on line n, so that every message about the data names the row a
 * person sees in the spreadsheet. Numbers are written as stored, which is
 * what a CSV export of the sheet holds too; only the rare exponent form
 * is rewritten as a plain decimal.
 *
 * The files are an admin's, given to verhaalctl; still, sizes are capped
 * (a small archive may inflate to gigabytes) and the XML reader neither
 * loads external entities nor touches the network.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include "vh_error.h"
#include "vh_indicators.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

#define PART_MAX	(256 * 1024 * 1024)	/* bytes of one inflated part */
#define MAX_COLS	16384			/* XFD, the format's last */

struct strings {
	char	**s;
	size_t	  n;
};

/* Reads one part of the archive; NULL with *err, or *missing if absent. */
static char *
read_part(zip_t *z, const char *file, const char *name, size_t *len,
    bool *missing, char **err)
{
	zip_stat_t	 st;
	zip_file_t	*zf;
	char		*buf;
	zip_int64_t	 got;

	*missing = false;
	if (zip_stat(z, name, 0, &st) != 0) {
		*missing = true;
		*err = vh_xasprintf("%s: the workbook has no part %s", file,
		    name);
		return (NULL);
	}
	if (!(st.valid & ZIP_STAT_SIZE) || st.size > PART_MAX) {
		*err = vh_xasprintf("%s: part %s is larger than %d MB", file,
		    name, PART_MAX / (1024 * 1024));
		return (NULL);
	}
	if ((zf = zip_fopen(z, name, 0)) == NULL) {
		*err = vh_xasprintf("%s: cannot read part %s: %s", file, name,
		    zip_strerror(z));
		return (NULL);
	}
	buf = vh_xmalloc((size_t)st.size + 1);
	got = zip_fread(zf, buf, st.size);
	zip_fclose(zf);
	if (got < 0 || (zip_uint64_t)got != st.size) {
		*err = vh_xasprintf("%s: part %s is damaged", file, name);
		free(buf);
		return (NULL);
	}
	buf[st.size] = '\0';
	*len = (size_t)st.size;
	return (buf);
}

static xmlDoc *
read_xml(zip_t *z, const char *file, const char *name, bool *missing,
    char **err)
{
	xmlDoc	*doc;
	char	*buf;
	size_t	 len;

	if ((buf = read_part(z, file, name, &len, missing, err)) == NULL)
		return (NULL);
	if (len > (size_t)0x7fffffff) {
		*err = vh_xasprintf("%s: part %s is too large", file, name);
		free(buf);
		return (NULL);
	}
	doc = xmlReadMemory(buf, (int)len, name, NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(buf);
	if (doc == NULL)
		*err = vh_xasprintf("%s: part %s is not well-formed XML", file,
		    name);
	return (doc);
}

static bool
is(const xmlNode *n, const char *name)
{
	return (n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0);
}

static xmlNode *
child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n != NULL ? n->children : NULL; c != NULL;
	    c = c->next)
		if (is(c, name))
			return (c);
	return (NULL);
}

/* An attribute by local name, any namespace; caller frees. */
static char *
attr(xmlNode *n, const char *name, bool namespaced)
{
	for (xmlAttr *a = n->properties; a != NULL; a = a->next) {
		if (strcmp((const char *)a->name, name) != 0 ||
		    (namespaced && a->ns == NULL) ||
		    (!namespaced && a->ns != NULL))
			continue;
		xmlChar *v = xmlNodeGetContent((xmlNode *)a);
		char	*s = vh_xstrdup(v != NULL ? (const char *)v : "");

		xmlFree(v);
		return (s);
	}
	return (NULL);
}

/* The text of every <t> below n, phonetic runs (<rPh>) left out. */
static void
text_of(xmlNode *n, FILE *out)
{
	for (xmlNode *c = n->children; c != NULL; c = c->next) {
		if (is(c, "rPh"))
			continue;
		if (is(c, "t")) {
			xmlChar *v = xmlNodeGetContent(c);

			if (v != NULL)
				fputs((const char *)v, out);
			xmlFree(v);
		} else if (c->type == XML_ELEMENT_NODE)
			text_of(c, out);
	}
}

static char *
text_dup(xmlNode *n)
{
	char	*s = NULL;
	size_t	 len = 0;
	FILE	*out = open_memstream(&s, &len);

	if (out == NULL)
		vh_fatal("open_memstream");
	text_of(n, out);
	fclose(out);
	return (s);
}

static void
strings_free(struct strings *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->s[i]);
	free(st->s);
}

/* xl/sharedStrings.xml; a workbook without text has none. */
static int
load_strings(zip_t *z, const char *file, struct strings *st, char **err)
{
	xmlDoc	*doc;
	bool	 missing;

	if ((doc = read_xml(z, file, "xl/sharedStrings.xml", &missing,
	    err)) == NULL) {
		if (!missing)
			return (VH_EINVAL);
		free(*err);
		*err = NULL;
		return (0);
	}
	for (xmlNode *c = xmlDocGetRootElement(doc)->children; c != NULL;
	    c = c->next) {
		if (!is(c, "si"))
			continue;
		st->s = vh_xreallocarray(st->s, st->n + 1, sizeof *st->s);
		st->s[st->n++] = text_dup(c);
	}
	xmlFreeDoc(doc);
	return (0);
}

/*
 * The part holding the first sheet: its r:id in workbook.xml, looked up
 * in the workbook's relationships. Caller frees.
 */
static char *
first_sheet(zip_t *z, const char *file, char **err)
{
	xmlDoc	*wb = NULL, *rels = NULL;
	xmlNode	*sheets, *sheet;
	char	*rid = NULL, *target = NULL, *path = NULL, *id;
	bool	 missing;

	if ((wb = read_xml(z, file, "xl/workbook.xml", &missing, err)) ==
	    NULL)
		goto out;
	sheets = child(xmlDocGetRootElement(wb), "sheets");
	sheet = child(sheets, "sheet");
	if (sheet == NULL || (rid = attr(sheet, "id", true)) == NULL) {
		*err = vh_xasprintf("%s: the workbook lists no sheet", file);
		goto out;
	}
	if ((rels = read_xml(z, file, "xl/_rels/workbook.xml.rels", &missing,
	    err)) == NULL)
		goto out;
	for (xmlNode *c = xmlDocGetRootElement(rels)->children;
	    c != NULL && target == NULL; c = c->next) {
		if (!is(c, "Relationship") || (id = attr(c, "Id", false)) ==
		    NULL)
			continue;
		if (strcmp(id, rid) == 0)
			target = attr(c, "Target", false);
		free(id);
	}
	if (target == NULL) {
		*err = vh_xasprintf("%s: the first sheet's part is not named "
		    "in the workbook's relationships", file);
		goto out;
	}
	/* Targets are relative to xl/, or absolute within the archive. */
	path = target[0] == '/' ? vh_xstrdup(target + 1) :
	    vh_xasprintf("xl/%s", target);
	if (strstr(path, "..") != NULL) {
		*err = vh_xasprintf("%s: the sheet's part name leaves the "
		    "archive's xl/ folder", file);
		free(path);
		path = NULL;
	}
out:
	free(rid);
	free(target);
	xmlFreeDoc(wb);
	xmlFreeDoc(rels);
	return (path);
}

/* "AB12" -> column 27 (from 0); -1 when ref has no letters. */
static long
ref_column(const char *ref)
{
	long	col = 0;
	size_t	i;

	for (i = 0; isupper((unsigned char)ref[i]) && i < 4; i++)
		col = col * 26 + (ref[i] - 'A' + 1);
	return (i == 0 || col > MAX_COLS ? -1 : col - 1);
}

static void
put_field(FILE *out, const char *s, bool quote)
{
	if (!quote) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* A numeric cell as stored; "1.5E-3" as 0.0015. */
static void
put_number(FILE *out, const char *v)
{
	char	 buf[64];
	char	*end;
	double	 d;

	if (strpbrk(v, "eE") == NULL) {
		fputs(v, out);
		return;
	}
	d = strtod(v, &end);
	if (*end != '\0') {
		put_field(out, v, true);	/* the parser will say why */
		return;
	}
	snprintf(buf, sizeof buf, "%.15f", d);
	/* Trailing zeros of the fixed form say nothing. */
	for (size_t n = strlen(buf); n > 1 && strchr(buf, '.') != NULL &&
	    (buf[n - 1] == '0' || buf[n - 1] == '.'); n--) {
		bool dot = buf[n - 1] == '.';

		buf[n - 1] = '\0';
		if (dot)
			break;
	}
	fputs(buf, out);
}

/* Writes one row; *nfields says how many fields it had. */
static int
write_row(xmlNode *row, const struct strings *st, FILE *out,
    const char *file, long rownum, long *nfields, char **err)
{
	long	 col, next = 0;
	char	*ref, *t, *v;
	xmlNode	*vn;

	for (xmlNode *c = row->children; c != NULL; c = c->next) {
		if (!is(c, "c"))
			continue;
		ref = attr(c, "r", false);
		col = ref != NULL ? ref_column(ref) : next;
		free(ref);
		if (col < next || col < 0) {
			*err = vh_xasprintf("%s: row %ld: cells out of order",
			    file, rownum);
			return (VH_EINVAL);
		}
		for (; next < col; next++)
			if (next > 0)
				fputc(';', out);
		if (col > 0)
			fputc(';', out);
		next = col + 1;
		t = attr(c, "t", false);
		vn = child(c, "v");
		v = vn != NULL ? (char *)xmlNodeGetContent(vn) : NULL;
		if (t != NULL && strcmp(t, "s") == 0) {
			char	*end;
			long	 i = v != NULL ? strtol(v, &end, 10) : -1;

			if (v == NULL || *end != '\0' || i < 0 ||
			    (size_t)i >= st->n) {
				*err = vh_xasprintf("%s: row %ld: a cell refers "
				    "to a shared string that does not exist",
				    file, rownum);
				free(t);
				xmlFree(v);
				return (VH_EINVAL);
			}
			put_field(out, st->s[i], true);
		} else if (t != NULL && strcmp(t, "inlineStr") == 0) {
			char *s = child(c, "is") != NULL ?
			    text_dup(child(c, "is")) : vh_xstrdup("");

			put_field(out, s, true);
			free(s);
		} else if (t != NULL && (strcmp(t, "str") == 0 ||
		    strcmp(t, "e") == 0 || strcmp(t, "b") == 0))
			put_field(out, v != NULL ? v : "", true);
		else if (v != NULL)
			put_number(out, v);
		free(t);
		xmlFree(v);
	}
	*nfields = next;
	return (0);
}

/* The workbook in archive z (named path in messages); takes z. */
static char *
convert(zip_t *z, const char *path, size_t *len, char **err)
{
	struct strings	 st = { NULL, 0 };
	xmlDoc		*doc = NULL;
	xmlNode		*data;
	char		*sheet = NULL, *csv = NULL, *rs;
	FILE		*out = NULL;
	long		 line = 1, r, width = 0, n;
	bool		 missing;

	if ((sheet = first_sheet(z, path, err)) == NULL ||
	    load_strings(z, path, &st, err) != 0 ||
	    (doc = read_xml(z, path, sheet, &missing, err)) == NULL)
		goto fail;
	if ((data = child(xmlDocGetRootElement(doc), "sheetData")) == NULL) {
		*err = vh_xasprintf("%s: the first sheet has no data", path);
		goto fail;
	}
	if ((out = open_memstream(&csv, len)) == NULL)
		vh_fatal("open_memstream");
	for (xmlNode *row = data->children; row != NULL; row = row->next) {
		if (!is(row, "row"))
			continue;
		rs = attr(row, "r", false);
		r = rs != NULL ? strtol(rs, NULL, 10) : line;
		free(rs);
		if (r < line || r > 1048576) {
			*err = vh_xasprintf("%s: rows out of order near row %ld",
			    path, line);
			goto fail;
		}
		/* Empty rows are left out of the XML; keep line = row. */
		for (; line < r; line++)
			fputc('\n', out);
		if (write_row(row, &st, out, path, r, &n, err) != 0)
			goto fail;
		/*
		 * Blank cells at a row's end are left out of the XML too; the
		 * first row (the header) says how many fields a row has.
		 */
		if (width == 0)
			width = n;
		for (; n > 0 && n < width; n++)
			fputc(';', out);
		fputc('\n', out);
		line++;
	}
	fclose(out);
	out = NULL;
	goto out;
fail:
	if (out != NULL)
		fclose(out);
	free(csv);
	csv = NULL;
	*len = 0;
out:
	xmlFreeDoc(doc);
	strings_free(&st);
	free(sheet);
	zip_discard(z);
	return (csv);
}

char *
vh_ind_xlsx_to_csv(const char *path, size_t *len, char **err)
{
	zip_t	*z;
	int	 zerr;

	*len = 0;
	if ((z = zip_open(path, ZIP_RDONLY, &zerr)) == NULL) {
		zip_error_t	ze;

		zip_error_init_with_code(&ze, zerr);
		*err = vh_xasprintf("%s: not a readable workbook: %s", path,
		    zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return (NULL);
	}
	return (convert(z, path, len, err));
}

char *
vh_ind_xlsx_mem_to_csv(const void *data, size_t n, const char *name,
    size_t *len, char **err)
{
	zip_source_t	*src;
	zip_error_t	 ze;
	zip_t		*z;

	*len = 0;
	zip_error_init(&ze);
	/* libzip reads the buffer where it lies (freep 0: still ours). */
	if ((src = zip_source_buffer_create(n > 0 ? data : "", n, 0,
	    &ze)) == NULL || (z = zip_open_from_source(src, ZIP_RDONLY,
	    &ze)) == NULL) {
		*err = vh_xasprintf("%s: not a readable workbook: %s", name,
		    zip_error_strerror(&ze));
		if (src != NULL)
			zip_source_free(src);
		zip_error_fini(&ze);
		return (NULL);
	}
	zip_error_fini(&ze);
	return (convert(z, name, len, err));
}
