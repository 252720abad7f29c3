/*
 * Blob garbage collection under advisory locks keyed by the hash
 * (hashtextextended), so that a writer reusing identical content and the
 * collector never race: the writer holds the shared lock while it relies
 * on the file, the collector needs the exclusive one to delete it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_blobgc.h"
#include "vh_blobstore.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

#define LOCK_KEY "hashtextextended($1, 1347)"

/* A blob is in use while a media row names it as original or rendition. */
#define UNUSED(x) " NOT EXISTS (SELECT 1 FROM media m WHERE" \
	" m.blob_sha256 = " x ") AND NOT EXISTS (SELECT 1 FROM media m WHERE" \
	" ARRAY[m.opus_sha256, m.m4a_sha256, m.peaks_sha256," \
	" m.display_sha256, m.thumb_sha256] @> ARRAY[" x "::text])"

int
vh_blobgc_pin(PGconn *db, struct vh_blobstore *bs, const char *hex,
    int64_t size, char **err)
{
	char		 sz[32];
	const char	*params[2] = { hex, sz };
	PGresult	*r;
	int64_t		 have;

	snprintf(sz, sizeof sz, "%lld", (long long)size);
	if ((r = vh_db_exec(db, "SELECT pg_advisory_lock_shared(" LOCK_KEY ")",
	    1, params, err)) == NULL)
		return (VH_EDB);
	PQclear(r);
	if (vh_blobstore_exists(bs, hex, &have) != 0) {
		vh_blobgc_unpin(db, hex);
		*err = vh_xasprintf("blob %s was collected while being stored",
		    hex);
		return (VH_ENOENT);
	}
	if ((r = vh_db_exec(db, "INSERT INTO blob (sha256, size) VALUES ($1, $2)"
	    " ON CONFLICT (sha256) DO NOTHING", 2, params, err)) == NULL) {
		vh_blobgc_unpin(db, hex);
		return (VH_EDB);
	}
	PQclear(r);
	return (0);
}

void
vh_blobgc_unpin(PGconn *db, const char *hex)
{
	const char *params[1] = { hex };

	PQclear(PQexecParams(db, "SELECT pg_advisory_unlock_shared(" LOCK_KEY ")",
	    1, NULL, params, NULL, NULL, 0));
}

int
vh_blobgc_collect(PGconn *db, struct vh_blobstore *bs, int64_t grace_s,
    int *n, char **err)
{
	char		 grace[32];
	const char	*params[1] = { grace };
	PGresult	*r, *d;

	*n = 0;
	snprintf(grace, sizeof grace, "%lld", (long long)grace_s);
	r = vh_db_exec(db, "SELECT sha256 FROM blob b WHERE created_at <"
	    " now() - $1 * interval '1 s' AND" UNUSED("b.sha256")
	    " LIMIT 1000", 1, params, err);
	if (r == NULL)
		return (VH_EDB);
	for (int i = 0; i < PQntuples(r); i++) {
		const char *p[1] = { PQgetvalue(r, i, 0) };

		d = vh_db_exec(db, "SELECT pg_try_advisory_lock(" LOCK_KEY ")", 1,
		    p, NULL);
		if (d == NULL || strcmp(PQgetvalue(d, 0, 0), "t") != 0) {
			PQclear(d);
			continue;		/* a writer holds it */
		}
		PQclear(d);
		d = vh_db_exec(db, "DELETE FROM blob b WHERE sha256 = $1 AND"
		    UNUSED("$1"), 1, p, NULL);
		if (d != NULL && strcmp(PQcmdTuples(d), "1") == 0) {
			if (vh_blobstore_delete(bs, p[0]) != 0)
				vh_log_warnx("blob gc: %s had no file", p[0]);
			(*n)++;
		}
		PQclear(d);
		PQclear(PQexecParams(db, "SELECT pg_advisory_unlock(" LOCK_KEY ")",
		    1, NULL, p, NULL, NULL, 0));
	}
	PQclear(r);
	return (0);
}

int
vh_blobgc_remove_orphan(PGconn *db, struct vh_blobstore *bs, const char *hex,
    char **err)
{
	const char	*p[1] = { hex };
	PGresult	*r;
	int		 rc;

	if ((r = vh_db_exec(db, "SELECT pg_try_advisory_lock(" LOCK_KEY ")", 1,
	    p, err)) == NULL)
		return (VH_EDB);
	rc = strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? 0 : VH_ECONFLICT;
	PQclear(r);
	if (rc != 0)
		return (rc);
	/* Asked again under the lock: a pin may have landed since. */
	r = vh_db_exec(db, "SELECT EXISTS (SELECT 1 FROM blob WHERE sha256 = $1)"
	    " OR EXISTS (SELECT 1 FROM upload WHERE blob_sha256 = $1)", 1, p,
	    err);
	if (r == NULL)
		rc = VH_EDB;
	else if (strcmp(PQgetvalue(r, 0, 0), "t") == 0)
		rc = VH_ECONFLICT;
	else if ((rc = vh_blobstore_delete(bs, hex)) != 0)
		*err = vh_xasprintf("removing blob %s: %s", hex, vh_strerror(rc));
	PQclear(r);
	PQclear(PQexecParams(db, "SELECT pg_advisory_unlock(" LOCK_KEY ")", 1,
	    NULL, p, NULL, NULL, 0));
	return (rc);
}
