/*
 * Indicator file parsing. The header decides the format and gives every
 * column a role: the area (a CBS code, or a name to match later), the
 * period, a dimension (OData), a value, or nothing. Rows are then read
 * the same way for all formats: the row's area and period are found, and
 * each value column yields one value. Missing values (".", empty) are
 * passed on as NULL rather than dropped, and anything else that is not a
 * plain decimal number stops the file with its line number.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_areas.h"
#include "vh_csv.h"
#include "vh_error.h"
#include "vh_import.h"
#include "vh_indicators.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

enum role {
	COL_SKIP,
	COL_CODE,
	COL_NAME,
	COL_PERIOD,
	COL_DIM,
	COL_VALUE,
};

struct col {
	enum role	 role;
	char		*head;		/* trimmed header */
	char		*key;		/* VALUE: indicator key (OData: topic) */
	char		*title;
	char		*unit;
	const char	*aggregate;	/* "sum", "ratio", "none" */
	char		*numerator;	/* ratio: indicator keys */
	char		*denominator;
	const char	*scale;
	char		 ptype[8];	/* VALUE with its own period */
	char		 period[16];
	char		 pstart[16];
};

struct parser {
	const struct vh_ind_opts *opts;
	struct vh_csv		*csv;
	struct col		*cols;
	size_t			 ncols;
	char			 table[16];	/* 47018NED, 85984NED or "" */
	char			*source;
	char			 ptype[8];	/* the file's period, if one */
	char			 period[16];
	char			 pstart[16];
	char			**err;
};

static const char *format_names[] = {
	"unknown", "cbs-odata", "cbs-statline", "cbs-kwb", "incijfers",
	"metadata", "cbs-regions", "pc4-incidents",
};

const char *
vh_ind_format_name(enum vh_ind_format f)
{
	return ((size_t)f < sizeof format_names / sizeof format_names[0] ?
	    format_names[f] : "?");
}

/*
 * The period of a file that has no period column: the --period option,
 * else the one stand-alone year in the file's name (kwb-2023, _2024_).
 */
static int
file_period(struct parser *ps)
{
	const char	*b = vh_import_basename(ps->opts->file), *p;
	char		 year[5] = "";

	if (ps->opts->period != NULL) {
		if (!vh_ind_period_parse(ps->opts->period, ps->ptype,
		    ps->period, ps->pstart) && !vh_ind_wave_parse(ps->opts->period,
		    ps->ptype, ps->period, ps->pstart))
			goto bad;
		return (0);
	}
	for (p = b; *p != '\0'; p++) {
		if ((p > b && isdigit((unsigned char)p[-1])) ||
		    !(strncmp(p, "19", 2) == 0 || strncmp(p, "20", 2) == 0) ||
		    !isdigit((unsigned char)p[2]) ||
		    !isdigit((unsigned char)p[3]) || isdigit((unsigned char)p[4]))
			continue;
		if (year[0] != '\0' && strncmp(year, p, 4) != 0)
			goto bad;
		memcpy(year, p, 4);
	}
	if (year[0] == '\0')
		goto bad;
	(void)vh_ind_period_parse(year, ps->ptype, ps->period, ps->pstart);
	return (0);
bad:
	*ps->err = vh_xasprintf("%s:1: the file has no period column and its "
	    "name no single year; give one with --period", ps->opts->file);
	return (VH_EINVAL);
}

static bool
has_col(const struct parser *ps, const char *head)
{
	for (size_t i = 0; i < ps->ncols; i++)
		if (strcmp(ps->cols[i].head, head) == 0)
			return (true);
	return (false);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t	n = strlen(s), m = strlen(suffix);

	return (n >= m && strcmp(s + n - m, suffix) == 0);
}

static enum vh_ind_format
detect(const struct parser *ps)
{
	const char	*h0 = ps->cols[0].head;
	size_t		 bars = 0;

	if (strcmp(h0, "odata.type") == 0)
		return (VH_IND_METADATA);
	if (ps->ncols >= 2 && strcmp(h0, "Key") == 0 &&
	    strcmp(ps->cols[1].head, "Title") == 0)
		return (has_col(ps, "DetailRegionCode") ? VH_IND_REGIONS :
		    VH_IND_METADATA);
	if (strcmp(h0, "ID") == 0 && has_col(ps, "Perioden"))
		return (VH_IND_ODATA);
	for (size_t i = 0; i < ps->ncols; i++)
		if (ends_with(ps->cols[i].head, "Codering (code)"))
			return (VH_IND_STATLINE);
	if (has_col(ps, "gwb_code_10") || has_col(ps, "gwb_code") ||
	    has_col(ps, "nhood_id"))
		return (VH_IND_KWB);
	for (size_t i = 1; i < ps->ncols; i++)
		bars += strchr(ps->cols[i].head, '|') != NULL;
	if (ps->ncols >= 2 && bars == ps->ncols - 1)
		return (VH_IND_INCIJFERS);
	if (strcmp(h0, "Postcode") == 0 && has_col(ps, "Datum"))
		return (VH_IND_PC4);
	return (VH_IND_UNKNOWN);
}

static void
set_value(struct col *c, const char *key, const char *title,
    const char *unit)
{
	c->role = COL_VALUE;
	c->key = vh_xstrdup(key);
	c->title = vh_xstrdup(title);
	c->unit = unit != NULL ? vh_xstrdup(unit) : NULL;
	c->aggregate = "none";
}

static int
setup_odata(struct parser *ps)
{
	const struct vh_ind_meta *meta = ps->opts->meta;
	const char	*title, *unit;
	bool		 code = false, period = false;

	if (meta == NULL || vh_ind_meta_ntopics(meta) == 0) {
		*ps->err = vh_xasprintf("%s:1: a CBS OData CSV needs its "
		    "DataProperties file beside it", ps->opts->file);
		return (VH_EINVAL);
	}
	for (size_t i = 0; i < ps->ncols; i++) {
		struct col	*c = &ps->cols[i];

		if (strcmp(c->head, "ID") == 0)
			continue;
		switch (vh_ind_meta_kind(meta, c->head, &title, &unit)) {
		case VH_IND_META_NONE:
			*ps->err = vh_xasprintf("%s:1: column '%s' is not in "
			    "DataProperties", ps->opts->file, c->head);
			return (VH_EINVAL);
		case VH_IND_META_DIMENSION:
			c->role = COL_DIM;
			break;
		case VH_IND_META_GEO:
			c->role = COL_CODE;
			code = true;
			break;
		case VH_IND_META_TIME:
			c->role = COL_PERIOD;
			period = true;
			break;
		case VH_IND_META_TOPIC:
			set_value(c, c->head, title, unit);
			/*
			 * CBS counts ("aantal": registered crimes) add up
			 * over buurten; its other topics are shares and
			 * averages.
			 */
			if (unit != NULL && strcmp(unit, "aantal") == 0)
				c->aggregate = "sum";
			break;
		case VH_IND_META_TEXT:
			break;
		}
	}
	if (!code || !period) {
		*ps->err = vh_xasprintf("%s:1: no %s column", ps->opts->file,
		    code ? "period" : "region");
		return (VH_EINVAL);
	}
	ps->source = ps->table[0] != '\0' ?
	    vh_xasprintf("CBS %s", ps->table) : vh_xstrdup("CBS OData");
	return (0);
}

/* "Zorg/Afstand tot apotheek (km)": title before, unit inside the (). */
static int
setup_statline(struct parser *ps)
{
	bool	period = false;
	char	*title, *open, *key;

	for (size_t i = 1; i < ps->ncols; i++) {
		struct col	*c = &ps->cols[i];

		if (ends_with(c->head, "Codering (code)")) {
			c->role = COL_CODE;
			continue;
		}
		if (strncmp(c->head, "Regioaanduiding/", 16) == 0)
			continue;
		if (strcmp(c->head, "Perioden") == 0) {
			c->role = COL_PERIOD;
			period = true;
			continue;
		}
		title = vh_xstrdup(c->head);
		open = strrchr(title, '(');
		if (open != NULL && open > title && ends_with(open, ")")) {
			open[strlen(open) - 1] = '\0';
			*open++ = '\0';
			vh_import_trim(title);
		} else
			open = NULL;
		key = vh_xasprintf("statline/%s", c->head);
		set_value(c, key, title, open);
		free(key);
		free(title);
	}
	ps->source = vh_xstrdup("CBS StatLine");
	return (period ? 0 : file_period(ps));
}

/*
 * kwb columns are short variable names (a_00_14); the codebook
 * (vh_indicators_kwb.c) gives each its title, unit and how it adds up.
 * A name the codebook lacks keeps the prefix's meaning (a_ count, p_
 * percentage) and is titled "kwb-variabele x" rather than passed off as
 * a label; vh_log says which.
 */
static int
setup_kwb(struct parser *ps)
{
	static const char *skip[] = { "", "gwb_code_8", "regio", "gm_naam",
	    "recs", "ind_wbi", "gwb_code", "gwb_code_10", "nhood_id" };
	const struct vh_ind_label *l;
	const char	*codecol, *unit, *prefix;
	char		*key, *title;

	codecol = has_col(ps, "gwb_code_10") ? "gwb_code_10" :
	    has_col(ps, "gwb_code") ? "gwb_code" : "nhood_id";
	prefix = ps->table[0] != '\0' ? ps->table : "kwb";
	for (size_t i = 0; i < ps->ncols; i++) {
		struct col	*c = &ps->cols[i];
		bool		 skipped = false;

		if (strcmp(c->head, codecol) == 0) {
			c->role = COL_CODE;
			continue;
		}
		for (size_t j = 0; j < sizeof skip / sizeof skip[0]; j++)
			skipped |= strcmp(c->head, skip[j]) == 0;
		if (skipped)
			continue;
		key = vh_xasprintf("%s/%s", prefix, c->head);
		if ((l = vh_ind_kwb_label(c->head)) != NULL) {
			set_value(c, key, l->title, l->unit);
			c->aggregate = l->aggregate;
			if (l->numerator != NULL) {
				c->numerator = vh_xasprintf("%s/%s", prefix,
				    l->numerator);
				c->denominator = vh_xasprintf("%s/%s", prefix,
				    l->denominator);
				c->scale = l->scale;
			}
		} else {
			unit = strncmp(c->head, "a_", 2) == 0 ? "aantal" :
			    strncmp(c->head, "p_", 2) == 0 ? "%" : NULL;
			vh_log_warnx("%s:1: kwb variable '%s' is not in the "
			    "codebook", ps->opts->file, c->head);
			title = vh_xasprintf("kwb-variabele %s", c->head);
			set_value(c, key, title, unit);
			free(title);
		}
		free(key);
	}
	ps->source = ps->table[0] != '\0' ?
	    vh_xasprintf("CBS %s", ps->table) :
	    vh_xstrdup("CBS Kerncijfers wijken en buurten");
	return (file_period(ps));
}

/*
 * "indicator|period" columns. Exports may repeat one header for several
 * columns (the age bands of one table lose their labels); those are told
 * apart by their position among the columns sharing the header.
 */
static int
setup_incijfers(struct parser *ps)
{
	char	*ind, *bar, *key, *title;
	size_t	 same, nth;

	ps->cols[0].role = COL_NAME;
	for (size_t i = 1; i < ps->ncols; i++) {
		struct col	*c = &ps->cols[i];

		ind = vh_xstrdup(c->head);
		bar = strrchr(ind, '|');
		*bar++ = '\0';
		vh_import_trim(ind);
		if (!vh_ind_period_parse(vh_import_trim(bar), c->ptype,
		    c->period, c->pstart) &&
		    !vh_ind_wave_parse(bar, c->ptype, c->period, c->pstart)) {
			*ps->err = vh_xasprintf("%s:1: column %zu: cannot read "
			    "period '%s'", ps->opts->file, i + 1, bar);
			free(ind);
			return (VH_EINVAL);
		}
		same = nth = 0;
		for (size_t j = 1; j < ps->ncols; j++) {
			if (strcmp(ps->cols[j].head, c->head) != 0)
				continue;
			same++;
			if (j <= i)
				nth++;
		}
		if (same > 1) {
			if (nth == 1)
				vh_log_warnx("%s:1: %zu columns are headed '%s'; "
				    "told apart by position", ps->opts->file,
				    same, c->head);
			key = vh_xasprintf("incijfers/%s#%zu", ind, nth);
			title = vh_xasprintf("%s (kolom %zu van %zu)", ind, nth,
			    same);
		} else {
			key = vh_xasprintf("incijfers/%s", ind);
			title = vh_xstrdup(ind);
		}
		set_value(c, key, title, NULL);
		free(key);
		free(title);
		free(ind);
	}
	ps->source = vh_xstrdup("utrecht.incijfers.nl");
	return (0);
}

static void
parser_clear(struct parser *ps)
{
	for (size_t i = 0; i < ps->ncols; i++) {
		free(ps->cols[i].head);
		free(ps->cols[i].key);
		free(ps->cols[i].title);
		free(ps->cols[i].unit);
		free(ps->cols[i].numerator);
		free(ps->cols[i].denominator);
	}
	free(ps->cols);
	free(ps->source);
}

static int __attribute__((format(printf, 2, 3)))
bad_row(struct parser *ps, const char *fmt, ...)
{
	va_list	 ap;
	char	*why;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) == -1)
		why = NULL;
	va_end(ap);
	*ps->err = vh_xasprintf("%s:%zu: %s", ps->opts->file,
	    vh_csv_line(ps->csv), why != NULL ? why : "bad row");
	free(why);
	return (VH_EINVAL);
}

/* A name row that sums others ("Buurten totaal") is no area. */
static bool
is_total(const char *name)
{
	char	*f = vh_ind_name_fold(name);
	bool	 total;

	total = strcmp(f, "totaal") == 0 || strncmp(f, "totaal ", 7) == 0 ||
	    ends_with(f, " totaal") || strstr(f, " totaal ") != NULL;
	free(f);
	return (total);
}

/*
 * Reads the rows. For OData the indicator key also names the row's
 * dimension values, so "misdrijven, total" and "misdrijven, burglary"
 * are different indicators in the same column.
 */
static int
read_rows(struct parser *ps, bool odata, vh_ind_cb cb, void *arg,
    struct vh_ind_counts *n)
{
	struct vh_ind_value	 v;
	char			*code = NULL, *name = NULL, *val = NULL;
	char			*dims = NULL, *dimtitles = NULL, *tmp;
	char			*joined;
	char			*key = NULL, *title = NULL;
	char			 ptype[8], period[16], pstart[16];
	enum vh_area_level	 level;
	int			 rc;

	while ((rc = vh_csv_read(ps->csv)) == 1) {
		if (vh_csv_nfields(ps->csv) != ps->ncols) {
			rc = bad_row(ps, "%zu fields where the header has %zu "
			    "(wrong separator?)", vh_csv_nfields(ps->csv),
			    ps->ncols);
			goto out;
		}
		n->rows++;
		free(code);
		free(name);
		free(dims);
		free(dimtitles);
		code = name = NULL;
		dims = vh_xstrdup("");
		dimtitles = vh_xstrdup("");
		memcpy(ptype, ps->ptype, sizeof ptype);
		memcpy(period, ps->period, sizeof period);
		memcpy(pstart, ps->pstart, sizeof pstart);
		for (size_t i = 0; i < ps->ncols; i++) {
			const char	*f = vh_csv_field(ps->csv, i);
			const char	*t;
			struct col	*c = &ps->cols[i];

			switch (c->role) {
			case COL_CODE:
				code = vh_import_trim(vh_xstrdup(f));
				break;
			case COL_NAME:
				name = vh_import_trim(vh_xstrdup(f));
				break;
			case COL_PERIOD:
				tmp = vh_import_trim(vh_xstrdup(f));
				if (!vh_ind_period_parse(tmp, ptype, period,
				    pstart)) {
					rc = bad_row(ps, "cannot read period "
					    "'%s'", tmp);
					free(tmp);
					goto out;
				}
				free(tmp);
				break;
			case COL_DIM:
				tmp = vh_import_trim(vh_xstrdup(f));
				joined = vh_xasprintf("%s/%s", dims, tmp);
				free(dims);
				dims = joined;
				t = vh_ind_meta_code_title(ps->opts->meta, tmp);
				joined = vh_xasprintf("%s%s%s", dimtitles,
				    *dimtitles != '\0' ? ", " : "",
				    t != NULL ? t : tmp);
				free(dimtitles);
				dimtitles = joined;
				free(tmp);
				break;
			default:
				break;
			}
		}
		if (code != NULL && vh_area_level_of(code, &level) != 0) {
			if (strncmp(code, "GM", 2) == 0 ||
			    strncmp(code, "WK", 2) == 0 ||
			    strncmp(code, "BU", 2) == 0 || *code == '\0') {
				rc = bad_row(ps, "malformed area code '%s'",
				    code);
				goto out;
			}
			/* NL00, PV26: regions we do not keep. */
			n->skipped++;
			continue;
		}
		if (name != NULL && (*name == '\0' || is_total(name))) {
			n->skipped++;
			continue;
		}
		for (size_t i = 0; i < ps->ncols; i++) {
			struct col	*c = &ps->cols[i];

			if (c->role != COL_VALUE)
				continue;
			free(val);
			val = vh_import_trim(vh_xstrdup(vh_csv_field(ps->csv,
			    i)));
			memset(&v, 0, sizeof v);
			if (strcmp(val, ".") == 0 || *val == '\0')
				n->missing++;
			else if (vh_import_is_number(val))
				v.value = val;
			else {
				rc = bad_row(ps, "column '%s': '%s' is not a "
				    "number", c->head, val);
				goto out;
			}
			free(key);
			free(title);
			if (odata) {
				key = vh_xasprintf("%s/%s%s", ps->table[0] !=
				    '\0' ? ps->table : "odata", c->key, dims);
				title = vh_xasprintf("%s%s%s", c->title,
				    *dimtitles != '\0' ? ": " : "", dimtitles);
			} else {
				key = vh_xstrdup(c->key);
				title = vh_xstrdup(c->title);
			}
			v.key = key;
			v.title = title;
			v.unit = c->unit;
			v.aggregate = c->aggregate;
			v.numerator = c->numerator;
			v.denominator = c->denominator;
			v.scale = c->scale;
			v.source = ps->source;
			v.area_code = code;
			v.area_name = name;
			v.period_type = c->ptype[0] != '\0' ? c->ptype : ptype;
			v.period = c->ptype[0] != '\0' ? c->period : period;
			v.period_start = c->ptype[0] != '\0' ? c->pstart : pstart;
			if (*v.period_start == '\0')
				v.period_start = NULL;
			v.line = vh_csv_line(ps->csv);
			n->values++;
			if ((rc = cb(&v, arg)) != 0)
				goto out;
		}
	}
	if (rc < 0)
		*ps->err = vh_xasprintf("%s:%zu: %s", ps->opts->file,
		    vh_csv_error_line(ps->csv), vh_csv_error(ps->csv));
out:
	free(code);
	free(name);
	free(val);
	free(dims);
	free(dimtitles);
	free(key);
	free(title);
	return (rc);
}

int
vh_indicators_parse(FILE *f, const struct vh_ind_opts *opts, vh_ind_cb cb,
    void *arg, struct vh_ind_counts *n, char **err)
{
	struct parser	 ps;
	char		 magic[4];
	int		 rc;

	memset(n, 0, sizeof *n);
	memset(&ps, 0, sizeof ps);
	ps.opts = opts;
	ps.err = err;
	/* A workbook (xlsx is a ZIP) is no CSV; say so plainly. */
	if (fread(magic, 1, 4, f) == 4 && memcmp(magic, "PK\003\004", 4) == 0) {
		*err = vh_xasprintf("%s: a spreadsheet workbook, not CSV; "
		    "import a CSV export of it", opts->file);
		return (VH_ENOTSUP);
	}
	rewind(f);
	ps.csv = vh_csv_new_file(f, 0);
	vh_ind_table_id(opts->file, ps.table);
	if ((rc = vh_csv_read(ps.csv)) != 1) {
		*err = rc == 0 ? vh_xasprintf("%s: empty file", opts->file) :
		    vh_xasprintf("%s:%zu: %s", opts->file,
		    vh_csv_error_line(ps.csv), vh_csv_error(ps.csv));
		rc = rc == 0 ? VH_EINVAL : rc;
		goto out;
	}
	ps.ncols = vh_csv_nfields(ps.csv);
	ps.cols = vh_xcalloc(ps.ncols, sizeof *ps.cols);
	for (size_t i = 0; i < ps.ncols; i++)
		ps.cols[i].head = vh_import_trim(vh_xstrdup(
		    vh_csv_field(ps.csv, i)));
	n->format = detect(&ps);
	switch (n->format) {
	case VH_IND_ODATA:
		rc = setup_odata(&ps);
		break;
	case VH_IND_STATLINE:
		rc = setup_statline(&ps);
		break;
	case VH_IND_KWB:
		rc = setup_kwb(&ps);
		break;
	case VH_IND_INCIJFERS:
		rc = setup_incijfers(&ps);
		break;
	case VH_IND_METADATA:
		*err = vh_xasprintf("%s: OData metadata, read with the data "
		    "file beside it", opts->file);
		rc = VH_ENOTSUP;
		goto out;
	case VH_IND_REGIONS:
		*err = vh_xasprintf("%s: a CBS region list; use import-areas",
		    opts->file);
		rc = VH_ENOTSUP;
		goto out;
	case VH_IND_PC4:
		*err = vh_xasprintf("%s: a list of single incidents by PC4; "
		    "there are no PC4 areas to count them in", opts->file);
		rc = VH_ENOTSUP;
		goto out;
	case VH_IND_UNKNOWN:
		*err = vh_xasprintf("%s:1: unknown format (header starts "
		    "'%.40s', %zu columns)", opts->file, ps.cols[0].head,
		    ps.ncols);
		rc = VH_EINVAL;
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = read_rows(&ps, n->format == VH_IND_ODATA, cb, arg, n);
out:
	parser_clear(&ps);
	vh_csv_free(ps.csv);
	return (rc);
}
