/*
 * Schema migrations. Each schema/NNNN_name.sql is compiled into the binary
 * (contrib/dev/embed-schema.sh); a plan orders them by number. Applying
 * takes a session advisory lock first, so two daemons starting together
 * queue instead of racing, then runs every pending migration in its own
 * transaction together with its schema_migrations row.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_error.h"
#include "vh_migrate.h"
#include "vh_xmalloc.h"

/* pg_advisory_lock key: "verhal" in ASCII (0x766572686161). */
#define MIGRATE_LOCK_KEY "130191467798881"

struct step {
	int				 version;
	const struct vh_migration	*m;
};

struct vh_migrate_plan {
	struct step	*steps;
	size_t		 n;
};

static int
parse_name(const char *name, int *version)
{
	const char	*p = name;
	int		 v = 0;

	for (int i = 0; i < 4; i++, p++) {
		if (!isdigit((unsigned char)*p))
			return (VH_EINVAL);
		v = v * 10 + (*p - '0');
	}
	if (*p++ != '_' || *p == '\0' || v == 0)
		return (VH_EINVAL);
	for (; *p != '\0'; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    *p != '_')
			return (VH_EINVAL);
	*version = v;
	return (0);
}

static int
step_cmp(const void *a, const void *b)
{
	const struct step *x = a, *y = b;

	return ((x->version > y->version) - (x->version < y->version));
}

struct vh_migrate_plan *
vh_migrate_plan_new(const struct vh_migration *ms, size_t n, char **err)
{
	struct vh_migrate_plan	*plan;

	plan = vh_xcalloc(1, sizeof *plan);
	plan->steps = vh_xreallocarray(NULL, n, sizeof *plan->steps);
	plan->n = n;
	for (size_t i = 0; i < n; i++) {
		plan->steps[i].m = &ms[i];
		if (parse_name(ms[i].name, &plan->steps[i].version) != 0) {
			if (err != NULL)
				*err = vh_xasprintf("migration '%s': name must be "
				    "NNNN_name with NNNN from 0001 and a lower-case "
				    "name", ms[i].name);
			goto fail;
		}
	}
	qsort(plan->steps, n, sizeof *plan->steps, step_cmp);
	for (size_t i = 1; i < n; i++) {
		if (plan->steps[i].version == plan->steps[i - 1].version) {
			if (err != NULL)
				*err = vh_xasprintf("migrations '%s' and '%s' share "
				    "number %04d", plan->steps[i - 1].m->name,
				    plan->steps[i].m->name, plan->steps[i].version);
			goto fail;
		}
	}
	return (plan);
fail:
	vh_migrate_plan_free(plan);
	return (NULL);
}

void
vh_migrate_plan_free(struct vh_migrate_plan *plan)
{
	if (plan == NULL)
		return;
	free(plan->steps);
	free(plan);
}

size_t
vh_migrate_plan_count(const struct vh_migrate_plan *plan)
{
	return (plan->n);
}

int
vh_migrate_plan_version(const struct vh_migrate_plan *plan, size_t i)
{
	return (plan->steps[i].version);
}

const char *
vh_migrate_plan_name(const struct vh_migrate_plan *plan, size_t i)
{
	return (plan->steps[i].m->name);
}

int
vh_migrate_plan_latest(const struct vh_migrate_plan *plan)
{
	return (plan->n == 0 ? 0 : plan->steps[plan->n - 1].version);
}

/* Runs one statement; on failure sets *err from the server's message. */
static int
exec_ok(PGconn *db, const char *sql, const char *what, char **err)
{
	PGresult	*r;
	int		 rc = 0;

	r = PQexec(db, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		if (err != NULL)
			*err = vh_xasprintf("%s: %s", what, PQerrorMessage(db));
		rc = VH_EDB;
	}
	PQclear(r);
	return (rc);
}

/* The highest applied version, 0 for none, or -1 without the table. */
static int
applied_latest(PGconn *db, int *latest, char **err)
{
	PGresult	*r;
	int		 rc = 0;

	r = PQexec(db, "SELECT to_regclass('schema_migrations') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		goto fail;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		*latest = -1;
		PQclear(r);
		return (0);
	}
	PQclear(r);
	r = PQexec(db, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		goto fail;
	*latest = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return (rc);
fail:
	if (err != NULL)
		*err = vh_xasprintf("reading schema_migrations: %s",
		    PQerrorMessage(db));
	PQclear(r);
	return (VH_EDB);
}

static int
is_applied(PGconn *db, int version, bool *applied, char **err)
{
	char		 v[16];
	const char	*params[1] = { v };
	PGresult	*r;
	int		 rc = 0;

	snprintf(v, sizeof v, "%d", version);
	r = PQexecParams(db, "SELECT 1 FROM schema_migrations WHERE version = $1",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		if (err != NULL)
			*err = vh_xasprintf("reading schema_migrations: %s",
			    PQerrorMessage(db));
		rc = VH_EDB;
	} else
		*applied = PQntuples(r) > 0;
	PQclear(r);
	return (rc);
}

static int
apply_one(PGconn *db, const struct step *s, char **err)
{
	char		 v[16];
	const char	*params[2] = { v, s->m->name };
	PGresult	*r;
	char		*what;
	int		 rc;

	snprintf(v, sizeof v, "%d", s->version);
	if ((rc = exec_ok(db, "BEGIN", "BEGIN", err)) != 0)
		return (rc);
	what = vh_xasprintf("migration %s", s->m->name);
	rc = exec_ok(db, s->m->sql, what, err);
	free(what);
	if (rc != 0)
		goto rollback;
	r = PQexecParams(db, "INSERT INTO schema_migrations (version, name) "
	    "VALUES ($1, $2)", 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		if (err != NULL)
			*err = vh_xasprintf("recording %s: %s", s->m->name,
			    PQerrorMessage(db));
		rc = VH_EDB;
	}
	PQclear(r);
	if (rc != 0)
		goto rollback;
	return (exec_ok(db, "COMMIT", "COMMIT", err));
rollback:
	PQclear(PQexec(db, "ROLLBACK"));
	return (rc);
}

int
vh_migrate_apply(PGconn *db, const struct vh_migrate_plan *plan,
    vh_migrate_cb cb, void *arg, char **err)
{
	int	 latest, rc;
	bool	 applied;

	if ((rc = exec_ok(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")",
	    "taking the migration lock", err)) != 0)
		return (rc);
	rc = exec_ok(db, "SET client_min_messages = warning;"
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version integer PRIMARY KEY,"
	    " name text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())",
	    "creating schema_migrations", err);
	if (rc != 0)
		goto out;
	if ((rc = applied_latest(db, &latest, err)) != 0)
		goto out;
	if (latest > vh_migrate_plan_latest(plan)) {
		if (err != NULL)
			*err = vh_xasprintf("the database schema is at version "
			    "%04d, newer than this build knows (%04d); run a newer "
			    "verhaal", latest, vh_migrate_plan_latest(plan));
		rc = VH_ECONFLICT;
		goto out;
	}
	/* Earlier numbers added later (a merge) are applied too. */
	for (size_t i = 0; i < plan->n; i++) {
		if ((rc = is_applied(db, plan->steps[i].version, &applied,
		    err)) != 0)
			goto out;
		if (applied)
			continue;
		if ((rc = apply_one(db, &plan->steps[i], err)) != 0)
			goto out;
		if (cb != NULL)
			cb(plan->steps[i].version, plan->steps[i].m->name, arg);
	}
out:
	PQclear(PQexec(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
	return (rc);
}

int
vh_migrate_status(PGconn *db, const struct vh_migrate_plan *plan,
    vh_migrate_status_cb cb, void *arg, char **err)
{
	PGresult	*r;
	int		 latest, rc;

	if ((rc = applied_latest(db, &latest, err)) != 0)
		return (rc);
	if (latest < 0) {
		for (size_t i = 0; i < plan->n; i++)
			cb(plan->steps[i].version, plan->steps[i].m->name, NULL,
			    arg);
		return (0);
	}
	for (size_t i = 0; i < plan->n; i++) {
		char		 v[16];
		const char	*params[1] = { v };

		snprintf(v, sizeof v, "%d", plan->steps[i].version);
		r = PQexecParams(db, "SELECT to_char(applied_at AT TIME ZONE 'UTC',"
		    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM schema_migrations"
		    " WHERE version = $1", 1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			if (err != NULL)
				*err = vh_xasprintf("reading schema_migrations: %s",
				    PQerrorMessage(db));
			PQclear(r);
			return (VH_EDB);
		}
		cb(plan->steps[i].version, plan->steps[i].m->name,
		    PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : NULL, arg);
		PQclear(r);
	}
	return (0);
}

int
vh_migrate_check(PGconn *db, const struct vh_migrate_plan *plan, char **err)
{
	PGresult	*r;
	int		 latest, rc, n;

	if ((rc = applied_latest(db, &latest, err)) != 0)
		return (rc);
	if (latest > vh_migrate_plan_latest(plan)) {
		if (err != NULL)
			*err = vh_xasprintf("schema version %04d is newer than "
			    "this build (%04d)", latest, vh_migrate_plan_latest(plan));
		return (VH_ECONFLICT);
	}
	if (latest < 0) {
		n = (int)plan->n;
	} else {
		r = PQexec(db, "SELECT count(*) FROM schema_migrations");
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			if (err != NULL)
				*err = vh_xasprintf("reading schema_migrations: %s",
				    PQerrorMessage(db));
			PQclear(r);
			return (VH_EDB);
		}
		n = (int)plan->n - atoi(PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	if (n > 0) {
		if (err != NULL)
			*err = vh_xasprintf("%d migration(s) pending", n);
		return (VH_EAGAIN);
	}
	return (0);
}
