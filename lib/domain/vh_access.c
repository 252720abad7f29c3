/*
 * The access rule, asked from C. Each check is one statement that calls
 * the rule's SQL functions (schema/0009_access.sql), so C handlers and
 * SQL query builders cannot disagree: there is one rule, and its table
 * lives beside it in the migration.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vh_access.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

json_t *
vh_access_viewer(const struct vh_principal *who)
{
	json_t *f = json_object();

	json_object_set_new(f, "role", json_string(vh_role_name(who->role)));
	json_object_set_new(f, "account", json_integer(who->account_id));
	return (f);
}

/* The viewer as a query parameter; caller frees. */
static char *
viewer_param(const struct vh_principal *who)
{
	json_t	*f = vh_access_viewer(who);
	char	*s = json_dumps(f, JSON_COMPACT);

	json_decref(f);
	if (s == NULL)
		vh_fatal("json_dumps");
	return (s);
}

/* Logs the server's words; the client gets ours. */
static int
db_failed(const char *what, char *dberr, char **err)
{
	vh_log_warnx("access check for %s: %s", what, dberr);
	free(dberr);
	*err = vh_xstrdup("the database could not check access");
	return (VH_EDB);
}

int
vh_access_media(PGconn *db, const struct vh_principal *who, const char *id,
    const char *rendition, char **err)
{
	const char	*params[3];
	char		*viewer = viewer_param(who), *dberr = NULL;
	PGresult	*r;
	int		 rc;

	params[0] = viewer;
	params[1] = id;
	params[2] = rendition;
	r = vh_db_exec(db, "SELECT vh_access_media($1::jsonb, $2::bigint, $3)",
	    3, params, &dberr);
	free(viewer);
	if (r == NULL)
		return (db_failed("media", dberr, err));
	rc = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? 0 :
	    VH_ENOENT;
	PQclear(r);
	return (rc);
}

int
vh_access_entry(PGconn *db, const struct vh_principal *who, const char *id,
    const char *use, char **scope, char **err)
{
	const char	*params[3];
	char		*viewer = viewer_param(who), *dberr = NULL;
	PGresult	*r;
	int		 rc;

	params[0] = viewer;
	params[1] = id;
	params[2] = use;
	r = vh_db_exec(db, "SELECT cardinality(a) > 0, $3 = ANY(a),"
	    " coalesce((SELECT scope FROM consent WHERE entry_id = $2::bigint),"
	    " '') FROM vh_access_entry($1::jsonb, $2::bigint) a"
	    " WHERE a IS NOT NULL", 3, params, &dberr);
	free(viewer);
	if (r == NULL)
		return (db_failed("entry", dberr, err));
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		rc = VH_ENOENT;
	else if (strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
		if (scope != NULL)
			*scope = vh_xstrdup(PQgetvalue(r, 0, 2));
		rc = VH_ENOTSUP;
	} else
		rc = 0;
	PQclear(r);
	return (rc);
}
