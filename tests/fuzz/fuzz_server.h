/*
 * The real HTTP server in-process for fuzz targets: one vh_app (its
 * config, worker pool, blob store, tus state) built once with a database
 * that cannot be reached, so every handler that needs the database
 * answers 503 from a real worker, while the server, its parsers and the
 * handlers' body callbacks run as in the daemon. Each input is written
 * into one end of a socketpair whose other end the server adopts as an
 * accepted connection from 127.0.0.1; the loop then runs until the server
 * has closed it. Every response that comes back is checked: a status
 * line, and for problem+json a body that parses as JSON with the same
 * status and a detail in UTF-8.
 */
#ifndef FUZZ_SERVER_H
#define FUZZ_SERVER_H

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "app.h"
#include "vh_config.h"
#include "vh_http.h"
#include "vh_log.h"
#include "vh_text.h"
#include "vh_utf8.h"

struct fuzz_server {
	struct event_base	*base;
	struct vh_app		*app;
	struct vh_http_server	*srv;	/* the app's own, for adopt */
	struct event		*tick;	/* ends a loop round */
};

static struct fuzz_server fz;
static char fz_dir[] = "/tmp/verhaal-fuzz-XXXXXX";

static int
fz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return (0);
}

/* The data directory (spool files, blobs) goes with the process. */
static void
fz_cleanup(void)
{
	nftw(fz_dir, fz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Every line is formatted and escaped (that is code under test too),
 * then dropped. */
static void
fz_sink(enum vh_log_level l, const char *line, void *arg)
{
	(void)l;
	(void)line;
	(void)arg;
}

/* The server behind the app: the app has no accessor for it, so the
 * fuzzer makes its own, dispatching with the app's handler context
 * (vh_app_ctx) into vh_routes_dispatch. */
static void fz_dispatch(struct vh_http_req *, void *);

static void
fz_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void
fz_init(const char *extra_config)
{
	struct vh_config	*cfg;
	struct vh_http_limits	 lim = { 0 };
	char			*err = NULL;
	char			*text;

	if (fz.base != NULL)
		return;
	vh_log_set_sink(fz_sink, NULL);
	vh_log_set_level(VH_LOG_DEBUG);
	if (mkdtemp(fz_dir) == NULL)
		abort();
	atexit(fz_cleanup);
	cfg = vh_config_new();
	/* A socket directory that does not exist: connects fail at once. */
	text = NULL;
	if (asprintf(&text, "database_url = host=/nonexistent/verhaal-fuzz "
	    "dbname=none connect_timeout=1\ndata_dir = %s/data\nworkers = 2\n"
	    "max_upload_size = 256k\nmax_header_size = 8k\n"
	    "max_uri_length = 4k\nresident_upload_rate = 1000000\n%s", fz_dir,
	    extra_config) < 0)
		abort();
	if (vh_config_load_string(cfg, "fuzz", text, &err) != 0) {
		fprintf(stderr, "fuzz config: %s\n", err);
		abort();
	}
	free(text);
	fz.base = event_base_new();
	if ((fz.app = vh_app_new(fz.base, cfg, &err)) == NULL) {
		fprintf(stderr, "fuzz app: %s\n", err);
		abort();
	}
	lim.max_connections = 16;
	lim.max_conns_per_addr = 0;
	lim.max_header_size = cfg->max_header_size;
	lim.max_uri_length = cfg->max_uri_length;
	lim.max_body = cfg->max_upload_size;
	lim.header_timeout_ms = 2000;
	lim.idle_timeout_ms = 2000;
	lim.body_timeout_ms = 2000;
	lim.body_min_rate = 0;
	lim.shutdown_timeout_ms = 1000;
	fz.srv = vh_http_server_new(fz.base, &lim, fz_dispatch,
	    vh_app_ctx(fz.app));
	/* One timer for every round: event_base_loopexit would allocate one
	 * per round, and an input that leaves allocations behind makes
	 * libFuzzer run a leak check after it. */
	fz.tick = evtimer_new(fz.base, fz_tick, fz.base);
	vh_config_free(cfg);
}

/* Checks one answer from the byte stream; returns its length or 0 if the
 * rest is not a whole answer (the server closed mid-way: allowed only
 * where it never started one). */
static size_t
fz_check_response(const char *p, size_t len)
{
	const char	*end, *cl, *ct;
	char		*body, *line;
	size_t		 hlen, blen = 0;
	int		 status;
	json_t		*j;
	json_error_t	 jerr;

	if ((end = memmem(p, len, "\r\n\r\n", 4)) == NULL)
		return (0);
	hlen = (size_t)(end - p) + 4;
	line = strndup(p, hlen);
	if (sscanf(line, "HTTP/1.1 %3d ", &status) != 1 || status < 100 ||
	    status > 599)
		abort();
	if (status < 200) {
		free(line);
		return (hlen);
	}
	if ((cl = strcasestr(line, "\r\nContent-Length: ")) != NULL)
		blen = strtoul(cl + 18, NULL, 10);
	ct = strcasestr(line, "\r\nContent-Type: application/problem+json");
	/* An answer to HEAD has the headers of a body but none: the next
	 * answer, or nothing, follows at once. */
	if (blen > 0 && (hlen == len || (len - hlen >= 9 &&
	    memcmp(p + hlen, "HTTP/1.1 ", 9) == 0))) {
		free(line);
		return (hlen);
	}
	if (hlen + blen > len) {
		free(line);
		return (0);
	}
	if (ct != NULL && strncmp(line, "HTTP/1.1 ", 9) == 0 &&
	    strstr(line, "\r\n\r\n") != NULL && blen > 0) {
		body = strndup(p + hlen, blen);
		if (vh_utf8_valid((const unsigned char *)body, blen) != blen)
			abort();
		if ((j = json_loadb(body, blen, 0, &jerr)) == NULL)
			abort();
		if (json_integer_value(json_object_get(j, "status")) != status ||
		    !json_is_string(json_object_get(j, "detail")) ||
		    !json_is_string(json_object_get(j, "type")))
			abort();
		json_decref(j);
		free(body);
	}
	free(line);
	return (hlen + blen);
}

struct fz_run {
	int		 fd;		/* the client's end */
	const uint8_t	*in;
	size_t		 len, off;
	uint32_t	 seed;		/* write sizes; 0: all at once */
	char		*out;
	size_t		 outlen, outsize;
	bool		 eof, shut;
};

static void
fz_pump(struct fz_run *r)
{
	ssize_t	 n;
	size_t	 want;

	while (r->off < r->len) {
		want = r->len - r->off;
		if (r->seed != 0 && want > 1) {
			r->seed = r->seed * 1103515245 + 12345;
			want = 1 + (r->seed >> 16) % want;
		}
		n = send(r->fd, r->in + r->off, want, MSG_DONTWAIT |
		    MSG_NOSIGNAL);
		if (n <= 0)
			break;
		r->off += (size_t)n;
		if (r->seed != 0)
			break;		/* let the server see this piece */
	}
	if (r->off == r->len && !r->shut) {
		shutdown(r->fd, SHUT_WR);
		r->shut = true;
	}
	for (;;) {
		if (r->outlen + 65536 > r->outsize) {
			r->outsize = r->outsize * 2 + 65536;
			if ((r->out = realloc(r->out, r->outsize)) == NULL)
				abort();
		}
		n = recv(r->fd, r->out + r->outlen, r->outsize - r->outlen,
		    MSG_DONTWAIT);
		if (n == 0)
			r->eof = true;
		if (n <= 0)
			break;
		r->outlen += (size_t)n;
	}
}

/* Serves one connection carrying data; checks every answer. */
static void
fz_serve(const uint8_t *data, size_t size, uint32_t seed)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	/* The answer buffer outlives the run: a fresh 64 KiB each time would
	 * cost more in page faults than the request itself. */
	static char		*out;
	static size_t		 outsize;
	struct fz_run		 r = { .in = data, .len = size, .seed = seed,
				       .out = out, .outsize = outsize };
	struct event		*peer;
	int			 sv[2], spins = 0;
	size_t			 at = 0, n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r.fd = sv[1];
	vh_http_server_adopt(fz.srv, sv[0], (struct sockaddr *)&sin);
	/* The client's end wakes the loop when the server answers, so a
	 * round blocks only while a worker is busy, never for a fixed time. */
	if ((peer = event_new(fz.base, sv[1], EV_READ, fz_tick,
	    fz.base)) == NULL)
		abort();
	/* Until the server closes the connection. While a piece went out the
	 * loop only runs what is ready: the next piece is what it waits for;
	 * otherwise it blocks until the server answers, reads or a worker
	 * reports (2 ms at most, then a new round). */
	while (!r.eof && spins++ < 20000) {
		struct timeval	 tv = { 0, 2000 };
		size_t		 sent = r.off;

		fz_pump(&r);
		if (r.eof)
			break;
		if (r.off < r.len && r.off != sent) {
			event_base_loop(fz.base, EVLOOP_NONBLOCK);
			continue;
		}
		event_add(peer, NULL);
		evtimer_add(fz.tick, &tv);
		event_base_loop(fz.base, EVLOOP_ONCE);
		evtimer_del(fz.tick);
		event_del(peer);
	}
	event_free(peer);
	if (!r.eof)
		abort();		/* the server never closed: a hang */
	/* libevent frees a closed bufferevent in a later round; run it now,
	 * or every input would seem to leak and get a leak check. */
	for (int i = 0; i < 3; i++)
		event_base_loop(fz.base, EVLOOP_NONBLOCK);
	while (at < r.outlen && (n = fz_check_response(r.out + at,
	    r.outlen - at)) > 0)
		at += n;
	close(sv[1]);
	out = r.out;
	outsize = r.outsize;
}

#endif
