/*
 * Exports for the tools analysts use: GET /api/v1/exports/entries.csv
 * (dialects for Excel and for R/pandas), /entries.xlsx (typed cells),
 * /entries.zip (the table, a file index and the display photos and AAC
 * audio the viewer may use),
 * /areas.geojson (a buurt or wijk layer whose fields keep their types)
 * and /fields (what those fields mean). The filters are search's
 * (vh_search_filters), the viewer goes into the same filter object, and
 * schema/0018_exports.sql builds the queries, so every export answers
 * to the one access rule of schema/0009_access.sql. All but /fields are
 * streamed by vh_apiq at the client's pace.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vh_api.h"
#include "vh_api_search.h"
#include "vh_apiq.h"
#include "vh_ctx.h"
#include "vh_config.h"
#include "vh_error.h"
#include "vh_http.h"
#include "vh_unused.h"
#include "vh_xmalloc.h"

#define MAX_INDICATORS 200	/* a shapefile holds 255 fields, 3 each */

/*
 * The server's origin as the client reached it, for the entry links:
 * only a Host that is a plain host name or address with a port (nothing
 * a spreadsheet could take for more than a link); else links stay
 * relative.
 */
static void
set_base(struct vh_http_req *req, json_t *f)
{
	const char	*host = vh_http_req_header(req, "Host");
	const char	*proto = vh_http_req_header(req, "X-Forwarded-Proto");
	char		*base;

	if (host == NULL || *host == '\0' || strlen(host) > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:[]") != strlen(host))
		return;
	base = vh_xasprintf("%s://%s", proto != NULL &&
	    strcmp(proto, "https") == 0 ? "https" : "http", host);
	json_object_set_new(f, "base", json_string(base));
	free(base);
}

/*
 * ?level=buurt|wijk and ?indicators=i12,i40 (the short names of
 * /fields) into f. VH_EINVAL with *why.
 */
static int
layer_args(struct vh_http_req *req, json_t *f, char **why)
{
	char	*v, *tok, *save, *end;
	json_t	*ids;
	int	 rc = 0;

	if ((v = vh_apiq_arg(req, "level")) != NULL && *v != '\0') {
		if (strcmp(v, "buurt") != 0 && strcmp(v, "wijk") != 0) {
			*why = vh_xstrdup("'level' must be buurt or wijk");
			free(v);
			return (VH_EINVAL);
		}
		json_object_set_new(f, "level", json_string(v));
	}
	free(v);
	if ((v = vh_apiq_arg(req, "indicators")) == NULL)
		return (0);
	ids = json_array();
	for (tok = strtok_r(v, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		long long id;

		if (tok[0] != 'i' || !isdigit((unsigned char)tok[1]) ||
		    strlen(tok) > 16 || (id = strtoll(tok + 1, &end, 10)) <= 0 ||
		    *end != '\0') {
			*why = vh_xstrdup("'indicators' must be field names "
			    "from /api/v1/exports/fields (i12,i40), separated "
			    "by commas");
			rc = VH_EINVAL;
			break;
		}
		if (json_array_size(ids) >= MAX_INDICATORS) {
			*why = vh_xasprintf("'indicators' names more than %d",
			    MAX_INDICATORS);
			rc = VH_EINVAL;
			break;
		}
		json_array_append_new(ids, json_integer(id));
	}
	free(v);
	if (rc == 0)
		json_object_set_new(f, "indicators", ids);
	else
		json_decref(ids);
	return (rc);
}

/*
 * The CSV export. Without dialect: the columns of the first export
 * (clients read them by position), comma, semicolon or tab as sep says.
 * dialect=excel: the analyst's table with a BOM and semicolons, as
 * Excel in a Dutch locale opens it by double-click; dialect=r: the same
 * table as plain UTF-8 with commas, for R's read.csv and pandas.
 */
void
vh_api_export_entries_csv(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_CSV };
	json_t		*f;
	char		*sep = NULL, *dialect = NULL;

	if ((f = vh_search_request(ctx, req, who)) == NULL)
		return;
	sep = vh_apiq_arg(req, "sep");
	dialect = vh_apiq_arg(req, "dialect");
	if (dialect != NULL && strcmp(dialect, "excel") != 0 &&
	    strcmp(dialect, "r") != 0) {
		vh_search_bad_request(req, f, vh_xstrdup("'dialect' must be "
		    "excel (BOM, semicolons) or r (UTF-8, commas)"));
		goto out;
	}
	if (sep != NULL && strcmp(sep, "comma") != 0 &&
	    strcmp(sep, "semicolon") != 0 && strcmp(sep, "tab") != 0) {
		vh_search_bad_request(req, f, vh_xstrdup("'sep' must be "
		    "comma, semicolon or tab"));
		goto out;
	}
	if (sep != NULL && dialect != NULL) {
		vh_search_bad_request(req, f, vh_xstrdup("'dialect' sets the "
		    "separator: give dialect or sep, not both"));
		goto out;
	}
	if (dialect != NULL) {
		set_base(req, f);
		q.sql = "SELECT vh_export_table_sql($1::jsonb, false)";
		q.csv_options = dialect[0] == 'e' ?
		    "FORMAT csv, HEADER, DELIMITER ';'" : "FORMAT csv, HEADER";
		q.csv_no_bom = dialect[0] == 'r';
	} else {
		q.sql = "SELECT vh_export_entries_sql($1::jsonb)";
		q.csv_options = sep == NULL || strcmp(sep, "comma") == 0 ?
		    "FORMAT csv, HEADER" : strcmp(sep, "tab") == 0 ?
		    "FORMAT csv, HEADER, DELIMITER E'\\t'" :
		    "FORMAT csv, HEADER, DELIMITER ';'";
	}
	q.content_type = "text/csv; charset=utf-8";
	q.filename = "entries.csv";
	vh_search_run(ctx, req, who, &q, f, "export", "entries");
out:
	free(sep);
	free(dialect);
}

/* A search's entries with their files, for Kobo/ODK-style workflows. */
void
vh_api_export_entries_zip(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_ZIP };
	json_t		*f;

	if ((f = vh_search_request(ctx, req, who)) == NULL)
		return;
	set_base(req, f);
	q.sql = "SELECT entries, files FROM vh_export_zip_sql($1::jsonb)";
	q.csv_options = "FORMAT csv, HEADER";
	q.content_type = "application/zip";
	q.filename = "entries.zip";
	vh_search_run(ctx, req, who, &q, f, "export", "entries");
}

/* The analyst's table as a workbook: numbers, dates and text typed. */
void
vh_api_export_entries_xlsx(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_XLSX };
	json_t		*f;

	if ((f = vh_search_request(ctx, req, who)) == NULL)
		return;
	set_base(req, f);
	q.sql = "SELECT vh_export_table_sql($1::jsonb, true)";
	q.content_type = "application/vnd.openxmlformats-officedocument."
	    "spreadsheetml.sheet";
	q.filename = "entries.xlsx";
	vh_search_run(ctx, req, who, &q, f, "export", "entries");
}

void
vh_api_export_areas_geojson(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON_ROWS };
	json_t		*f;
	char		*why = NULL;

	if ((f = vh_search_request(ctx, req, who)) == NULL)
		return;
	if (layer_args(req, f, &why) != 0) {
		vh_search_bad_request(req, f, why);
		return;
	}
	q.sql = "SELECT vh_export_areas_sql($1::jsonb)";
	q.json_head = "{\"type\":\"FeatureCollection\",\"features\":[";
	q.json_tail = "]}";
	q.content_type = "application/geo+json";
	q.filename = "areas.geojson";
	vh_search_run(ctx, req, who, &q, f, "export", "areas");
}

/* The field dictionary: the same level and indicators as the layer. */
void
vh_api_export_fields(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *who)
{
	struct vh_apiq	 q = { .mode = VH_APIQ_JSON };
	json_t		*f;
	char		*why = NULL;

	f = vh_search_viewer(who, vh_ctx_config(ctx)->small_count_k);
	if (layer_args(req, f, &why) != 0) {
		vh_search_bad_request(req, f, why);
		return;
	}
	q.sql = "SELECT vh_export_fields($1::jsonb)::text";
	vh_search_run(ctx, req, who, &q, f, NULL, NULL);
}
