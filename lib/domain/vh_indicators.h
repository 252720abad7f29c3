#ifndef VH_INDICATORS_H
#define VH_INDICATORS_H
/*
 * Indicator files as published: CBS OData CSV, CBS StatLine downloads,
 * CBS Kerncijfers wijken en buurten (one column per variable) and
 * utrecht.incijfers.nl exports. The format is recognised from the
 * header. Parsing (vh_indicators.c) yields one value at a time through
 * a callback and needs no database; vh_indicators_db.c writes a file's
 * values in one transaction and then adds up buurt figures for wijken
 * and the gemeente (vh_areas_aggregate). An .xlsx workbook is read as
 * the CSV of its first sheet (vh_indicators_xlsx.c); the kwb codebook
 * (vh_indicators_kwb.c) names the kwb variables.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

enum vh_ind_format {
	VH_IND_UNKNOWN,
	VH_IND_ODATA,		/* CBS OData CSV (needs DataProperties) */
	VH_IND_STATLINE,	/* CBS StatLine "download as CSV" */
	VH_IND_KWB,		/* CBS Kerncijfers, one column per variable */
	VH_IND_INCIJFERS,	/* utrecht.incijfers.nl, "indicator|period" */
	VH_IND_METADATA,	/* OData DataProperties or a code list */
	VH_IND_REGIONS,		/* a CBS region list: import-areas reads it */
	VH_IND_PC4,		/* politie "Misdaad in kaart" incident list */
};

const char *vh_ind_format_name(enum vh_ind_format);

/* One figure. All strings are borrowed for the callback's duration. */
struct vh_ind_value {
	const char	*key;		/* indicator key, stable across files */
	const char	*title;
	const char	*unit;		/* NULL when the source does not say */
	const char	*source;	/* e.g. "CBS 47018NED" */
	const char	*area_code;	/* CBS code, or NULL ... */
	const char	*area_name;	/* ... and a name to match instead */
	const char	*period_type;	/* "year", "month" or "wave" */
	const char	*period;	/* 2023, 2023-01, wave label */
	const char	*period_start;	/* YYYY-MM-DD or NULL */
	const char	*value;		/* plain decimal, NULL when missing */
	size_t		 line;		/* physical line of the row */
	/*
	 * How figures of the indicator add up over areas: "sum" (a count),
	 * "ratio" (scale x numerator / denominator, both indicator keys)
	 * or "none" (averages, distances, shares of an unknown base).
	 */
	const char	*aggregate;
	const char	*numerator;
	const char	*denominator;
	const char	*scale;
};

/* What a source's short variable name means (vh_indicators_kwb.c). */
struct vh_ind_label {
	const char	*code;		/* a_00_14 */
	const char	*title;		/* Personen 0 tot 15 jaar */
	const char	*unit;
	const char	*aggregate;	/* as in struct vh_ind_value */
	const char	*numerator;	/* codes in the same file, or NULL */
	const char	*denominator;
	const char	*scale;
};

/* The kwb codebook's entry for a variable name, or NULL. */
const struct vh_ind_label *vh_ind_kwb_label(const char *code);

typedef int (*vh_ind_cb)(const struct vh_ind_value *, void *arg);

/* OData metadata: topics from DataProperties, titles from code lists. */
struct vh_ind_meta;

struct vh_ind_meta *vh_ind_meta_new(void);
void	vh_ind_meta_free(struct vh_ind_meta *);
/* Loads a DataProperties.csv or a dimension's code list (Key, Title). */
int	vh_ind_meta_load(struct vh_ind_meta *, FILE *, const char *file,
	    char **err) __attribute__((warn_unused_result));

/* What DataProperties says a column is. */
enum vh_ind_meta_kind {
	VH_IND_META_NONE,	/* not described */
	VH_IND_META_DIMENSION,	/* a code such as SoortMisdrijf */
	VH_IND_META_GEO,	/* WijkenEnBuurten */
	VH_IND_META_TIME,	/* Perioden */
	VH_IND_META_TOPIC,	/* a numeric figure */
	VH_IND_META_TEXT,	/* a string topic such as Gemeentenaam_2 */
};

/* The kind of column key; for topics *title and *unit (may be NULL). */
enum vh_ind_meta_kind vh_ind_meta_kind(const struct vh_ind_meta *,
	    const char *key, const char **title, const char **unit);
size_t	vh_ind_meta_ntopics(const struct vh_ind_meta *);
/* The i-th dimension's key (SoortMisdrijf), NULL past the last. */
const char *vh_ind_meta_dimension(const struct vh_ind_meta *, size_t i);
/* A code list's title for a dimension code, or NULL. */
const char *vh_ind_meta_code_title(const struct vh_ind_meta *, const char *);

struct vh_ind_opts {
	const char		*file;		/* name used in messages */
	const char		*period;	/* for files without one, or NULL */
	struct vh_ind_meta	*meta;		/* OData metadata, or NULL */
};

struct vh_ind_counts {
	enum vh_ind_format	format;
	size_t			rows;		/* data rows read */
	size_t			values;		/* values given to the callback */
	size_t			missing;	/* of which missing (".") */
	size_t			skipped;	/* rows outside GM/WK/BU, totals */
};

/*
 * Parses one indicator file. Returns 0, VH_ENOTSUP for a file that is
 * recognised but holds no indicator values (metadata, region list, PC4
 * incidents; *err says which), VH_EINVAL with *err "file:line: reason",
 * or the callback's error. *err is the caller's to free.
 */
int	vh_indicators_parse(FILE *, const struct vh_ind_opts *, vh_ind_cb,
	    void *, struct vh_ind_counts *, char **err)
	    __attribute__((warn_unused_result));

/* Parses "2023JJ00", "2023MM01", "2023" or "2023-01"; false otherwise. */
bool	vh_ind_period_parse(const char *, char type[8], char period[16],
	    char start[16]);

/* Any other label ("2021/2022", "2023 najaar") as a survey wave, dated
 * by its leading year if it has one; false when empty or too long. */
bool	vh_ind_wave_parse(const char *, char type[8], char period[16],
	    char start[16]);

/* The CBS table id in a file name ("cbs_47018NED_x.csv" -> "47018NED"),
 * or "" when there is none. */
void	vh_ind_table_id(const char *file, char out[16]);

/*
 * The first sheet of the .xlsx workbook at path as ';'-separated CSV,
 * sheet row n on line n (libzip and libxml2). Returns the text (caller
 * frees) and its length, or NULL with *err set (caller frees).
 */
char	*vh_ind_xlsx_to_csv(const char *path, size_t *len, char **err);
/* The same for a workbook of n bytes in memory (borrowed), name for the
 * messages (the fuzz target's way in). */
char	*vh_ind_xlsx_mem_to_csv(const void *data, size_t n, const char *name,
	    size_t *len, char **err);

/* Folds a name for matching: "Buurt Julianapark e.o." ->
 * "julianapark en omgeving". Caller frees. */
char	*vh_ind_name_fold(const char *);

struct vh_ind_summary {
	struct vh_ind_counts	counts;
	size_t			stored;		/* values written, numbers */
	size_t			missing;	/* values written as missing */
	size_t			unmatched;	/* rows whose name matched nothing */
	size_t			indicators;	/* distinct indicators kept */
	size_t			empty;		/* series left out: no figure */
	size_t			derived;	/* values derived (all areas) */
	bool			workbook;	/* read from an .xlsx */
};

/*
 * Imports one file in one transaction: reads OData metadata from files
 * beside it, matches names through area and area_alias, refuses unknown
 * area codes. Anything wrong rolls the whole file back. Returns 0,
 * VH_ENOTSUP (nothing to import, *err says why), VH_EINVAL, VH_EIO or
 * VH_EDB with *err set (caller frees).
 */
int	vh_indicators_import(PGconn *, const char *path, const char *period,
	    struct vh_ind_summary *, char **err)
	    __attribute__((warn_unused_result));

#endif
