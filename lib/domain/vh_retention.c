/*
 * Retention. One query ranks every entry against its own period (the
 * config's periods travel as parameters, so a SIGHUP takes effect at the
 * next run) and returns those past it; each is then erased on its own
 * with vh_erase, so one failure leaves the rest done and logged. In
 * verhaald a timer queues the purge on the worker pool and re-arms itself
 * when the run completes, so runs never overlap. The same run trims audit
 * rows older than audit_retention (vh_audit_trim).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "vh_audit.h"
#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_erase.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_periodic.h"
#include "vh_pool.h"
#include "vh_retention.h"
#include "vh_xmalloc.h"

#define BATCH 500

struct vh_retention {
	/* Borrowed from the composition root: retention is domain and may
	 * not reach up into the api layer for them. */
	struct vh_pool		*pool;
	struct vh_blobstore	*blobs;
	/* The slot of the current snapshot (the loop swaps it on reload);
	 * each run takes a reference to the one it starts with. */
	const struct vh_config *const *cfg;
	struct vh_periodic	*periodic;
};

int64_t
vh_retention_period(const struct vh_config *cfg, const char *kind,
    const char *scope, const char *status)
{
	if (kind != NULL && strcmp(kind, "visit") == 0)
		return (cfg->retention_visit);
	if (status != NULL && strcmp(status, "rejected") == 0)
		return (cfg->retention_story_rejected);
	if (scope == NULL)
		scope = "";
	if (strcmp(scope, "quote_anonymised") == 0)
		return (cfg->retention_story_quote_anonymised);
	if (strcmp(scope, "audio_to_staff") == 0)
		return (cfg->retention_story_audio_to_staff);
	if (strcmp(scope, "publish") == 0)
		return (cfg->retention_story_publish);
	/* No record: the narrowest scope's period. */
	return (cfg->retention_story_analysis_only);
}

int
vh_retention_purge(PGconn *db, struct vh_blobstore *bs,
    const struct vh_config *cfg, bool dry_run, int limit, json_t **report,
    char **err)
{
	char		 p[7][24], lim[16];
	const char	*params[8];
	int64_t		 periods[7] = { cfg->retention_visit,
			    cfg->retention_story_rejected,
			    cfg->retention_story_analysis_only,
			    cfg->retention_story_quote_anonymised,
			    cfg->retention_story_audio_to_staff,
			    cfg->retention_story_publish, 0 };
	PGresult	*r;
	json_t		*expired, *one, *rep;
	int		 erased = 0, failed = 0;
	int64_t		 trimmed = 0;
	char		*terr = NULL;

	*report = NULL;
	for (int i = 0; i < 6; i++) {
		snprintf(p[i], sizeof p[i], "%" PRId64, periods[i]);
		params[i] = p[i];
	}
	snprintf(lim, sizeof lim, "%d", limit > 0 ? limit : BATCH);
	params[6] = lim;
	r = vh_db_exec(db,
	    "SELECT json_build_object('id', id, 'kind', kind, 'scope', scope,"
	    " 'status', status, 'created_at', created_at) FROM ("
	    " SELECT e.id, e.kind, c.scope, e.status, e.created_at,"
	    " CASE WHEN e.kind = 'visit' THEN $1::bigint"
	    " WHEN e.status = 'rejected' THEN $2::bigint"
	    " WHEN c.scope = 'quote_anonymised' THEN $4::bigint"
	    " WHEN c.scope = 'audio_to_staff' THEN $5::bigint"
	    " WHEN c.scope = 'publish' THEN $6::bigint"
	    " ELSE $3::bigint END AS period"
	    " FROM entry e LEFT JOIN consent c ON c.entry_id = e.id) x"
	    " WHERE period > 0 AND created_at < now() - period * interval '1 ms'"
	    " ORDER BY created_at, id LIMIT $7::int", 7, params, err);
	if (r == NULL)
		return (VH_EDB);
	expired = json_array();
	for (int i = 0; i < PQntuples(r); i++)
		json_array_append_new(expired, json_loads(PQgetvalue(r, i, 0), 0,
		    NULL));
	PQclear(r);
	for (size_t i = 0; !dry_run && i < json_array_size(expired); i++) {
		json_t	*what = NULL;
		char	*why = NULL;
		int64_t	 id;
		int	 rc;

		one = json_array_get(expired, i);
		id = json_integer_value(json_object_get(one, "id"));
		rc = vh_erase_entry(db, bs, id, VH_ERASE_RETENTION, "retention",
		    &what, &why);
		if (rc == 0)
			erased++;
		else if (rc != VH_ENOENT) {	/* gone meanwhile: fine */
			vh_log_warnx("retention: entry %" PRId64 ": %s", id, why);
			failed++;
		}
		json_decref(what);
		free(why);
	}
	/* Audit rows past audit_retention: the chain keeps an anchor. */
	if (!dry_run && vh_audit_trim(db, cfg->audit_retention, &trimmed,
	    &terr) != 0) {
		vh_log_warnx("retention: trimming the audit trail: %s", terr);
		free(terr);
		failed++;
	}
	rep = json_pack("{s:b, s:o, s:i, s:i, s:I}", "dry_run", dry_run,
	    "expired", expired, "erased", erased, "failed", failed,
	    "audit_trimmed", (json_int_t)trimmed);
	*report = rep;
	return (0);
}

/* The timer's pool job. */
struct purge_job {
	struct vh_retention	*ret;
	const struct vh_config	*cfg;	/* this run's snapshot */
	json_t			*report;
	char			*err;
};

static void
purge_work(struct vh_worker *w, void *arg)
{
	struct purge_job	*j = arg;
	PGconn			*db;

	if ((db = vh_worker_db(w, &j->err)) == NULL)
		return;
	if (vh_retention_purge(db, j->ret->blobs, j->cfg,
	    false, BATCH, &j->report, &j->err) != 0)
		vh_log_debug("retention: the purge did not run");
}

static int64_t
interval_ms(void *arg)
{
	struct vh_retention *ret = arg;

	return ((*ret->cfg)->retention_purge_interval);
}

static void
purge_done(void *arg)
{
	struct purge_job	*j = arg;
	int			 n;

	if (j->err != NULL)
		vh_log_warnx("retention: %s", j->err);
	else if ((n = (int)json_integer_value(json_object_get(j->report,
	    "erased"))) > 0)
		vh_log_info("retention: erased %d entr%s past their period", n,
		    n == 1 ? "y" : "ies");
	json_decref(j->report);
	vh_config_unref(j->cfg);
	free(j->err);
	free(j);
}

/* The run's job, with the config it runs with. */
static void *
purge_start(void *arg)
{
	struct vh_retention	*ret = arg;
	struct purge_job	*j;

	j = vh_xcalloc(1, sizeof *j);
	j->ret = ret;
	j->cfg = vh_config_ref(*ret->cfg);
	return (j);
}

static const struct vh_periodic_ops purge_ops = {
	"retention", interval_ms, purge_start, purge_work, purge_done
};

struct vh_retention *
vh_retention_new(struct event_base *base, struct vh_pool *pool,
    struct vh_blobstore *blobs, const struct vh_config *const *cfg)
{
	struct vh_retention *ret = vh_xcalloc(1, sizeof *ret);

	ret->pool = pool;
	ret->blobs = blobs;
	ret->cfg = cfg;
	ret->periodic = vh_periodic_new(base, pool, &purge_ops, ret);
	vh_periodic_start(ret->periodic);
	return (ret);
}

void
vh_retention_free(struct vh_retention *ret)
{
	if (ret == NULL)
		return;
	vh_periodic_free(ret->periodic);
	free(ret);
}
