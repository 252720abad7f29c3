#ifndef VH_HTTP_H
#define VH_HTTP_H
/*
 * HTTP/1.1 server on libevent bufferevents. Request heads are bounded and
 * parsed in-tree (vh_httpparse); bodies are handed to the handler in pieces
 * as they arrive and never held whole. Every request gets exactly one
 * response call from its handler, even after its client went away.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#include "vh_httpparse.h"

struct vh_http_server;
struct vh_http_req;
struct vh_clientaddr;

struct vh_http_limits {
	int64_t	max_connections;
	int64_t	max_conns_per_addr;	/* per address, IPv6 per /64; 0: none */
	int64_t	max_header_size;	/* 431 past this */
	int64_t	max_uri_length;		/* 414 past this */
	int64_t	max_body;		/* 413 past this, unless a route says */
	int64_t	header_timeout_ms;	/* whole head must arrive in this; a
					 * new connection counts from accept */
	int64_t	idle_timeout_ms;	/* keep-alive idle */
	int64_t	body_timeout_ms;	/* no body byte for this long: 408 */
	int64_t	body_min_rate;		/* bytes/s averaged over 20 s windows */
	int64_t	shutdown_timeout_ms;
};

/* Called for every request once its head is parsed; it must end, now or
 * later, in exactly one vh_http_respond*() call. */
typedef void (*vh_http_dispatch_fn)(struct vh_http_req *, void *arg);

/*
 * Body callbacks: a piece of body (return < 0 to stop reading; the handler
 * then responds), the end of the body, and a body that ended early: the
 * client went away, or vh_http_req_error() names the status the body
 * earned (400 bad chunked coding, 408 too slow, 413 too large). Either
 * way the handler still owes its response (vh_http_respond_error).
 *
 * A handler may respond from inside any of its callbacks (dispatch,
 * on_body, on_end, on_abort): the server marks the request answered and
 * frees it, with its data, only once the callback has returned to it, so
 * neither the handler nor the server's parsers ever touch freed memory.
 * No callback runs for a request after its response.
 */
typedef int (*vh_http_body_fn)(struct vh_http_req *, const char *, size_t,
	    void *arg);
typedef void (*vh_http_end_fn)(struct vh_http_req *, void *arg);
typedef void (*vh_http_abort_fn)(struct vh_http_req *, void *arg);

struct vh_http_server *vh_http_server_new(struct event_base *,
	    const struct vh_http_limits *, vh_http_dispatch_fn, void *arg);
void	vh_http_server_free(struct vh_http_server *);
/* Binds and listens; *port gets the bound port (useful with port 0). */
int	vh_http_server_listen(struct vh_http_server *, const char *addr,
	    int port, int *bound, char **err) __attribute__((warn_unused_result));
/* Before listen: bind with SO_REUSEPORT, so that several processes that
 * all ask for it share one port and the kernel spreads new connections
 * over them (one event loop per core, memcached's and nginx's model). */
void	vh_http_server_reuseport(struct vh_http_server *, bool on);
/* Serves a connected socket as if just accepted from sa (borrowed);
 * takes the fd. The listener uses it; tests and fuzzers feed socketpairs. */
struct sockaddr;
void	vh_http_server_adopt(struct vh_http_server *, int fd,
	    const struct sockaddr *sa);
/* Replaces the limits (SIGHUP); open connections keep theirs. */
void	vh_http_server_set_limits(struct vh_http_server *,
	    const struct vh_http_limits *);
/* Stops accepting, closes idle connections and calls done once every
 * request in flight has finished or the shutdown timeout has passed. */
void	vh_http_server_drain(struct vh_http_server *,
	    void (*done)(void *), void *arg);
int	vh_http_server_nconns(const struct vh_http_server *);
/* Called as each request finishes (metrics): its status, response body
 * bytes and microseconds from its head to its answer. */
typedef void (*vh_http_observe_fn)(struct vh_http_req *, int status,
	    int64_t bytes_out, int64_t us, void *arg);
void	vh_http_server_observe(struct vh_http_server *, vh_http_observe_fn,
	    void *arg);
/* The proxies believed about X-Forwarded-For (borrowed; must outlive
 * every request, orphans included); NULL believes none. */
void	vh_http_server_trust(struct vh_http_server *,
	    const struct vh_clientaddr *);

/* The request: borrowed views into the parsed head. */
const struct vh_http_head *vh_http_req_head(const struct vh_http_req *);
enum vh_http_method vh_http_req_method(const struct vh_http_req *);
const char *vh_http_req_path(const struct vh_http_req *);	/* decoded */
const char *vh_http_req_query(const struct vh_http_req *);	/* raw or "" */
/* A header's value as a NUL-terminated copy owned by the request. */
const char *vh_http_req_header(struct vh_http_req *, const char *name);
const char *vh_http_req_id(const struct vh_http_req *);
const char *vh_http_req_peer(const struct vh_http_req *);	/* address */
/* The client's address: the peer, or what a trusted proxy forwarded
 * (vh_clientaddr). Rate limits, logins and logs key on this. */
const char *vh_http_req_client(struct vh_http_req *);
/* A number the observer may hang on the request (a route slot); 0. */
void	vh_http_req_set_route(struct vh_http_req *, int);
int	vh_http_req_route(const struct vh_http_req *);
enum vh_http_body_kind vh_http_req_body_kind(const struct vh_http_req *);
int64_t	vh_http_req_content_length(const struct vh_http_req *);	/* -1 */
/* Body bytes handed to the handler so far. */
int64_t	vh_http_req_body_read(const struct vh_http_req *);
bool	vh_http_req_gone(const struct vh_http_req *);	/* client lost */

/* Handler state hung on the request; free_fn runs when it is freed. */
void	vh_http_req_set_data(struct vh_http_req *, void *, void (*)(void *));
void	*vh_http_req_data(const struct vh_http_req *);
/* Extra text for the access-log line, e.g. "user=alice". */
void	vh_http_req_set_log(struct vh_http_req *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Starts reading the body: sends "100 Continue" when the client asked for
 * it, then feeds pieces to on_body and calls on_end at its end. A body
 * longer than max gets 413 without calling on_end.
 */
void	vh_http_req_read_body(struct vh_http_req *, int64_t max,
	    vh_http_body_fn, vh_http_end_fn, vh_http_abort_fn, void *arg);
/* Status a failed body earned (400, 408, 413), or 0. */
int	vh_http_req_error(const struct vh_http_req *);
/* Responds with the problem for vh_http_req_error(), or just releases a
 * request whose client is gone. */
void	vh_http_respond_error(struct vh_http_req *);
/*
 * Pauses or resumes delivery of body pieces (backpressure), loop only.
 * Paused (also from inside on_body), no body callback runs, on_end
 * included: bytes the chunked decoder had already decoded from the
 * current piece (at most 64 KiB) and an end reached meanwhile wait for
 * the resume, which delivers them before reading on; the body timeouts
 * stop while paused and start again at the resume. on_abort may still
 * run (the client went away). The resume may call on_body and on_end
 * before it returns.
 */
void	vh_http_req_pause(struct vh_http_req *, bool);
/* Closes the client's connection now: on_abort runs and the handler
 * still owes its response call (used when a newer request takes over). */
void	vh_http_req_close(struct vh_http_req *);

/* Response headers, added before a respond call. */
void	vh_http_add_header(struct vh_http_req *, const char *name,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The respond calls finish the request; body is copied. HEAD requests
 * get the headers of the body without the body. */
void	vh_http_respond(struct vh_http_req *, int status,
	    const char *content_type, const void *body, size_t len);
/* A fixed 500 problem for a reply that could not be built (headers added
 * so far are dropped); why goes to the log only. JSON replies are the api
 * layer's (vh_body_respond_json): http links no JSON library. */
void	vh_http_respond_internal(struct vh_http_req *, const char *why);
/* RFC 9457 problem details: type is a stable slug ("body-too-large").
 * The formatted detail may hold client bytes: bytes that are not UTF-8
 * and control characters are sent as %XX, and a long detail is cut at a
 * character boundary. If no reply can be built, a fixed 500 goes out. */
void	vh_http_respond_problem(struct vh_http_req *, int status,
	    const char *type, const char *detail, ...)
	    __attribute__((format(printf, 4, 5)));
/* Sends len bytes of fd from offset (sendfile); takes the fd. */
void	vh_http_respond_fd(struct vh_http_req *, int status,
	    const char *content_type, int fd, int64_t offset, int64_t len);

/*
 * Streamed responses, for bodies too large to hold whole. _begin sends
 * the head (chunked transfer coding on HTTP/1.1; on HTTP/1.0 the close
 * ends the body), _write queues one piece (copied), _end finishes the
 * request; with ok false the body is cut off and the connection closed,
 * so that no client takes a partial body for a whole one. Backpressure:
 * _queued is what waits for the client; fn runs once, after a call to
 * _on_drain, when that has fallen to low. A client that goes away is
 * seen through vh_http_req_gone() (fn then never runs); _begin and
 * _write return VH_EIO, and the handler still owes _end.
 */
int	vh_http_stream_begin(struct vh_http_req *, int status,
	    const char *content_type);
int	vh_http_stream_write(struct vh_http_req *, const void *, size_t);
size_t	vh_http_stream_queued(const struct vh_http_req *);
void	vh_http_stream_on_drain(struct vh_http_req *, size_t low,
	    void (*fn)(struct vh_http_req *, void *), void *arg);
void	vh_http_stream_end(struct vh_http_req *, bool ok);

const char *vh_http_reason(int status);

#endif
