#ifndef VH_AREAS_H
#define VH_AREAS_H
/*
 * CBS areas: the gemeente, its wijken and buurten, from the CBS region
 * list (CSV) and from boundary files (GeoJSON, WGS84). Parsing yields
 * records through a callback and touches no database; vh_areas_import
 * writes them with libpq.
 */
#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

enum vh_area_level {
	VH_AREA_GEMEENTE,
	VH_AREA_WIJK,
	VH_AREA_BUURT,
};

struct vh_area_rec {
	char			 code[16];	/* GM0344, WK034401, BU03440111 */
	enum vh_area_level	 level;
	char			 parent[16];	/* "" for a gemeente */
	const char		*name;		/* borrowed, may be "" */
	const char		*geometry;	/* GeoJSON geometry or NULL */
	size_t			 line;		/* CSV line or GeoJSON feature (from 1) */
};

/* Returns 0 for a callback that wants more, else an error to stop with. */
typedef int (*vh_area_cb)(const struct vh_area_rec *, void *arg);

/* Checks code's form (GM+4, WK+6 or BU+8 digits) and gives its level. */
int	 vh_area_level_of(const char *code, enum vh_area_level *)
	    __attribute__((warn_unused_result));
/* The code of the enclosing area ("" for a gemeente) into buf[16]. */
void	 vh_area_parent_of(const char *code, char buf[16]);
const char *vh_area_level_name(enum vh_area_level);

/*
 * Parses a CBS region list (columns Key and Title; keys space-padded).
 * Rows whose key is no gemeente, wijk or buurt code (NL01, PV26) are
 * skipped and counted in *skipped. Errors set *err "file:line: reason"
 * (caller frees) and return VH_EINVAL or the callback's error.
 */
int	 vh_areas_parse_csv(FILE *, const char *file, vh_area_cb, void *,
	    size_t *skipped, char **err) __attribute__((warn_unused_result));

/*
 * Parses a GeoJSON FeatureCollection of Polygons or MultiPolygons in
 * WGS84. A feature's code comes from a full code property (buurtcode,
 * wijkcode, gemeentecode) or from KODE: with WIJKKODE it is a buurt
 * ("BU"+gm+KODE), two digits a wijk ("WK"+gm+KODE), otherwise the
 * gemeente ("GM"+KODE). gm is the four-digit gemeente number.
 */
int	 vh_areas_parse_geojson(const char *text, size_t len, const char *file,
	    const char *gm, vh_area_cb, void *, char **err)
	    __attribute__((warn_unused_result));

struct vh_areas_stats {
	size_t	areas;		/* rows from region lists */
	size_t	boundaries;	/* features from GeoJSON */
	size_t	inserted;	/* areas that were new */
	size_t	skipped;	/* region rows that are no GM/WK/BU */
};

/*
 * Imports the files (".geojson"/".json" as boundaries, anything else as
 * a region list) in one transaction; upserts, so importing again
 * changes nothing. Returns 0, VH_EINVAL (bad input), VH_EIO or VH_EDB
 * with *err set (caller frees).
 */
int	 vh_areas_import(PGconn *, const char *const *paths, size_t n,
	    const char *gm, struct vh_areas_stats *, char **err)
	    __attribute__((warn_unused_result));

/*
 * Recomputes the figures of wijken and gemeenten that CBS publishes only
 * per buurt (schema/0014, vh_indicator_aggregate): counts summed from
 * all buurten, rates from numerator and denominator. Runs inside the
 * caller's transaction; *n is the number of values derived. Returns 0 or
 * VH_EDB with *err set (caller frees).
 */
int	 vh_areas_aggregate(PGconn *, size_t *n, char **err)
	    __attribute__((warn_unused_result));

/*
 * The area whose stored boundary holds the WGS84 point (lat, lon): the
 * buurt, else the wijk, else the gemeente (schema/0005 vh_area_at, point
 * in polygon by PostGIS). The point itself is not stored anywhere.
 * Blocks on libpq: call it from a worker. Writes the code into
 * code_out[16]; returns 0, VH_EINVAL (not a coordinate), VH_ENOENT (no
 * boundary holds it) or VH_EDB.
 */
int	 vh_areas_locate(PGconn *, double lat, double lon, char code_out[16])
	    __attribute__((warn_unused_result));

#endif
