/*
 * What the indicator parser needs to name things: CBS OData metadata
 * (DataProperties says which columns are dimensions and which are
 * topics, with title and unit; a code list gives a dimension code its
 * title), period notation, and the folding that lets a municipal name
 * ("Buurt Julianapark e.o.") meet CBS's ("Julianapark en omgeving").
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_csv.h"
#include "vh_error.h"
#include "vh_import.h"
#include "vh_indicators.h"
#include "vh_xmalloc.h"

struct prop {
	char			*key;
	char			*title;
	char			*unit;
	enum vh_ind_meta_kind	 kind;
};

struct code {
	char	*key;
	char	*title;
};

struct vh_ind_meta {
	struct prop	*props;
	size_t		 nprops;
	size_t		 ntopics;
	struct code	*codes;
	size_t		 ncodes;
};

struct vh_ind_meta *
vh_ind_meta_new(void)
{
	return (vh_xcalloc(1, sizeof (struct vh_ind_meta)));
}

void
vh_ind_meta_free(struct vh_ind_meta *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nprops; i++) {
		free(m->props[i].key);
		free(m->props[i].title);
		free(m->props[i].unit);
	}
	for (size_t i = 0; i < m->ncodes; i++) {
		free(m->codes[i].key);
		free(m->codes[i].title);
	}
	free(m->props);
	free(m->codes);
	free(m);
}

static ssize_t
col(struct vh_csv *csv, const char *name)
{
	for (size_t i = 0; i < vh_csv_nfields(csv); i++)
		if (strcmp(vh_csv_field(csv, i), name) == 0)
			return ((ssize_t)i);
	return (-1);
}

static char *
field(struct vh_csv *csv, ssize_t i)
{
	return (vh_import_trim(vh_xstrdup(vh_csv_field(csv, (size_t)i))));
}

static enum vh_ind_meta_kind
kind_of(const char *type, const char *datatype)
{
	if (strcmp(type, "Dimension") == 0)
		return (VH_IND_META_DIMENSION);
	if (strcmp(type, "GeoDetail") == 0 || strcmp(type, "GeoDimension") == 0)
		return (VH_IND_META_GEO);
	if (strcmp(type, "TimeDimension") == 0)
		return (VH_IND_META_TIME);
	if (strcmp(type, "Topic") == 0)
		return (strcmp(datatype, "String") == 0 ? VH_IND_META_TEXT :
		    VH_IND_META_TOPIC);
	return (VH_IND_META_NONE);	/* TopicGroup: a heading only */
}

int
vh_ind_meta_load(struct vh_ind_meta *m, FILE *f, const char *file,
    char **err)
{
	struct vh_csv	*csv = vh_csv_new_file(f, 0);
	ssize_t		 ktype = -1, kkey, ktitle, kdt = -1, kunit = -1;
	size_t		 nf;
	char		*type, *dt;
	int		 rc;

	if ((rc = vh_csv_read(csv)) != 1)
		goto bad;
	nf = vh_csv_nfields(csv);
	kkey = col(csv, "Key");
	ktitle = col(csv, "Title");
	if (col(csv, "odata.type") != -1) {
		ktype = col(csv, "Type");
		kdt = col(csv, "Datatype");
		kunit = col(csv, "Unit");
	}
	if (kkey == -1 || ktitle == -1 || (col(csv, "odata.type") != -1 &&
	    (ktype == -1 || kdt == -1 || kunit == -1))) {
		*err = vh_xasprintf("%s:1: neither DataProperties nor a code "
		    "list", file);
		rc = VH_EINVAL;
		goto out;
	}
	while ((rc = vh_csv_read(csv)) == 1) {
		if (vh_csv_nfields(csv) != nf) {
			*err = vh_xasprintf("%s:%zu: %zu fields where the header "
			    "has %zu", file, vh_csv_line(csv),
			    vh_csv_nfields(csv), nf);
			rc = VH_EINVAL;
			goto out;
		}
		if (ktype == -1) {
			m->codes = vh_xreallocarray(m->codes, m->ncodes + 1,
			    sizeof *m->codes);
			m->codes[m->ncodes].key = field(csv, kkey);
			m->codes[m->ncodes++].title = field(csv, ktitle);
			continue;
		}
		type = field(csv, ktype);
		dt = field(csv, kdt);
		m->props = vh_xreallocarray(m->props, m->nprops + 1,
		    sizeof *m->props);
		m->props[m->nprops].kind = kind_of(type, dt);
		m->props[m->nprops].key = field(csv, kkey);
		m->props[m->nprops].title = field(csv, ktitle);
		m->props[m->nprops].unit = field(csv, kunit);
		if (m->props[m->nprops].kind == VH_IND_META_TOPIC)
			m->ntopics++;
		m->nprops++;
		free(type);
		free(dt);
	}
	if (rc == 0)
		goto out;
bad:
	*err = rc == 0 ? vh_xasprintf("%s: empty file", file) :
	    vh_xasprintf("%s:%zu: %s", file,
		    vh_csv_error_line(csv), vh_csv_error(csv));
	rc = VH_EINVAL;
out:
	vh_csv_free(csv);
	return (rc);
}

enum vh_ind_meta_kind
vh_ind_meta_kind(const struct vh_ind_meta *m, const char *key,
    const char **title, const char **unit)
{
	for (size_t i = 0; m != NULL && i < m->nprops; i++) {
		if (m->props[i].kind == VH_IND_META_NONE ||
		    strcmp(m->props[i].key, key) != 0)
			continue;
		*title = m->props[i].title;
		*unit = m->props[i].unit[0] != '\0' ? m->props[i].unit : NULL;
		return (m->props[i].kind);
	}
	return (VH_IND_META_NONE);
}

size_t
vh_ind_meta_ntopics(const struct vh_ind_meta *m)
{
	return (m->ntopics);
}

const char *
vh_ind_meta_dimension(const struct vh_ind_meta *m, size_t i)
{
	for (size_t j = 0; j < m->nprops; j++)
		if (m->props[j].kind == VH_IND_META_DIMENSION && i-- == 0)
			return (m->props[j].key);
	return (NULL);
}

const char *
vh_ind_meta_code_title(const struct vh_ind_meta *m, const char *code)
{
	for (size_t i = 0; m != NULL && i < m->ncodes; i++)
		if (strcmp(m->codes[i].key, code) == 0)
			return (m->codes[i].title);
	return (NULL);
}

bool
vh_ind_period_parse(const char *s, char type[8], char period[16],
    char start[16])
{
	int	y, m;

	if (strlen(s) == 8 && sscanf(s, "%4dJJ00", &y) == 1 &&
	    isdigit((unsigned char)s[3]) && strncmp(s + 4, "JJ00", 4) == 0) {
		snprintf(type, 8, "year");
		snprintf(period, 16, "%04d", y);
		snprintf(start, 16, "%04d-01-01", y);
		return (true);
	}
	if (strlen(s) == 8 && strncmp(s + 4, "MM", 2) == 0 &&
	    sscanf(s, "%4d", &y) == 1 && isdigit((unsigned char)s[6]) &&
	    isdigit((unsigned char)s[7])) {
		m = (s[6] - '0') * 10 + (s[7] - '0');
		if (m < 1 || m > 12)
			return (false);
		snprintf(type, 8, "month");
		snprintf(period, 16, "%04d-%02d", y, m);
		snprintf(start, 16, "%04d-%02d-01", y, m);
		return (true);
	}
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]))
			return (false);
	y = atoi(s);
	if (s[4] == '\0') {
		snprintf(type, 8, "year");
		snprintf(period, 16, "%04d", y);
		snprintf(start, 16, "%04d-01-01", y);
		return (true);
	}
	if (s[4] == '-' && isdigit((unsigned char)s[5]) &&
	    isdigit((unsigned char)s[6]) && s[7] == '\0') {
		m = atoi(s + 5);
		if (m < 1 || m > 12)
			return (false);
		snprintf(type, 8, "month");
		snprintf(period, 16, "%04d-%02d", y, m);
		snprintf(start, 16, "%04d-%02d-01", y, m);
		return (true);
	}
	return (false);
}

/*
 * A survey wave or other label ("2021/2022", "2023 najaar"): kept as
 * text, dated by its first year when it has one.
 */
bool
vh_ind_wave_parse(const char *s, char type[8], char period[16], char start[16])
{
	if (*s == '\0' || strlen(s) >= 16)
		return (false);
	snprintf(type, 8, "wave");
	snprintf(period, 16, "%s", s);
	start[0] = '\0';
	if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) &&
	    !isdigit((unsigned char)s[4]))
		snprintf(start, 16, "%.4s-01-01", s);
	return (true);
}

char *
vh_ind_name_fold(const char *name)
{
	char	*out, *o;
	const char *p = name;

	out = o = vh_xmalloc(2 * strlen(name) + 16);
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "buurt ", 6) == 0)
		p += 6;
	else if (strncasecmp(p, "wijk ", 5) == 0) {
		p += 5;
		/* CBS says "Wijk 01 West", the municipality "Wijk West". */
		while (isdigit((unsigned char)*p))
			p++;
	}
	for (; *p != '\0'; p++) {
		if (strncasecmp(p, "e.o.", 4) == 0 &&
		    (p == name || !isalnum((unsigned char)p[-1]))) {
			o = stpcpy(o, " en omgeving ");
			p += 3;
		} else if (isalnum((unsigned char)*p) || (*p & 0x80))
			*o++ = (char)tolower((unsigned char)*p);
		else
			*o++ = ' ';
	}
	*o = '\0';
	/* Collapse runs of blanks. */
	for (p = o = out; *p != '\0'; p++)
		if (*p != ' ' || (o > out && o[-1] != ' '))
			*o++ = *p;
	while (o > out && o[-1] == ' ')
		o--;
	*o = '\0';
	return (out);
}

/* "cbs_47018NED_x.csv" -> "47018NED": CBS table ids are 5 digits + 3. */
void
vh_ind_table_id(const char *file, char out[16])
{
	const char	*b = vh_import_basename(file);

	out[0] = '\0';
	for (const char *p = b; *p != '\0'; p++) {
		int	i;

		if (p > b && isalnum((unsigned char)p[-1]))
			continue;
		for (i = 0; i < 5 && isdigit((unsigned char)p[i]); i++)
			;
		if (i < 5 || !isupper((unsigned char)p[5]) ||
		    !isupper((unsigned char)p[6]) ||
		    !isupper((unsigned char)p[7]) ||
		    isalnum((unsigned char)p[8]))
			continue;
		snprintf(out, 16, "%.8s", p);
		return;
	}
}
