#ifndef VH_TUS_H
#define VH_TUS_H
/* tus 1.0.0 resumable uploads: the per-daemon state (which uploads have a
 * request in progress) and the reaper of expired uploads. The handlers are
 * in vh_api_tus.c. */

struct vh_app;
struct vh_tus;

struct vh_tus *vh_tus_new(struct vh_app *);
void	vh_tus_free(struct vh_tus *);

#endif
