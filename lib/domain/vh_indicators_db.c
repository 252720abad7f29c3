/*
 * Writing an indicator file: one transaction per file. The area table
 * and its aliases are read once, so each value's area is checked in
 * memory and a bad one is reported with its line rather than as a
 * foreign-key error at commit. Values go to the server in batches of
 * arrays (unnest) and are upserted, so importing a file twice leaves the
 * same rows. A (indicator, area, period) seen twice in one file is an
 * error: which of the two should win is not ours to guess.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_areas.h"
#include "vh_csv.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_import.h"
#include "vh_indicators.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

#define BATCH	1000

struct sbuf {
	char	*b;
	size_t	 len, cap;
};

struct known {
	char			*fold;	/* folded name, or the code itself */
	char			*code;
	enum vh_area_level	 level;
};

struct ind {
	char	*key;
	char	*id;
};

struct writer {
	PGconn		*db;
	const char	*path;
	const char	*source_file;
	struct known	*areas;
	size_t		 nareas;
	struct ind	*inds;
	size_t		 ninds;
	size_t		 lastind;
	struct sbuf	 cols[6];	/* id, area, type, period, start, value */
	size_t		 nbatch;
	char		**seen;		/* open-addressed set of value keys */
	size_t		 seencap, nseen;
	size_t		 unmatched, unmatched_line;
	size_t		 stored, missing;
	char		*err;
};

static void
sbuf_add(struct sbuf *s, const char *elem)
{
	size_t	need = 2 * (elem != NULL ? strlen(elem) : 4) + 4;
	bool	open;

	if (s->len + need + 2 > s->cap) {
		s->cap = (s->len + need + 2) * 2;
		s->b = vh_xreallocarray(s->b, s->cap, 1);
	}
	open = s->len == 0;
	s->b[s->len++] = open ? '{' : ',';
	if (elem == NULL) {
		memcpy(s->b + s->len, "NULL", 4);
		s->len += 4;
		return;
	}
	/* Array literal quoting: backslash before " and \. */
	s->b[s->len++] = '"';
	for (const char *p = elem; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			s->b[s->len++] = '\\';
		s->b[s->len++] = *p;
	}
	s->b[s->len++] = '"';
}

static int
flush(struct writer *w)
{
	const char	*p[7];
	PGresult	*r;
	char		*err = NULL;

	if (w->nbatch == 0)
		return (0);
	for (int i = 0; i < 6; i++) {
		w->cols[i].b[w->cols[i].len] = '}';
		w->cols[i].b[w->cols[i].len + 1] = '\0';
		p[i] = w->cols[i].b;
	}
	p[6] = w->source_file;
	r = vh_db_exec(w->db, "INSERT INTO indicator_value (indicator_id, "
	    "area_code, period_type, period, period_start, value, source_file) "
	    "SELECT i, a, t, p, s, v, $7 FROM unnest($1::bigint[], $2::text[], "
	    "$3::text[], $4::text[], $5::date[], $6::numeric[]) AS "
	    "u(i, a, t, p, s, v) ON CONFLICT (indicator_id, area_code, period) "
	    "DO UPDATE SET period_type = EXCLUDED.period_type, period_start = "
	    "EXCLUDED.period_start, value = EXCLUDED.value, source_file = "
	    "EXCLUDED.source_file, imported_at = now()", 7, p, &err);
	for (int i = 0; i < 6; i++)
		w->cols[i].len = 0;
	w->nbatch = 0;
	if (r == NULL) {
		w->err = vh_xasprintf("%s: storing values: %s", w->path, err);
		free(err);
		return (VH_EDB);
	}
	PQclear(r);
	return (0);
}

static uint64_t
hash(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h);
}

/* Adds key to the set; false if it was already there. Takes key. */
static bool
seen_add(struct writer *w, char *key)
{
	size_t	i;

	if (2 * (w->nseen + 1) > w->seencap) {
		char	**old = w->seen;
		size_t	  oldcap = w->seencap;

		w->seencap = oldcap == 0 ? 1024 : oldcap * 2;
		w->seen = vh_xcalloc(w->seencap, sizeof *w->seen);
		for (size_t j = 0; j < oldcap; j++) {
			if (old[j] == NULL)
				continue;
			i = hash(old[j]) & (w->seencap - 1);
			while (w->seen[i] != NULL)
				i = (i + 1) & (w->seencap - 1);
			w->seen[i] = old[j];
		}
		free(old);
	}
	i = hash(key) & (w->seencap - 1);
	for (; w->seen[i] != NULL; i = (i + 1) & (w->seencap - 1)) {
		if (strcmp(w->seen[i], key) == 0) {
			free(key);
			return (false);
		}
	}
	w->seen[i] = key;
	w->nseen++;
	return (true);
}

static int
load_areas(struct writer *w, char **err)
{
	PGresult	*r;
	size_t		 n;

	r = vh_db_exec(w->db, "SELECT code, code, level FROM area UNION ALL "
	    "SELECT code, name, level FROM area UNION ALL SELECT l.code, "
	    "l.alias, a.level FROM area_alias l JOIN area a USING (code)", 0,
	    NULL, err);
	if (r == NULL)
		return (VH_EDB);
	n = (size_t)PQntuples(r);
	w->areas = vh_xcalloc(n + 1, sizeof *w->areas);
	for (size_t i = 0; i < n; i++) {
		struct known	*k = &w->areas[w->nareas];
		const char	*code = PQgetvalue(r, (int)i, 0);
		const char	*name = PQgetvalue(r, (int)i, 1);

		if (vh_area_level_of(code, &k->level) != 0)
			continue;
		k->code = vh_xstrdup(code);
		/* Codes match exactly, names after folding. */
		k->fold = strcmp(code, name) == 0 ? vh_xstrdup(code) :
		    vh_ind_name_fold(name);
		w->nareas++;
	}
	PQclear(r);
	return (0);
}

static const char *
find_code(const struct writer *w, const char *code)
{
	for (size_t i = 0; i < w->nareas; i++)
		if (strcmp(w->areas[i].code, code) == 0)
			return (w->areas[i].code);
	return (NULL);
}

/*
 * A name may match more than one area ("Utrecht" is no buurt, but
 * other names might be both a wijk and a buurt); a "Buurt "/"Wijk "
 * prefix decides, otherwise an ambiguous name is as good as none.
 */
static const char *
find_name(const struct writer *w, const char *name)
{
	char		*fold = vh_ind_name_fold(name);
	const char	*found = NULL;
	int		 hint = -1;
	bool		 ambiguous = false;

	if (strncasecmp(name, "buurt ", 6) == 0)
		hint = VH_AREA_BUURT;
	else if (strncasecmp(name, "wijk ", 5) == 0)
		hint = VH_AREA_WIJK;
	for (size_t i = 0; i < w->nareas; i++) {
		const struct known *k = &w->areas[i];

		if (strcmp(k->fold, fold) != 0 ||
		    (hint != -1 && (int)k->level != hint))
			continue;
		if (found != NULL && strcmp(found, k->code) != 0)
			ambiguous = true;
		found = k->code;
	}
	free(fold);
	return (ambiguous ? NULL : found);
}

static const char *
indicator_id(struct writer *w, const struct vh_ind_value *v)
{
	const char	*p[8];
	PGresult	*r;
	char		*err = NULL;

	if (w->ninds > 0 && strcmp(w->inds[w->lastind].key, v->key) == 0)
		return (w->inds[w->lastind].id);
	for (size_t i = 0; i < w->ninds; i++)
		if (strcmp(w->inds[i].key, v->key) == 0) {
			w->lastind = i;
			return (w->inds[i].id);
		}
	p[0] = v->key;
	p[1] = v->title;
	p[2] = v->unit;
	p[3] = v->source;
	p[4] = v->aggregate != NULL ? v->aggregate : "none";
	p[5] = v->numerator;
	p[6] = v->denominator;
	p[7] = v->scale;
	r = vh_db_exec(w->db, "INSERT INTO indicator (key, title, unit, "
	    "source, aggregate, numerator_key, denominator_key, scale) VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) DO UPDATE SET "
	    "title = EXCLUDED.title, unit = EXCLUDED.unit, source = "
	    "EXCLUDED.source, aggregate = EXCLUDED.aggregate, numerator_key = "
	    "EXCLUDED.numerator_key, denominator_key = EXCLUDED.denominator_key, "
	    "scale = EXCLUDED.scale RETURNING id", 8, p, &err);
	if (r == NULL) {
		w->err = vh_xasprintf("%s:%zu: indicator %s: %s", w->path,
		    v->line, v->key, err);
		free(err);
		return (NULL);
	}
	w->inds = vh_xreallocarray(w->inds, w->ninds + 1, sizeof *w->inds);
	w->inds[w->ninds].key = vh_xstrdup(v->key);
	w->inds[w->ninds].id = vh_xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	w->lastind = w->ninds++;
	return (w->inds[w->lastind].id);
}

static int
write_value(const struct vh_ind_value *v, void *arg)
{
	struct writer	*w = arg;
	const char	*code, *id;

	if (v->area_code != NULL) {
		if ((code = find_code(w, v->area_code)) == NULL) {
			w->err = vh_xasprintf("%s:%zu: unknown area code %s "
			    "(import the areas first)", w->path, v->line,
			    v->area_code);
			return (VH_EINVAL);
		}
	} else if ((code = find_name(w, v->area_name)) == NULL) {
		/* Reported once per row; the row's values are left out. */
		if (w->unmatched_line != v->line) {
			vh_log_warnx("%s:%zu: no area matches the name '%s' "
			    "(add it to area_alias)", w->path, v->line,
			    v->area_name);
			w->unmatched++;
			w->unmatched_line = v->line;
		}
		return (0);
	}
	if ((id = indicator_id(w, v)) == NULL)
		return (VH_EDB);
	if (!seen_add(w, vh_xasprintf("%s|%s|%s", id, code, v->period))) {
		w->err = vh_xasprintf("%s:%zu: a second value for %s in %s, "
		    "period %s", w->path, v->line, v->key, code, v->period);
		return (VH_EINVAL);
	}
	sbuf_add(&w->cols[0], id);
	sbuf_add(&w->cols[1], code);
	sbuf_add(&w->cols[2], v->period_type);
	sbuf_add(&w->cols[3], v->period);
	sbuf_add(&w->cols[4], v->period_start);
	sbuf_add(&w->cols[5], v->value);
	if (v->value != NULL)
		w->stored++;
	else
		w->missing++;
	if (++w->nbatch == BATCH)
		return (flush(w));
	return (0);
}

static void
writer_clear(struct writer *w)
{
	for (size_t i = 0; i < w->nareas; i++) {
		free(w->areas[i].fold);
		free(w->areas[i].code);
	}
	for (size_t i = 0; i < w->ninds; i++) {
		free(w->inds[i].key);
		free(w->inds[i].id);
	}
	for (size_t i = 0; i < w->seencap; i++)
		free(w->seen[i]);
	for (int i = 0; i < 6; i++)
		free(w->cols[i].b);
	free(w->areas);
	free(w->inds);
	free(w->seen);
	free(w->err);
}

/*
 * A series with no figure at all (every value "." in every file read so
 * far) tells a reader nothing and would fill dossiers with empty rows:
 * the indicators this file touched that have no number anywhere are
 * removed again, with their missing-value rows. A series that has
 * figures in another file keeps this file's missing values.
 */
static int
drop_empty(struct writer *w, size_t *n)
{
	struct sbuf	 ids = { NULL, 0, 0 };
	const char	*p[2];
	PGresult	*r;
	char		*err = NULL;
	int		 rc = 0;

	*n = 0;
	if (w->ninds == 0)
		return (0);
	for (size_t i = 0; i < w->ninds; i++)
		sbuf_add(&ids, w->inds[i].id);
	ids.b[ids.len] = '}';
	ids.b[ids.len + 1] = '\0';
	p[0] = ids.b;
	p[1] = w->source_file;
	/* The statement's snapshot still sees the rows the cascade removes. */
	r = vh_db_exec(w->db, "WITH d AS (DELETE FROM indicator i WHERE i.id = "
	    "ANY ($1::bigint[]) AND NOT EXISTS (SELECT 1 FROM indicator_value v "
	    "WHERE v.indicator_id = i.id AND v.value IS NOT NULL) RETURNING "
	    "i.id) SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM "
	    "indicator_value v WHERE v.indicator_id IN (SELECT id FROM d) AND "
	    "v.source_file = $2)", 2, p, &err);
	if (r == NULL) {
		w->err = vh_xasprintf("%s: leaving out empty series: %s", w->path,
		    err);
		free(err);
		rc = VH_EDB;
		goto out;
	}
	*n = (size_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	/* This file's missing values of those series are not stored. */
	w->missing -= (size_t)strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
out:
	free(ids.b);
	return (rc);
}

static bool
is_odata(const char *path)
{
	FILE		*f;
	struct vh_csv	*csv;
	bool		 yes = false;

	if ((f = fopen(path, "rb")) == NULL)
		return (false);
	csv = vh_csv_new_file(f, 0);
	if (vh_csv_read(csv) == 1 && strcmp(vh_csv_field(csv, 0), "ID") == 0)
		for (size_t i = 1; i < vh_csv_nfields(csv); i++)
			yes |= strcmp(vh_csv_field(csv, i), "Perioden") == 0;
	vh_csv_free(csv);
	fclose(f);
	return (yes);
}

static int
load_meta_file(struct vh_ind_meta *m, const char *path, char **err)
{
	FILE	*f;
	int	 rc;

	if ((f = fopen(path, "rb")) == NULL) {
		*err = vh_xasprintf("%s: cannot open", path);
		return (VH_EIO);
	}
	rc = vh_ind_meta_load(m, f, path, err);
	fclose(f);
	return (rc);
}

/*
 * CBS publishes an OData table as several files: the data, its
 * DataProperties and one code list per dimension. They are found beside
 * the data file by name: "DataProperties", then each dimension's key.
 */
static int
load_meta(struct vh_ind_meta *m, const char *path, char **err)
{
	char		*dir, *slash, *p;
	DIR		*d;
	struct dirent	*e;
	const char	*dim;
	int		 rc = 0;

	dir = vh_xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else {
		free(dir);
		dir = vh_xstrdup(".");
	}
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		if ((d = opendir(dir)) == NULL)
			break;
		while (rc == 0 && (e = readdir(d)) != NULL) {
			bool	want = false;

			if (strcmp(e->d_name, vh_import_basename(path)) == 0)
				continue;
			if (pass == 0)
				want = strstr(e->d_name, "DataProperties") !=
				    NULL;
			for (size_t i = 0; pass == 1 &&
			    (dim = vh_ind_meta_dimension(m, i)) != NULL; i++)
				want |= strstr(e->d_name, dim) != NULL;
			if (!want || strstr(e->d_name, ".csv") == NULL)
				continue;
			p = vh_xasprintf("%s/%s", dir, e->d_name);
			rc = load_meta_file(m, p, err);
			free(p);
		}
		closedir(d);
	}
	free(dir);
	return (rc);
}

int
vh_indicators_import(PGconn *db, const char *path, const char *period,
    struct vh_ind_summary *sum, char **err)
{
	struct writer		 w;
	struct vh_ind_opts	 opts;
	struct vh_ind_meta	*meta = NULL;
	FILE			*f = NULL;
	char			*xlsx = NULL, magic[4];
	size_t			 xlsxlen = 0;
	int			 rc;
	bool			 intx = false;

	memset(sum, 0, sizeof *sum);
	memset(&w, 0, sizeof w);
	memset(&opts, 0, sizeof opts);
	w.db = db;
	w.path = path;
	w.source_file = vh_import_basename(path);
	opts.file = path;
	opts.period = period;
	if (is_odata(path)) {
		meta = vh_ind_meta_new();
		if ((rc = load_meta(meta, path, err)) != 0)
			goto out;
		opts.meta = meta;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		*err = vh_xasprintf("%s: cannot open", path);
		rc = VH_EIO;
		goto out;
	}
	/* A workbook is read as the CSV of its first sheet. */
	if (fread(magic, 1, 4, f) == 4 && memcmp(magic, "PK\003\004", 4) == 0) {
		fclose(f);
		f = NULL;
		if ((xlsx = vh_ind_xlsx_to_csv(path, &xlsxlen, err)) == NULL) {
			rc = VH_EINVAL;
			goto out;
		}
		if ((f = fmemopen(xlsx, xlsxlen, "rb")) == NULL) {
			*err = vh_xasprintf("%s: cannot read the sheet", path);
			rc = VH_EIO;
			goto out;
		}
		sum->workbook = true;
	} else
		rewind(f);
	/* This function began the transaction: it alone ends it. */
	if ((rc = vh_db_begin(db, err)) != 0)
		goto out;
	intx = true;
	if ((rc = load_areas(&w, err)) != 0)
		goto fail;
	rc = vh_indicators_parse(f, &opts, write_value, &w, &sum->counts, err);
	if (rc == 0)
		rc = flush(&w);
	if (rc == 0)
		rc = drop_empty(&w, &sum->empty);
	if (rc == 0)
		rc = vh_areas_aggregate(db, &sum->derived, err);
	if (rc != 0 && w.err != NULL) {
		free(*err);
		*err = w.err;
		w.err = NULL;
	}
	if (rc != 0)
		goto fail;
	sum->stored = w.stored;
	sum->missing = w.missing;
	sum->unmatched = w.unmatched;
	sum->indicators = w.ninds - sum->empty;
	vh_import_log_row(db, "indicators", w.source_file,
	    vh_ind_format_name(sum->counts.format), true, sum->counts.rows,
	    w.stored, w.missing, w.unmatched, "");
	/* A failed COMMIT has rolled back. */
	intx = false;
	if ((rc = vh_db_commit(db, err)) != 0)
		goto fail;
	goto out;
fail:
	if (intx)
		vh_db_rollback(db);
	if (rc != VH_ENOTSUP)
		vh_import_log_row(db, "indicators", w.source_file,
		    vh_ind_format_name(sum->counts.format), false, 0, 0, 0, 0,
		    *err);
out:
	if (f != NULL)
		fclose(f);
	free(xlsx);
	vh_ind_meta_free(meta);
	writer_clear(&w);
	return (rc);
}
