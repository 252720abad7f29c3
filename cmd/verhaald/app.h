#ifndef APP_H
#define APP_H
/* verhaald's composition root (app.c): builds the worker pool, blob store,
 * HTTP servers, tus state, media runners and periodic tasks, and the
 * context every handler gets. Only cmd/verhaald (and the fuzz targets,
 * which run the real server in-process) use it. */
#include <stdbool.h>

#include <event2/event.h>

#include "vh_config.h"
#include "vh_http.h"

struct vh_app;
struct vh_ctx;

/* cfg is copied in (the app owns its own snapshot). NULL with *err on
 * failure. */
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
/* SIGHUP: a new snapshot with the reloadable keys of next (validated,
 * borrowed), swapped in; holders of the old one keep it. Loop thread. */
void	vh_app_reload(struct vh_app *, const struct vh_config *next);
/* Drains in-flight requests, then calls done. */
void	vh_app_shutdown(struct vh_app *, void (*done)(void *), void *);
/* The handlers' context (borrowed), for a server the caller makes with
 * vh_routes_dispatch (the fuzz targets). */
struct vh_ctx *vh_app_ctx(struct vh_app *);

#endif
