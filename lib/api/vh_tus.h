#ifndef VH_TUS_H
#define VH_TUS_H
/* tus 1.0.0 resumable uploads: the per-daemon state (which uploads have a
 * request in progress, each PATCH's locking connection). The handlers are
 * in vh_api_tus.c; the reaper of expired uploads is a periodic task of the
 * composition root (cmd/verhaald). Loop thread only. */

struct vh_tus;

struct vh_tus *vh_tus_new(void);
void	vh_tus_free(struct vh_tus *);
/* Closes the PATCH connections left idle since the last call (a few
 * stay); called once a reaper round. */
void	vh_tus_trim(struct vh_tus *);

#endif
