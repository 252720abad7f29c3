#ifndef VH_APIQ_H
#define VH_APIQ_H
/*
 * Read routes answered by SQL: the statement runs on a worker and its
 * single text value becomes the response body, or (exports) names a
 * query whose result is streamed to the client with bounded memory. The
 * search, area and export handlers build their filters on the loop
 * thread and leave the rest to PostgreSQL (schema/0005_search.sql,
 * schema/0009_access.sql).
 */
#include <stdbool.h>

#include <jansson.h>

#include "vh_audit.h"
#include "vh_route.h"

#define VH_APIQ_MAXPARAMS 4

enum vh_apiq_mode {
	VH_APIQ_JSON,		/* value is JSON; NULL means 404 */
	VH_APIQ_CSV,		/* value is a query, streamed through COPY as CSV */
	VH_APIQ_JSON_ROWS,	/* value is a query of JSON rows, streamed as
				 * json_head row,row,... json_tail */
	VH_APIQ_XLSX,		/* value is a query, streamed as a workbook
				 * with one typed sheet */
	VH_APIQ_ZIP,		/* two values: a query of the entries (CSV)
				 * and one of their files (entry_id, media_id,
				 * kind, path, sha256, size), streamed as a
				 * ZIP of entries.csv, media.csv and files */
};

struct vh_apiq {
	enum vh_apiq_mode	 mode;
	const char		*sql;			/* static */
	int			 nparams;
	char			*params[VH_APIQ_MAXPARAMS];	/* owned */
	int			 ok_status;		/* 200 or 201 */
	const char		*content_type;		/* NULL: JSON */
	const char		*filename;		/* attachment name or NULL */
	const char		*not_found;		/* detail for a NULL value */
	const char		*conflict;		/* detail for 23505 */
	const char		*csv_options;		/* COPY options, CSV mode */
	bool			 csv_no_bom;		/* plain UTF-8 (R, pandas) */
	const char		*json_head, *json_tail;	/* static, JSON_ROWS */

	/* The audit row of this read (vh_apiq_audit); none when action is
	 * NULL. A JSON answer is recorded before it is sent (not at all
	 * when nothing was found); a streamed one when it ends, with the
	 * number of rows sent. */
	const char		*audit_action;		/* static */
	const char		*audit_type;		/* static */
	char			*audit_id;		/* owned */
	char			*audit_reason;		/* owned */
	struct vh_audit_actor	 audit_actor;
};

/* Runs q for req on a worker and responds; takes q's params. CSV and
 * JSON_ROWS answers are streamed (chunked, at the client's pace). */
void	vh_apiq_run(struct vh_ctx *, struct vh_http_req *, struct vh_apiq *);
/* Loop thread: records q's answer as action on object type/id by who;
 * the reason is the request's query string (its filters). */
void	vh_apiq_audit(struct vh_apiq *q, struct vh_http_req *,
	    const struct vh_principal *who, const char *action,
	    const char *type, const char *id);
/* A query parameter (caller frees), NULL when absent. */
char	*vh_apiq_arg(struct vh_http_req *, const char *name);

#endif
