#ifndef VH_APP_H
#define VH_APP_H
/* The daemon's application object: configuration, worker pool, HTTP
 * server and route table, passed explicitly to every handler. */
#include <stdbool.h>

#include <event2/event.h>

#include "vh_config.h"
#include "vh_http.h"

struct vh_app;
struct vh_pool;
struct vh_migrate_plan;

/* cfg is copied in (the app owns its own). NULL with *err on failure. */
struct vh_app *vh_app_new(struct event_base *, const struct vh_config *,
	    char **err);
void	vh_app_free(struct vh_app *);

/* Listens; *port gets the bound port. */
int	vh_app_start(struct vh_app *, int *port, char **err)
	    __attribute__((warn_unused_result));
/* Starts the media runners (media_runners of them, maybe none). */
int	vh_app_start_jobs(struct vh_app *, char **err)
	    __attribute__((warn_unused_result));
/* Applies pending migrations in the background, retrying every few
 * seconds until the database answers (it was down at start). */
void	vh_app_migrate_later(struct vh_app *);
/* Takes over the reloadable keys of next (SIGHUP). */
void	vh_app_reload(struct vh_app *, const struct vh_config *next);
/* Drains in-flight requests, then calls done. */
void	vh_app_shutdown(struct vh_app *, void (*done)(void *), void *);

/* Accessors for handler modules; all borrowed. */
const struct vh_config *vh_app_config(const struct vh_app *);
struct vh_pool *vh_app_pool(const struct vh_app *);
const struct vh_migrate_plan *vh_app_plan(const struct vh_app *);
struct event_base *vh_app_base(const struct vh_app *);
struct vh_blobstore *vh_app_blobstore(const struct vh_app *);
struct vh_ratelimit *vh_app_ratelimit(const struct vh_app *);
struct vh_tus *vh_app_tus(const struct vh_app *);
struct vh_api_metrics *vh_app_metrics(const struct vh_app *);
/* Client connections open on the main port. */
int	vh_app_connections(const struct vh_app *);

#endif
