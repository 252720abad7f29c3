#ifndef VH_CTX_H
#define VH_CTX_H
/*
 * What a handler works with: a plain struct of borrowed pointers, filled
 * by the composition root (cmd/verhaald) and passed to every handler, so
 * that no module of lib/ reaches back up to the daemon that built it.
 *
 * The configuration is a snapshot (vh_config_ref): the root swaps cfg on
 * the loop thread when SIGHUP brings a new one. Code on the loop reads it
 * through vh_ctx_config, which is valid until control returns to the
 * loop; a job or a request that lives longer (a worker job, a PATCH that
 * spans many reads) takes its own reference and keeps that snapshot to
 * the end, so it sees one config whatever reloads happen meanwhile.
 */
#include <event2/event.h>

#include "vh_config.h"
#include "vh_thread.h"

struct vh_pool;
struct vh_blobstore;
struct vh_ratelimit;
struct vh_tus;
struct vh_api_metrics;
struct vh_migrate_plan;
struct vh_http_server;

struct vh_ctx {
	struct event_base		*base;
	struct vh_pool			*pool;
	struct vh_blobstore		*blobs;
	struct vh_ratelimit		*ratelimit;
	struct vh_tus			*tus;
	struct vh_api_metrics		*metrics;
	const struct vh_migrate_plan	*plan;
	/* The main listener (its open connections, for metrics); NULL
	 * when there is none, or once it is gone at shutdown. */
	struct vh_http_server		*http;
	/* The current snapshot; loop thread only (vh_ctx_config). */
	const struct vh_config		*cfg;
};

/* The current config snapshot, borrowed until control returns to the
 * loop; keep it longer with vh_config_ref. Loop thread only: a worker
 * reads the snapshot its job was given. */
static inline const struct vh_config *
vh_ctx_config(const struct vh_ctx *ctx)
{
	VH_ASSERT_LOOP();
	return (ctx->cfg);
}

#endif
