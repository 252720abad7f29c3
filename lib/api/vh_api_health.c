/*
 * Liveness and readiness. /healthz answers while the process runs.
 * /readyz asks a worker thread to check, with the configured timeout, that
 * the database answers, that its schema is what this build expects and
 * that the data directory takes a new file and has more free space than
 * min_free_space; any failure is 503 with a JSON body naming each check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "vh_api.h"
#include "vh_unused.h"
#include "vh_ctx.h"
#include "vh_body.h"
#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_error.h"
#include "vh_migrate.h"
#include "vh_pool.h"
#include "vh_xmalloc.h"

struct ready_job {
	struct vh_http_req		*req;
	const struct vh_migrate_plan	*plan;
	char				*data_dir;
	int64_t				 min_free;
	char				*db, *migrations, *storage;  /* NULL: ok */
};

void
vh_api_healthz(struct vh_ctx *ctx VH_UNUSED, struct vh_http_req *req,
    const struct vh_route_params *p VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	vh_body_respond_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* Asks the database; a connection that died since its last use is
 * reopened once, so a restarted server is seen at the first probe. */
static void
check_db(struct vh_worker *w, struct ready_job *j)
{
	PGconn		*db;
	PGresult	*r;
	char		*err = NULL;

	for (int attempt = 0; attempt < 2; attempt++) {
		free(err);
		err = NULL;
		if ((db = vh_worker_db(w, &err)) == NULL)
			break;
		if ((r = vh_db_exec(db, "SELECT 1", 0, NULL, &err)) != NULL) {
			PQclear(r);
			break;
		}
		PQreset(db);
	}
	if (err != NULL) {
		j->db = err;
		j->migrations = vh_xstrdup("not checked: no database");
		return;
	}
	if (vh_migrate_check(db, j->plan, &err) != 0)
		j->migrations = err;
}

static void
check_storage(struct ready_job *j)
{
	char		*path;
	int		 fd;
	struct statvfs	 sv;
	int64_t		 avail;

	/* Full before it is unwritable: uploads need room, not one inode. */
	if (statvfs(j->data_dir, &sv) == 0) {
		avail = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
		if (avail < j->min_free) {
			j->storage = vh_xasprintf("the data directory has %lld "
			    "bytes free, below min_free_space (%lld)",
			    (long long)avail, (long long)j->min_free);
			return;
		}
	}
	path = vh_xasprintf("%s/.readyz-XXXXXX", j->data_dir);
	if ((fd = mkstemp(path)) == -1)
		j->storage = vh_xasprintf("%s is not writable: %s", j->data_dir,
		    strerror(errno));
	else {
		close(fd);
		unlink(path);
	}
	free(path);
}

static void
ready_work(struct vh_worker *w, void *arg)
{
	struct ready_job *j = arg;

	check_db(w, j);
	check_storage(j);
}

static json_t *
check_json(const char *failure)
{
	return (json_string(failure == NULL ? "ok" : failure));
}

static void
ready_done(void *arg)
{
	struct ready_job	*j = arg;
	bool			 ok;

	ok = j->db == NULL && j->migrations == NULL && j->storage == NULL;
	if (!ok)
		vh_http_add_header(j->req, "Retry-After", "5");
	vh_body_respond_json(j->req, ok ? 200 : 503,
	    json_pack("{s:s, s:{s:o, s:o, s:o}}",
	    "status", ok ? "ready" : "not ready", "checks",
	    "database", check_json(j->db),
	    "migrations", check_json(j->migrations),
	    "data_dir", check_json(j->storage)));
	free(j->db);
	free(j->migrations);
	free(j->storage);
	free(j->data_dir);
	free(j);
}

void
vh_api_readyz(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *p VH_UNUSED,
    const struct vh_principal *who VH_UNUSED)
{
	struct ready_job *j;

	j = vh_xcalloc(1, sizeof *j);
	j->req = req;
	j->plan = ctx->plan;
	j->data_dir = vh_xstrdup(vh_ctx_config(ctx)->data_dir);
	j->min_free = vh_ctx_config(ctx)->min_free_space;
	vh_http_add_header(req, "Cache-Control", "no-store");
	vh_pool_submit(ctx->pool, ready_work, ready_done, j);
}
