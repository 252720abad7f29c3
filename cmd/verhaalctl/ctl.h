#ifndef CTL_H
#define CTL_H
/* verhaalctl's shared context: the loaded config and a lazily opened
 * database connection. Each command family lives in its own ctl_*.c. */
#include <stdbool.h>

#include <libpq-fe.h>

#include "vh_config.h"

struct ctl {
	struct vh_config	*cfg;
	PGconn			*db;
	bool			 db_found;	/* database_url came from the rule */
};

/* Fills an empty database_url by the rule in ctl_setup.c (make run's
 * private cluster); -1 with *why (caller frees) when there is none. */
int	ctl_find_database(struct ctl *, char **why);

/* The database connection, opened on first use; exits with a message
 * when it cannot connect. */
PGconn	*ctl_db(struct ctl *);
/* One statement on ctl_db; dies with the error. Caller PQclears. */
PGresult *ctl_query(struct ctl *, const char *sql, int n,
	    const char *const *params);

/* Prints "verhaalctl: message" to stderr and exits 1. */
void	ctl_die(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Records an audit row for a change made by this tool (the Unix user and
 * detail, which may be NULL, are its reason); exits when it cannot. */
void	ctl_audit_row(struct ctl *, const char *action, const char *object_type,
	    const char *id, const char *detail);

/* Commands: each returns the process's exit status. */
int	ctl_migrate(struct ctl *, int, char **);
int	ctl_token(struct ctl *, int, char **);
int	ctl_collection(struct ctl *, int, char **);
int	ctl_import_areas(struct ctl *, int, char **);
int	ctl_import_indicators(struct ctl *, int, char **);
int	ctl_user(struct ctl *, int, char **);
int	ctl_audit(struct ctl *, int, char **);
int	ctl_purge(struct ctl *, int, char **);
int	ctl_fsck(struct ctl *, int, char **);
int	ctl_backup(struct ctl *, int, char **);
int	ctl_restore(struct ctl *, int, char **);
int	ctl_db_url(struct ctl *, int, char **);
int	ctl_first_run(struct ctl *, int, char **);
int	ctl_demo(struct ctl *, int, char **);
int	ctl_odk(struct ctl *, int, char **);

#endif
