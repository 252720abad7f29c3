/*
 * Fixed-window rate limiting by (scope, key) in the rate_limit table. One
 * statement counts a hit: it starts a window when there is none or the
 * last one ended, and otherwise adds one unless the limit is reached, so
 * concurrent hits from several workers or daemons count exactly. A hit
 * that starts a window also deletes the windows that ended, through the
 * index on window_end; the table stays as small as one window's clients.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_db.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_ratelimit.h"
#include "vh_session.h"
#include "vh_xmalloc.h"

struct vh_ratelimit {
	int64_t	window_ms;
};

struct vh_ratelimit *
vh_ratelimit_new(int64_t window_ms)
{
	struct vh_ratelimit *rl = vh_xcalloc(1, sizeof *rl);

	rl->window_ms = window_ms;
	return (rl);
}

void
vh_ratelimit_free(struct vh_ratelimit *rl)
{
	free(rl);
}

void
vh_ratelimit_key(const char *addr, char key[VH_RATELIMIT_KEY_LEN])
{
	vh_session_addr_key(addr, key, VH_RATELIMIT_KEY_LEN);
	/* Not an address (a Unix socket peer): one count for all of them. */
	if (key[0] == '\0')
		snprintf(key, VH_RATELIMIT_KEY_LEN, "%s", "-");
}

int
vh_ratelimit_hit(const struct vh_ratelimit *rl, PGconn *db,
    const char *scope, const char *key, int64_t limit,
    int64_t *retry_after_s, char **err)
{
	char		 lim[32], win[32];
	const char	*params[4] = { scope, key, lim, win };
	PGresult	*r;
	bool		 counted, fresh;

	snprintf(lim, sizeof lim, "%lld", (long long)limit);
	snprintf(win, sizeof win, "%lld", (long long)rl->window_ms);
	r = vh_db_exec(db, "INSERT INTO rate_limit AS l (scope, key, hits,"
	    " window_end) SELECT $1, $2, 1, now() + $4 * interval '1 ms'"
	    " WHERE $3::bigint > 0"
	    " ON CONFLICT (scope, key) DO UPDATE SET"
	    " hits = CASE WHEN l.window_end <= now() THEN 1 ELSE l.hits + 1"
	    " END,"
	    " window_end = CASE WHEN l.window_end <= now() THEN"
	    " excluded.window_end ELSE l.window_end END"
	    " WHERE l.window_end <= now() OR l.hits < $3::bigint"
	    " RETURNING l.hits = 1", 4, params, err);
	if (r == NULL)
		return (VH_EDB);
	counted = PQntuples(r) == 1;
	fresh = counted && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (fresh) {
		/* Old windows of other clients; a failure here costs nothing
		 * but room, and the next new window tries again. */
		if ((r = vh_db_exec(db, "DELETE FROM rate_limit WHERE"
		    " window_end <= now()", 0, NULL, err)) == NULL) {
			vh_log_warnx("rate limit: cleaning up: %s", *err);
			free(*err);
			*err = NULL;
		} else
			PQclear(r);
	}
	if (counted)
		return (0);
	params[2] = NULL;
	r = vh_db_exec(db, "SELECT greatest(1, ceil(extract(epoch FROM"
	    " window_end - now())))::bigint FROM rate_limit"
	    " WHERE scope = $1 AND key = $2", 2, params, err);
	if (r == NULL)
		return (VH_EDB);
	*retry_after_s = PQntuples(r) == 1 ?
	    strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 1;
	PQclear(r);
	return (VH_ETOOBIG);
}

int
vh_ratelimit_over(const struct vh_ratelimit *rl, PGconn *db,
    const char *scope, const char *key, int64_t limit,
    int64_t *retry_after_s, char **err)
{
	char		 lim[32];
	const char	*params[3] = { scope, key, lim };
	PGresult	*r;
	int		 rc = 0;

	(void)rl;
	snprintf(lim, sizeof lim, "%lld", (long long)limit);
	r = vh_db_exec(db, "SELECT greatest(1, ceil(extract(epoch FROM"
	    " window_end - now())))::bigint FROM rate_limit"
	    " WHERE scope = $1 AND key = $2 AND window_end > now()"
	    " AND hits >= $3::bigint", 3, params, err);
	if (r == NULL)
		return (VH_EDB);
	if (PQntuples(r) == 1) {
		*retry_after_s = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		rc = VH_ETOOBIG;
	}
	PQclear(r);
	return (rc);
}
