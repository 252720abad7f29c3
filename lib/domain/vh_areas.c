/*
 * CBS areas. A code says everything about an area's place in the
 * hierarchy: BU + gemeente(4) + wijk(2) + buurt(2), WK + gemeente(4) +
 * wijk(2), GM + gemeente(4); so the parent is a prefix and needs no
 * lookup. Region lists give codes and official names; GeoJSON files give
 * boundaries keyed by municipal KODE. Parsing is separate from writing:
 * both parsers call back once per area, and the importer's callback
 * upserts it, all files inside one transaction.
 */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vh_areas.h"
#include "vh_csv.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_import.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

#define GEOJSON_MAX	(256 * 1024 * 1024)

static bool
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return (false);
	return (s[n] == '\0');
}

int
vh_area_level_of(const char *code, enum vh_area_level *level)
{
	if (strncmp(code, "GM", 2) == 0 && all_digits(code + 2, 4))
		*level = VH_AREA_GEMEENTE;
	else if (strncmp(code, "WK", 2) == 0 && all_digits(code + 2, 6))
		*level = VH_AREA_WIJK;
	else if (strncmp(code, "BU", 2) == 0 && all_digits(code + 2, 8))
		*level = VH_AREA_BUURT;
	else
		return (VH_EINVAL);
	return (0);
}

void
vh_area_parent_of(const char *code, char buf[16])
{
	enum vh_area_level	level;

	buf[0] = '\0';
	if (vh_area_level_of(code, &level) != 0)
		return;
	if (level == VH_AREA_WIJK)
		snprintf(buf, 16, "GM%.4s", code + 2);
	else if (level == VH_AREA_BUURT)
		snprintf(buf, 16, "WK%.6s", code + 2);
}

const char *
vh_area_level_name(enum vh_area_level level)
{
	switch (level) {
	case VH_AREA_GEMEENTE:
		return ("gemeente");
	case VH_AREA_WIJK:
		return ("wijk");
	case VH_AREA_BUURT:
		return ("buurt");
	}
	return ("?");
}

/* Fills rec's code, level and parent from code; VH_EINVAL if malformed. */
static int
set_code(struct vh_area_rec *rec, const char *code)
{
	if (strlen(code) >= sizeof rec->code ||
	    vh_area_level_of(code, &rec->level) != 0)
		return (VH_EINVAL);
	snprintf(rec->code, sizeof rec->code, "%s", code);
	vh_area_parent_of(code, rec->parent);
	return (0);
}

static ssize_t
column(struct vh_csv *csv, const char *name)
{
	for (size_t i = 0; i < vh_csv_nfields(csv); i++)
		if (strcmp(vh_csv_field(csv, i), name) == 0)
			return ((ssize_t)i);
	return (-1);
}

int
vh_areas_parse_csv(FILE *f, const char *file, vh_area_cb cb, void *arg,
    size_t *skipped, char **err)
{
	struct vh_csv		*csv;
	struct vh_area_rec	 rec;
	ssize_t			 kcol, tcol;
	size_t			 nf;
	char			*key = NULL, *name = NULL;
	int			 rc;

	csv = vh_csv_new_file(f, 0);
	if ((rc = vh_csv_read(csv)) != 1) {
		*err = rc == 0 ? vh_xasprintf("%s: empty file", file) :
		    vh_xasprintf("%s:%zu: %s", file,
		    vh_csv_error_line(csv), vh_csv_error(csv));
		rc = VH_EINVAL;
		goto out;
	}
	nf = vh_csv_nfields(csv);
	if ((kcol = column(csv, "Key")) == -1 ||
	    (tcol = column(csv, "Title")) == -1) {
		*err = vh_xasprintf("%s:1: not a CBS region list (no Key and "
		    "Title columns)", file);
		rc = VH_EINVAL;
		goto out;
	}
	while ((rc = vh_csv_read(csv)) == 1) {
		memset(&rec, 0, sizeof rec);
		rec.line = vh_csv_line(csv);
		if (vh_csv_nfields(csv) != nf) {
			*err = vh_xasprintf("%s:%zu: %zu fields, the header has "
			    "%zu", file, rec.line, vh_csv_nfields(csv), nf);
			rc = VH_EINVAL;
			goto out;
		}
		free(key);
		free(name);
		key = vh_import_trim(vh_xstrdup(vh_csv_field(csv, kcol)));
		name = vh_import_trim(vh_xstrdup(vh_csv_field(csv, tcol)));
		if (set_code(&rec, key) != 0) {
			/* Other region kinds (NL01, PV26, LD01) are no error. */
			if (key[0] != '\0' && strncmp(key, "GM", 2) != 0 &&
			    strncmp(key, "WK", 2) != 0 &&
			    strncmp(key, "BU", 2) != 0) {
				(*skipped)++;
				continue;
			}
			*err = vh_xasprintf("%s:%zu: malformed area code '%s'",
			    file, rec.line, key);
			rc = VH_EINVAL;
			goto out;
		}
		if (*name == '\0') {
			*err = vh_xasprintf("%s:%zu: %s has no title", file,
			    rec.line, key);
			rc = VH_EINVAL;
			goto out;
		}
		rec.name = name;
		if ((rc = cb(&rec, arg)) != 0)
			goto out;
	}
	if (rc < 0) {
		*err = vh_xasprintf("%s:%zu: %s", file,
		    vh_csv_error_line(csv), vh_csv_error(csv));
		goto out;
	}
	rc = 0;
out:
	free(key);
	free(name);
	vh_csv_free(csv);
	return (rc);
}

static const char *
prop_string(json_t *props, const char *key)
{
	json_t	*v = json_object_get(props, key);

	return (json_is_string(v) ? json_string_value(v) : NULL);
}

/* Works out a feature's code from its properties; VH_EINVAL if none. */
static int
feature_code(json_t *props, const char *gm, struct vh_area_rec *rec)
{
	const char	*full, *kode;
	char		 code[32];

	if ((full = prop_string(props, "buurtcode")) != NULL ||
	    (full = prop_string(props, "wijkcode")) != NULL ||
	    (full = prop_string(props, "gemeentecode")) != NULL)
		return (set_code(rec, full));
	if ((kode = prop_string(props, "KODE")) == NULL)
		return (VH_EINVAL);
	if (prop_string(props, "WIJKKODE") != NULL)
		snprintf(code, sizeof code, "BU%s%s", gm, kode);
	else if (strlen(kode) == 2)
		snprintf(code, sizeof code, "WK%s%s", gm, kode);
	else
		snprintf(code, sizeof code, "GM%s", kode);
	return (set_code(rec, code));
}

/*
 * A boundary in RD New (metres) imported as degrees would land off the
 * coast of Africa, so the first position must look like lon/lat.
 */
static bool
looks_wgs84(json_t *coords)
{
	while (json_is_array(coords) && json_is_array(json_array_get(coords, 0)))
		coords = json_array_get(coords, 0);
	if (!json_is_array(coords) || json_array_size(coords) < 2 ||
	    !json_is_number(json_array_get(coords, 0)) ||
	    !json_is_number(json_array_get(coords, 1)))
		return (false);
	return (fabs(json_number_value(json_array_get(coords, 0))) <= 180 &&
	    fabs(json_number_value(json_array_get(coords, 1))) <= 90);
}

int
vh_areas_parse_geojson(const char *text, size_t len, const char *file,
    const char *gm, vh_area_cb cb, void *arg, char **err)
{
	json_t			*root, *features, *feat, *geom, *props;
	json_error_t		 jerr;
	struct vh_area_rec	 rec;
	const char		*type, *crs;
	char			*gtext = NULL;
	size_t			 i;
	int			 rc = VH_EINVAL;

	if ((root = json_loadb(text, len, 0, &jerr)) == NULL) {
		*err = vh_xasprintf("%s:%d: %s", file, jerr.line, jerr.text);
		return (VH_EINVAL);
	}
	features = json_object_get(root, "features");
	if (!json_is_array(features)) {
		*err = vh_xasprintf("%s: not a GeoJSON FeatureCollection",
		    file);
		goto out;
	}
	crs = json_string_value(json_object_get(json_object_get(
	    json_object_get(root, "crs"), "properties"), "name"));
	if (crs != NULL && strstr(crs, "4326") == NULL &&
	    strstr(crs, "CRS84") == NULL) {
		*err = vh_xasprintf("%s: coordinates in %s, need WGS84 "
		    "(EPSG:4326)", file, crs);
		goto out;
	}
	json_array_foreach(features, i, feat) {
		memset(&rec, 0, sizeof rec);
		rec.line = i + 1;
		props = json_object_get(feat, "properties");
		geom = json_object_get(feat, "geometry");
		if (feature_code(props, gm, &rec) != 0) {
			*err = vh_xasprintf("%s: feature %zu: no usable area "
			    "code (KODE, buurtcode, wijkcode)", file, i + 1);
			goto out;
		}
		type = json_string_value(json_object_get(geom, "type"));
		if (type == NULL || (strcmp(type, "Polygon") != 0 &&
		    strcmp(type, "MultiPolygon") != 0)) {
			*err = vh_xasprintf("%s: feature %zu (%s): geometry is "
			    "%s, need a Polygon or MultiPolygon", file, i + 1,
			    rec.code, type != NULL ? type : "missing");
			goto out;
		}
		if (!looks_wgs84(json_object_get(geom, "coordinates"))) {
			*err = vh_xasprintf("%s: feature %zu (%s): coordinates "
			    "are not WGS84 longitude/latitude", file, i + 1,
			    rec.code);
			goto out;
		}
		rec.name = prop_string(props, "NAAM");
		if (rec.name == NULL)
			rec.name = prop_string(props, "buurtnaam");
		if (rec.name == NULL)
			rec.name = "";
		free(gtext);
		gtext = json_dumps(geom, JSON_COMPACT);
		rec.geometry = gtext;
		if ((rc = cb(&rec, arg)) != 0)
			goto out;
	}
	rc = 0;
out:
	free(gtext);
	json_decref(root);
	return (rc);
}

struct writer {
	PGconn			*db;
	const char		*file;
	struct vh_areas_stats	*st;
	char			*err;
};

/* Upserts one area; "t" back from the server means the row was new. */
static int
write_area(const struct vh_area_rec *rec, void *arg)
{
	struct writer	*w = arg;
	PGresult	*r;
	const char	*p[5];
	char		*err = NULL;

	p[0] = rec->code;
	p[1] = vh_area_level_name(rec->level);
	p[2] = rec->name[0] != '\0' ? rec->name : rec->code;
	p[3] = rec->parent[0] != '\0' ? rec->parent : NULL;
	p[4] = rec->geometry;
	if (rec->geometry == NULL)
		r = vh_db_exec(w->db, "INSERT INTO area (code, level, name, "
		    "parent) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO "
		    "UPDATE SET level = EXCLUDED.level, name = EXCLUDED.name, "
		    "parent = EXCLUDED.parent, updated_at = now() "
		    "RETURNING (xmax = 0)", 4, p, &err);
	else
		/* Keep the region list's name: boundary files cut names. */
		r = vh_db_exec(w->db, "INSERT INTO area (code, level, name, "
		    "parent, boundary) VALUES ($1, $2, $3, $4, "
		    "ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($5), 4326))) "
		    "ON CONFLICT (code) DO UPDATE SET boundary = "
		    "EXCLUDED.boundary, updated_at = now() "
		    "RETURNING (xmax = 0)", 5, p, &err);
	if (r == NULL) {
		w->err = rec->geometry == NULL ?
		    vh_xasprintf("%s:%zu: %s: %s", w->file, rec->line,
		    rec->code, err) :
		    vh_xasprintf("%s: feature %zu: %s: %s", w->file, rec->line,
		    rec->code, err);
		free(err);
		return (VH_EDB);
	}
	if (strcmp(PQgetvalue(r, 0, 0), "t") == 0)
		w->st->inserted++;
	PQclear(r);
	if (rec->geometry == NULL)
		w->st->areas++;
	else
		w->st->boundaries++;
	return (0);
}

static bool
is_geojson(const char *path)
{
	size_t	n = strlen(path);

	return ((n > 8 && strcmp(path + n - 8, ".geojson") == 0) ||
	    (n > 5 && strcmp(path + n - 5, ".json") == 0));
}

static int
import_one(struct writer *w, const char *path, const char *gm, char **err)
{
	FILE	*f;
	char	*text;
	size_t	 len;
	int	 rc;

	if (is_geojson(path)) {
		if ((text = vh_import_slurp(path, GEOJSON_MAX, &len, err)) ==
		    NULL)
			return (VH_EIO);
		rc = vh_areas_parse_geojson(text, len, w->file, gm, write_area,
		    w, err);
		free(text);
		return (rc);
	}
	if ((f = fopen(path, "rb")) == NULL) {
		*err = vh_xasprintf("%s: cannot open", path);
		return (VH_EIO);
	}
	rc = vh_areas_parse_csv(f, w->file, write_area, w, &w->st->skipped,
	    err);
	fclose(f);
	return (rc);
}

int
vh_areas_import(PGconn *db, const char *const *paths, size_t n,
    const char *gm, struct vh_areas_stats *st, char **err)
{
	struct writer	 w;
	size_t		 before;
	int		 rc;
	bool		 intx;

	memset(st, 0, sizeof *st);
	memset(&w, 0, sizeof w);
	w.db = db;
	w.st = st;
	/* This function began the transaction: it alone ends it. */
	if ((rc = vh_db_begin(db, err)) != 0)
		return (rc);
	intx = true;
	for (size_t i = 0; i < n; i++) {
		w.file = paths[i];
		before = st->areas + st->boundaries;
		rc = import_one(&w, paths[i], gm, err);
		if (rc != 0 && w.err != NULL) {
			free(*err);
			*err = w.err;
			w.err = NULL;
		}
		if (rc != 0)
			goto fail;
		vh_log_info("%s: %zu areas", paths[i],
		    st->areas + st->boundaries - before);
		vh_import_log_row(db, "areas", vh_import_basename(paths[i]),
		    is_geojson(paths[i]) ? "geojson" : "cbs-regions", true,
		    st->areas + st->boundaries - before, 0, 0, 0, "");
	}
	/* The deferred parent keys are checked here; a failed COMMIT has
	 * rolled back. */
	intx = false;
	if ((rc = vh_db_commit(db, err)) != 0)
		goto fail;
	return (0);
fail:
	free(w.err);
	if (intx)
		vh_db_rollback(db);
	vh_import_log_row(db, "areas", vh_import_basename(w.file != NULL ?
	    w.file : ""), NULL, false, 0, 0, 0, 0, *err);
	return (rc == VH_EDB || rc == VH_EIO ? rc : VH_EINVAL);
}

int
vh_areas_aggregate(PGconn *db, size_t *n, char **err)
{
	PGresult	*r;
	char		*why = NULL;

	*n = 0;
	if ((r = vh_db_exec(db, "SELECT vh_indicator_aggregate()", 0, NULL,
	    &why)) == NULL) {
		*err = vh_xasprintf("adding up buurt figures: %s", why);
		free(why);
		return (VH_EDB);
	}
	*n = (size_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return (0);
}

int
vh_areas_locate(PGconn *db, double lat, double lon, char code_out[16])
{
	PGresult	*r;
	const char	*p[2];
	char		 la[32], lo[32], *why = NULL;
	int		 rc;

	code_out[0] = '\0';
	/* NaN fails both comparisons, so it is refused here too. */
	if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180))
		return (VH_EINVAL);
	/* %.17g round-trips a double, so the server sees the same point. */
	snprintf(la, sizeof la, "%.17g", lat);
	snprintf(lo, sizeof lo, "%.17g", lon);
	p[0] = lo;
	p[1] = la;
	if ((r = vh_db_exec(db, "SELECT vh_area_at($1::float8, $2::float8)",
	    2, p, &why)) == NULL) {
		vh_log_warnx("locating a point: %s", why);
		free(why);
		return (VH_EDB);
	}
	if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0) ||
	    strlen(PQgetvalue(r, 0, 0)) >= 16) {
		rc = VH_ENOENT;
		goto out;
	}
	snprintf(code_out, 16, "%s", PQgetvalue(r, 0, 0));
	rc = 0;
out:
	PQclear(r);
	return (rc);
}
