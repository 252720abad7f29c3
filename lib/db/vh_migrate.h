#ifndef VH_MIGRATE_H
#define VH_MIGRATE_H
/* Schema migrations: schema/NNNN_name.sql, compiled in, applied in order. */
#include <stddef.h>

#include <libpq-fe.h>

struct vh_migration {
	const char	*name;		/* "0001_foundation" */
	const char	*sql;
};

/* The migrations this binary was built with (generated from schema/). */
extern const struct vh_migration vh_schema_migrations[];
extern const size_t vh_schema_nmigrations;

struct vh_migrate_plan;

/*
 * Orders migrations by their number. Fails with *err set (caller frees)
 * when a name is not NNNN_name or two share a number. The plan borrows
 * the migrations; caller frees the plan.
 */
struct vh_migrate_plan *vh_migrate_plan_new(const struct vh_migration *,
	    size_t, char **err);
void	vh_migrate_plan_free(struct vh_migrate_plan *);
size_t	vh_migrate_plan_count(const struct vh_migrate_plan *);
int	vh_migrate_plan_version(const struct vh_migrate_plan *, size_t i);
const char *vh_migrate_plan_name(const struct vh_migrate_plan *, size_t i);
/* The highest version this plan knows, 0 when empty. */
int	vh_migrate_plan_latest(const struct vh_migrate_plan *);

/* Reports one migration applied by vh_migrate_apply. */
typedef void (*vh_migrate_cb)(int version, const char *name, void *arg);

/*
 * Applies pending migrations, each in its own transaction, under an
 * advisory lock so that concurrent callers apply each one once. Refuses
 * (VH_ECONFLICT) a database whose schema is newer than the plan. Blocking:
 * for startup and verhaalctl, never the event loop.
 */
int	vh_migrate_apply(PGconn *, const struct vh_migrate_plan *,
	    vh_migrate_cb, void *arg, char **err)
	    __attribute__((warn_unused_result));

/* Reports one migration for --status; applied_at is NULL when pending. */
typedef void (*vh_migrate_status_cb)(int version, const char *name,
	    const char *applied_at, void *arg);
int	vh_migrate_status(PGconn *, const struct vh_migrate_plan *,
	    vh_migrate_status_cb, void *arg, char **err)
	    __attribute__((warn_unused_result));

/*
 * Compares the database with the plan: 0 when current, VH_EAGAIN when
 * migrations are pending, VH_ECONFLICT when the database is newer, VH_EDB
 * when it cannot be asked. *err says which (caller frees).
 */
int	vh_migrate_check(PGconn *, const struct vh_migrate_plan *, char **err)
	    __attribute__((warn_unused_result));

#endif
