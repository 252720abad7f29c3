/* A pool worker's database connection: the pool hands each worker a slot
 * of its own, this module keeps a PGconn there and reopens it after it
 * broke, so that a job asks vh_worker_db() and never shares a connection.
 * A new connection needs no set-up of its own: the statements of
 * vh_db_prepared are prepared again on their first use on it. */
#include <stdlib.h>

#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_pool.h"
#include "vh_thread.h"
#include "vh_xmalloc.h"

struct vh_dbworker {
	char	*url;
	int64_t	 timeout_ms;
};

struct vh_dbworker *
vh_dbworker_new(const char *url, int64_t timeout_ms)
{
	struct vh_dbworker *d = vh_xcalloc(1, sizeof *d);

	d->url = vh_xstrdup(url != NULL ? url : "");
	d->timeout_ms = timeout_ms;
	return (d);
}

void
vh_dbworker_free(struct vh_dbworker *d)
{
	if (d == NULL)
		return;
	free(d->url);
	free(d);
}

void
vh_dbworker_state_free(void *state)
{
	if (state != NULL)
		PQfinish(state);
}

PGconn *
vh_worker_db(struct vh_worker *w, char **err)
{
	struct vh_dbworker	*d = vh_worker_ctx(w);
	void			**slot = vh_worker_state(w);
	PGconn			*db = *slot;

	VH_ASSERT_OFF_LOOP();
	if (db != NULL && PQstatus(db) == CONNECTION_OK)
		return (db);
	if (db != NULL)
		PQfinish(db);
	*slot = db = vh_db_connect(d->url, d->timeout_ms, err);
	return (db);
}
