/*
 * The HTTP/1.1 server. One bufferevent per connection, driven by a small
 * state machine:
 *
 *   HEAD      reading a request head (bounded by max_header_size)
 *   DISPATCH  the handler has the request; reading is off until it asks
 *             for the body or responds
 *   BODY      body pieces go straight from the input buffer to the handler
 *   WAIT      the body is in; the handler has not responded yet
 *   WRITING   the response is queued; when it has drained the connection
 *             reads the next (pipelined) head or closes
 *   STREAM    a streamed response (vh_http_stream_*): the handler adds
 *             pieces as the client takes them, then ends it (WRITING)
 *
 * A request object outlives its connection when the client goes away
 * while the handler still works (say, an fsync on the worker pool): it is
 * then an orphan, and the handler's single response call frees it. One
 * timer per connection enforces the head deadline, the idle keep-alive
 * limit and the body's minimum rate, so a client sending a byte a second
 * cannot hold a connection; a new connection must send its first head
 * within the head deadline counted from accept, and one address (an IPv6
 * /64) may hold only so many connections.
 *
 * Handlers may respond from inside the callbacks the server makes into
 * them. Every such call runs between a hold and a release of the request
 * (and the server's loops hold the connection too): a response only marks
 * the request answered, and the last release frees it. So the chunked
 * decoder, the body loop and the handler's own state stay valid until
 * control is back in the server.
 */
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "vh_thread.h"
#include "vh_unused.h"
#include "vh_time.h"
#include "vh_clientaddr.h"
#include "vh_error.h"
#include "vh_http.h"
#include "vh_log.h"
#include "vh_text.h"
#include "vh_utf8.h"
#include "vh_xmalloc.h"

#define RATE_WINDOW_MS	20000
#define READ_CHUNK	(64 * 1024)

enum conn_state { C_HEAD, C_DISPATCH, C_BODY, C_WAIT, C_WRITING, C_LINGER,
	C_DEAD, C_STREAM };

/* Connections per client address: IPv4 by address, IPv6 by /64. */
#define PEER_BUCKETS	1024
#define PEER_KEYLEN	9

struct peer {
	struct peer	*next;
	unsigned char	 key[PEER_KEYLEN];
	int64_t		 n;
};

/* Longest problem detail, in bytes of UTF-8. */
#define DETAIL_MAX	512

/* After an answer that left a body unread, the rest is read and dropped
 * for a while before the close, so that the client sees the answer
 * instead of a reset (a close with unread data sends RST). */
#define LINGER_MS	2000
#define LINGER_BYTES	(8 * 1024 * 1024)

struct conn {
	struct vh_http_server	*srv;
	struct bufferevent	*bev;
	struct event		*timer;
	char			 peer[64];
	enum conn_state		 state;
	struct vh_http_req	*req;
	struct vh_http_limits	 lim;
	bool			 head_started;	/* some bytes of a head are in */
	bool			 fresh;		/* no head yet on this connection */
	bool			 dead;		/* freed while held: freed at release */
	int			 holds;
	struct peer		*peerent;
	bool			 close_after;
	bool			 linger;	/* body left unread */
	int64_t			 lingered;
	int64_t			 deadline_ms;	/* head deadline */
	int64_t			 last_byte_ms;	/* body progress */
	int64_t			 window_start_ms, window_bytes;
	TAILQ_ENTRY(conn)	 entry;
};

struct vh_http_req {
	struct conn		*conn;		/* NULL once orphaned */
	struct vh_http_server	*srv;
	char			*headbuf;
	struct vh_http_head	 head;
	bool			 parsed;
	char			*path, *query;
	char			*hcopy[VH_HTTP_MAX_HEADERS];
	char			 id[72];
	char			 peer[64];
	enum vh_http_body_kind	 body_kind;
	int64_t			 content_length, body_read, body_max;
	struct vh_chunked	*chunked;
	bool			 expect_continue, body_started, body_done;
	bool			 body_stopped;	/* on_body said stop */
	bool			 paused, keepalive;
	/* Paused inside on_body: what the chunked decoder still handed
	 * over from the same piece (at most READ_CHUNK bytes), and an end
	 * reached meanwhile; delivered on resume. */
	struct evbuffer		*held;
	bool			 end_held;
	bool			 answered;	/* responded; freed at last release */
	int			 holds;
	int			 error;
	vh_http_body_fn		 on_body;
	vh_http_end_fn		 on_end;
	vh_http_abort_fn	 on_abort;
	void			*cb_arg;
	void			*data;
	void			(*data_free)(void *);
	struct evbuffer		*headers;
	char			*logextra;
	struct timespec		 start;
	/* Copied from the server: an orphan may outlive it. */
	vh_http_observe_fn	 observe;
	void			*observe_arg;
	const struct vh_clientaddr *trust;
	char			 client[64];	/* "" until asked */
	int			 route;		/* the observer's tag */
	/* A streamed response (vh_http_stream_*). */
	bool			 streaming, stream_chunked;
	int			 stream_status;
	int64_t			 stream_len;
	struct evbuffer_cb_entry *stream_cb;
	size_t			 drain_low;
	void			(*drain_fn)(struct vh_http_req *, void *);
	void			*drain_arg;
};

struct vh_http_server {
	struct event_base	*base;
	struct evconnlistener	*listener;
	struct vh_http_limits	 lim;
	vh_http_dispatch_fn	 dispatch;
	void			*arg;
	TAILQ_HEAD(, conn)	 conns;
	int			 nconns;
	uint64_t		 id_prefix, id_counter;
	bool			 reuseport;	/* SO_REUSEPORT on the listener */
	bool			 draining;
	void			(*drained)(void *);
	void			*drained_arg;
	struct event		*drain_timer;
	struct peer		*peers[PEER_BUCKETS];
	int64_t			 refuse_log_ms;	/* refusals are logged once a second */
	int64_t			 refused_quiet;
	vh_http_observe_fn	 observe;
	void			*observe_arg;
	const struct vh_clientaddr *trust;
};

static void	conn_free(struct conn *);
static void	conn_read_head(struct conn *);
static void	conn_feed_body(struct conn *);
static void	body_failed(struct vh_http_req *, int status);
static void	req_free(struct vh_http_req *);

static void
timer_in(struct conn *c, int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
}

/*
 * Holds: a request or connection held by the server while it calls into a
 * handler is not freed by what the handler does meanwhile; the release
 * frees it if it was answered (a request) or closed (a connection).
 */
static void
req_hold(struct vh_http_req *r)
{
	r->holds++;
}

static void
req_release(struct vh_http_req *r)
{
	if (--r->holds == 0 && r->answered)
		req_free(r);
}

static void
conn_hold(struct conn *c)
{
	c->holds++;
}

static void conn_destroy(struct conn *);

static void
conn_release(struct conn *c)
{
	if (--c->holds == 0 && c->dead)
		conn_destroy(c);
}

/* The handler callbacks, each between a hold and a release. */
static void
call_dispatch(struct vh_http_server *srv, struct vh_http_req *r)
{
	req_hold(r);
	srv->dispatch(r, srv->arg);
	req_release(r);
}

static int
call_body(struct vh_http_req *r, const char *data, size_t len)
{
	int rc;

	req_hold(r);
	rc = r->on_body(r, data, len, r->cb_arg);
	req_release(r);
	return (rc);
}

static void
call_end(struct vh_http_req *r)
{
	req_hold(r);
	r->on_end(r, r->cb_arg);
	req_release(r);
}

static void
call_abort(struct vh_http_req *r)
{
	req_hold(r);
	if (r->on_abort != NULL)
		r->on_abort(r, r->cb_arg);
	else
		vh_http_respond_error(r);
	req_release(r);
}

const char *
vh_http_reason(int status)
{
	switch (status) {
	case 100: return ("Continue");
	case 200: return ("OK");
	case 201: return ("Created");
	case 204: return ("No Content");
	case 206: return ("Partial Content");
	case 304: return ("Not Modified");
	case 400: return ("Bad Request");
	case 401: return ("Unauthorized");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 408: return ("Request Timeout");
	case 409: return ("Conflict");
	case 410: return ("Gone");
	case 411: return ("Length Required");
	case 412: return ("Precondition Failed");
	case 413: return ("Content Too Large");
	case 414: return ("URI Too Long");
	case 415: return ("Unsupported Media Type");
	case 416: return ("Range Not Satisfiable");
	case 417: return ("Expectation Failed");
	case 422: return ("Unprocessable Content");
	case 423: return ("Locked");
	case 429: return ("Too Many Requests");
	case 431: return ("Request Header Fields Too Large");
	case 460: return ("Checksum Mismatch");
	case 500: return ("Internal Server Error");
	case 501: return ("Not Implemented");
	case 503: return ("Service Unavailable");
	case 505: return ("HTTP Version Not Supported");
	case 507: return ("Insufficient Storage");
	}
	return ("Unknown");
}

/* Requests */

static struct vh_http_req *
req_new(struct conn *c)
{
	struct vh_http_req	*r;
	struct vh_http_server	*srv = c->srv;

	r = vh_xcalloc(1, sizeof *r);
	r->conn = c;
	r->srv = srv;
	r->content_length = -1;
	r->headers = evbuffer_new();
	snprintf(r->id, sizeof r->id, "%08" PRIx64 "%08" PRIx64,
	    srv->id_prefix & 0xffffffff, ++srv->id_counter);
	snprintf(r->peer, sizeof r->peer, "%s", c->peer);
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->observe = srv->observe;
	r->observe_arg = srv->observe_arg;
	r->trust = srv->trust;
	c->req = r;
	return (r);
}

static void
req_free(struct vh_http_req *r)
{
	if (r->data_free != NULL)
		r->data_free(r->data);
	for (size_t i = 0; i < VH_HTTP_MAX_HEADERS; i++)
		free(r->hcopy[i]);
	vh_chunked_free(r->chunked);
	if (r->held != NULL)
		evbuffer_free(r->held);
	evbuffer_free(r->headers);
	free(r->headbuf);
	free(r->path);
	free(r->query);
	free(r->logextra);
	free(r);
}

const struct vh_http_head *
vh_http_req_head(const struct vh_http_req *r)
{
	return (&r->head);
}

enum vh_http_method
vh_http_req_method(const struct vh_http_req *r)
{
	return (r->head.method);
}

const char *
vh_http_req_path(const struct vh_http_req *r)
{
	return (r->path != NULL ? r->path : "");
}

const char *
vh_http_req_query(const struct vh_http_req *r)
{
	return (r->query != NULL ? r->query : "");
}

const char *
vh_http_req_header(struct vh_http_req *r, const char *name)
{
	const struct vh_http_header *h;
	size_t i;

	if (!r->parsed || (h = vh_http_head_find(&r->head, name)) == NULL)
		return (NULL);
	i = (size_t)(h - r->head.headers);
	if (r->hcopy[i] == NULL)
		r->hcopy[i] = vh_xstrndup(h->value, h->value_len);
	return (r->hcopy[i]);
}

const char *
vh_http_req_id(const struct vh_http_req *r)
{
	return (r->id);
}

const char *
vh_http_req_peer(const struct vh_http_req *r)
{
	return (r->peer);
}

enum vh_http_body_kind
vh_http_req_body_kind(const struct vh_http_req *r)
{
	return (r->body_kind);
}

int64_t
vh_http_req_content_length(const struct vh_http_req *r)
{
	return (r->content_length);
}

int64_t
vh_http_req_body_read(const struct vh_http_req *r)
{
	return (r->body_read);
}

bool
vh_http_req_gone(const struct vh_http_req *r)
{
	return (r->conn == NULL);
}

int
vh_http_req_error(const struct vh_http_req *r)
{
	return (r->error);
}

void
vh_http_req_set_data(struct vh_http_req *r, void *data, void (*fn)(void *))
{
	r->data = data;
	r->data_free = fn;
}

void *
vh_http_req_data(const struct vh_http_req *r)
{
	return (r->data);
}

void
vh_http_req_set_log(struct vh_http_req *r, const char *fmt, ...)
{
	va_list	ap;

	free(r->logextra);
	va_start(ap, fmt);
	r->logextra = vh_xvasprintf(fmt, ap);
	va_end(ap);
}

void
vh_http_add_header(struct vh_http_req *r, const char *name,
    const char *fmt, ...)
{
	va_list	ap;

	VH_ASSERT_LOOP();
	evbuffer_add_printf(r->headers, "%s: ", name);
	va_start(ap, fmt);
	evbuffer_add_vprintf(r->headers, fmt, ap);
	va_end(ap);
	evbuffer_add(r->headers, "\r\n", 2);
}

/* Responses */

/*
 * The path as the access log shows it. An upload's id is its capability
 * (whoever knows it may append to the upload), so it never reaches a log;
 * nor does an ODK token in a path.
 */
static void
log_target(const char *path, char *buf, size_t size)
{
	static const char uploads[] = "/api/v1/uploads/";

	static const char odk[] = "/odk/key/";
	const char *rest;

	if (strncmp(path, uploads, sizeof uploads - 1) == 0 &&
	    path[sizeof uploads - 1] != '\0')
		snprintf(buf, size, "%s<redacted>", uploads);
	else if (strncmp(path, odk, sizeof odk - 1) == 0) {
		/* An ODK token in the path is a field worker's credential. */
		rest = strchr(path + sizeof odk - 1, '/');
		snprintf(buf, size, "%s<redacted>%s", odk, rest != NULL ? rest : "");
	}
	else
		snprintf(buf, size, "%s", path);
}

static void
access_log(struct vh_http_req *r, int status, int64_t len, bool gone)
{
	struct timespec	now;
	int64_t		ms;
	char		method[16] = "-", target[256] = "-";

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - r->start.tv_sec) * 1000 +
	    (now.tv_nsec - r->start.tv_nsec) / 1000000;
	if (r->parsed) {
		snprintf(method, sizeof method, "%.*s",
		    (int)r->head.method_len, r->head.method_str);
		/* Never log a query string: upload links carry secrets. The
		 * log sink escapes control bytes, so a decoded CR or LF in
		 * the path cannot start a forged line. */
		log_target(vh_http_req_path(r), target, sizeof target);
	}
	vh_log_info("req=%s %s \"%s %s\" %d %" PRId64 " in=%" PRId64 " %"
	    PRId64 "ms%s%s%s", r->id, vh_http_req_client(r), method, target,
	    status, len, r->body_read, ms, gone ? " client-gone" : "",
	    r->logextra != NULL ? " " : "",
	    r->logextra != NULL ? r->logextra : "");
}

/* Starts a response head on c: whether the connection closes after it
 * (an unread body cannot be skipped safely without reading it), then the
 * status line and the headers every response carries. */
static struct evbuffer *
head_open(struct vh_http_req *r, struct conn *c, int status)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	char		 date[64];
	time_t		 t = time(NULL);
	struct tm	 tm;

	if (r->body_kind != VH_BODY_NONE && !r->body_done &&
	    !(r->body_kind == VH_BODY_LENGTH && r->content_length == 0))
		c->close_after = c->linger = true;
	if (!r->keepalive || c->srv->draining)
		c->close_after = true;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n"
	    "Server: verhaal\r\nX-Request-Id: %s\r\n"
	    "X-Content-Type-Options: nosniff\r\n", status,
	    vh_http_reason(status), date, r->id);
	return (out);
}

/* Ends the head begun by head_open with the handler's own headers. */
static void
head_close(struct vh_http_req *r, struct conn *c, struct evbuffer *out,
    const char *ctype)
{
	if (ctype != NULL)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
	if (c->close_after)
		evbuffer_add_printf(out, "Connection: close\r\n");
	evbuffer_add_buffer(out, r->headers);
	evbuffer_add(out, "\r\n", 2);
}

/* Queues status line and headers; the connection then owns the write. */
static struct conn *
begin_response(struct vh_http_req *r, int status, const char *ctype,
    int64_t len)
{
	struct conn	*c = r->conn;
	struct evbuffer	*out;

	if (c == NULL)
		return (NULL);
	c->req = NULL;
	r->conn = NULL;
	out = head_open(r, c, status);
	if (status != 304 && status != 204)
		evbuffer_add_printf(out, "Content-Length: %" PRId64 "\r\n", len);
	head_close(r, c, out, ctype);

	c->state = C_WRITING;
	evtimer_del(c->timer);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
	return (c);
}

/* Ends the request: freed now, or at the release if the server holds it. */
static void
finish(struct vh_http_req *r, struct conn *c, int status, int64_t len)
{
	struct timespec	now;

	access_log(r, status, len, c == NULL);
	if (r->observe != NULL) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		r->observe(r, status, len, (now.tv_sec - r->start.tv_sec) *
		    1000000 + (now.tv_nsec - r->start.tv_nsec) / 1000,
		    r->observe_arg);
	}
	r->answered = true;
	if (r->holds == 0)
		req_free(r);
}

/* A handler bug; a request is answered once, and this one was. */
static bool
answered_twice(struct vh_http_req *r)
{
	/* Every respond call passes here: requests are the loop's alone. */
	VH_ASSERT_LOOP();
	if (!r->answered)
		return (false);
	vh_log_error("req=%s a second response to one request was dropped",
	    r->id);
	return (true);
}

/* No reply could be built: a fixed 500 instead of none or a crash. */
void
vh_http_respond_internal(struct vh_http_req *r, const char *why)
{
	static const char body[] = "{\"type\":\"/problems/internal\","
	    "\"title\":\"Internal Server Error\",\"status\":500,"
	    "\"detail\":\"the server could not build its reply\"}";

	vh_log_error("req=%s cannot build a reply: %s", r->id, why);
	evbuffer_drain(r->headers, evbuffer_get_length(r->headers));
	vh_http_respond(r, 500, "application/problem+json", body,
	    sizeof body - 1);
}

void
vh_http_respond(struct vh_http_req *r, int status, const char *ctype,
    const void *body, size_t len)
{
	struct conn *c;

	if (answered_twice(r))
		return;
	if ((c = begin_response(r, status, ctype, (int64_t)len)) != NULL &&
	    r->head.method != VH_HTTP_HEAD && len > 0)
		evbuffer_add(bufferevent_get_output(c->bev), body, len);
	finish(r, c, status, (int64_t)len);
}

/* Length of the valid UTF-8 sequence of two to four bytes at s, or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;

	if (n > len || vh_utf8_valid(s, n) != n)
		return (0);
	return (n);
}

/*
 * A detail fit to send: UTF-8 and printable characters as they are, any
 * other byte as %XX (as in a URL, which is where most of them come from),
 * at most max bytes, cut between characters and marked "...".
 */
static char *
safe_detail(const char *in, size_t max)
{
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 len = strlen(in), i = 0, o = 0, n, tn;
	char			*out = vh_xmalloc(max + 4), tmp[5];

	while (i < len) {
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			tmp[0] = (char)s[i];
			tn = n = 1;
		} else if (s[i] >= 0x80 && (n = utf8_seq(s + i, len - i)) > 0) {
			memcpy(tmp, s + i, n);
			tn = n;
		} else {
			snprintf(tmp, sizeof tmp, "%%%02X", s[i]);
			tn = 3;
			n = 1;
		}
		if (o + tn > max) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, tmp, tn);
		o += tn;
		i += n;
	}
	out[o] = '\0';
	return (out);
}

/*
 * Appends s as a JSON string, escaped as jansson's JSON_ENSURE_ASCII would
 * (so replies read the same as before http stopped linking JSON): '"', '\\'
 * and control characters escaped, anything past ASCII as \uXXXX (a
 * surrogate pair above U+FFFF). s is valid UTF-8 (safe_detail made it so).
 */
static void
json_string(struct evbuffer *b, const char *in)
{
	const unsigned char	*s = (const unsigned char *)in;
	uint32_t		 cp;
	size_t			 n;

	evbuffer_add(b, "\"", 1);
	for (size_t i = 0; s[i] != '\0'; i += n) {
		n = 1;
		switch (s[i]) {
		case '"': evbuffer_add(b, "\\\"", 2); continue;
		case '\\': evbuffer_add(b, "\\\\", 2); continue;
		case '\b': evbuffer_add(b, "\\b", 2); continue;
		case '\f': evbuffer_add(b, "\\f", 2); continue;
		case '\n': evbuffer_add(b, "\\n", 2); continue;
		case '\r': evbuffer_add(b, "\\r", 2); continue;
		case '\t': evbuffer_add(b, "\\t", 2); continue;
		}
		if (s[i] < 0x20) {
			evbuffer_add_printf(b, "\\u%04X", s[i]);
			continue;
		}
		if (s[i] < 0x80) {
			evbuffer_add(b, s + i, 1);
			continue;
		}
		n = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : 2;
		cp = s[i] & (0x3f >> (n - 1));
		for (size_t k = 1; k < n && s[i + k] != '\0'; k++)
			cp = cp << 6 | (s[i + k] & 0x3f);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			evbuffer_add_printf(b, "\\u%04X\\u%04X",
			    0xd800 | (cp >> 10), 0xdc00 | (cp & 0x3ff));
		} else
			evbuffer_add_printf(b, "\\u%04X", cp);
	}
	evbuffer_add(b, "\"", 1);
}

void
vh_http_respond_problem(struct vh_http_req *r, int status, const char *type,
    const char *fmt, ...)
{
	va_list		 ap;
	char		*raw, *detail, *slug = NULL;
	struct evbuffer	*b;

	if (answered_twice(r))
		return;
	va_start(ap, fmt);
	raw = vh_xvasprintf(fmt, ap);
	va_end(ap);
	detail = safe_detail(raw, DETAIL_MAX);
	/* Every 503 is an outage the client should wait out, not a refusal:
	 * it says when to come back unless the handler said so already. */
	if (status == 503 && evbuffer_search(r->headers, "Retry-After:", 12,
	    NULL).pos == -1)
		vh_http_add_header(r, "Retry-After", "5");
	/* The problem object is built by hand: http speaks no JSON library
	 * (docs/architecture.md); type and title are ours and plain ASCII. */
	if ((b = evbuffer_new()) == NULL) {
		vh_http_respond_internal(r, "problem details");
		goto out;
	}
	slug = vh_xasprintf("/problems/%s", type);
	evbuffer_add(b, "{\"type\":", 8);
	json_string(b, slug);
	evbuffer_add(b, ",\"title\":", 9);
	json_string(b, vh_http_reason(status));
	evbuffer_add_printf(b, ",\"status\":%d,\"detail\":", status);
	json_string(b, detail);
	evbuffer_add(b, ",\"request_id\":", 14);
	json_string(b, r->id);
	evbuffer_add(b, "}", 1);
	vh_http_respond(r, status, "application/problem+json",
	    evbuffer_pullup(b, -1), evbuffer_get_length(b));
	evbuffer_free(b);
out:
	free(slug);
	free(detail);
	free(raw);
}

void
vh_http_respond_fd(struct vh_http_req *r, int status, const char *ctype,
    int fd, int64_t offset, int64_t len)
{
	struct conn *c;

	if (answered_twice(r)) {
		close(fd);
		return;
	}
	if ((c = begin_response(r, status, ctype, len)) != NULL &&
	    r->head.method != VH_HTTP_HEAD && len > 0) {
		/* evbuffer_add_file takes the fd and uses sendfile. */
		if (evbuffer_add_file(bufferevent_get_output(c->bev), fd,
		    offset, len) != 0) {
			close(fd);
			c->close_after = true;
		}
	} else
		close(fd);
	finish(r, c, status, len);
}

void
vh_http_respond_error(struct vh_http_req *r)
{
	switch (r->error) {
	case 408:
		vh_http_respond_problem(r, 408, "body-timeout",
		    "the request body arrived too slowly");
		break;
	case 413:
		vh_http_respond_problem(r, 413, "body-too-large",
		    "the request body is larger than %" PRId64 " bytes",
		    r->body_max);
		break;
	case 400:
		vh_http_respond_problem(r, 400, "bad-chunked-coding",
		    "the chunked transfer coding of the body is malformed");
		break;
	default:
		vh_http_respond_problem(r, r->error != 0 ? r->error : 400,
		    "body-failed", "the request body was not received");
		break;
	}
}

/* Bodies */

static void
body_failed(struct vh_http_req *r, int status)
{
	struct conn *c = r->conn;

	r->error = status;
	if (c != NULL) {
		c->close_after = true;
		c->state = C_WAIT;
		evtimer_del(c->timer);
		bufferevent_disable(c->bev, EV_READ);
	}
	call_abort(r);
}

static void
body_complete(struct vh_http_req *r)
{
	struct conn *c = r->conn;

	r->body_done = true;
	c->state = C_WAIT;
	evtimer_del(c->timer);
	bufferevent_disable(c->bev, EV_READ);
	call_end(r);
}

/*
 * The handler refused a body piece. It may have responded already (then
 * r is gone and the connection is writing); otherwise it will.
 */
static void
body_stopped(struct conn *c, struct vh_http_req *r)
{
	if (c->req != r)
		return;
	r->body_stopped = true;
	c->close_after = true;
	c->state = C_WAIT;
	evtimer_del(c->timer);
	bufferevent_disable(c->bev, EV_READ);
}

static int
chunk_data(void *arg, const char *data, size_t len)
{
	struct vh_http_req *r = arg;

	if (r->body_read + (int64_t)len > r->body_max)
		return (VH_ETOOBIG);
	r->body_read += (int64_t)len;
	if (r->paused) {
		/* No callback while paused: kept for the resume. */
		if (r->held == NULL)
			r->held = evbuffer_new();
		if (r->held == NULL || evbuffer_add(r->held, data, len) != 0)
			vh_fatal("http: out of memory for a paused body");
		return (0);
	}
	/* Answered or closed inside on_body: the decoder stops here. */
	if (call_body(r, data, len) < 0 || r->conn == NULL)
		return (VH_ECONFLICT);
	return (0);
}

/*
 * Moves buffered body bytes to the handler. Returns when the input is
 * empty, the body is complete, delivery is paused or the request failed.
 */
static void
feed_body(struct conn *c, struct vh_http_req *r)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 v;
	ssize_t			 used;
	size_t			 n;
	int			 rc;
	bool			 done = false;

	while (c->state == C_BODY && !r->paused &&
	    evbuffer_get_length(in) > 0) {
		if (evbuffer_peek(in, READ_CHUNK, NULL, &v, 1) < 1)
			break;
		n = v.iov_len < READ_CHUNK ? v.iov_len : READ_CHUNK;
		if (r->body_kind == VH_BODY_LENGTH) {
			if ((int64_t)n > r->content_length - r->body_read)
				n = (size_t)(r->content_length - r->body_read);
			r->body_read += (int64_t)n;
			rc = call_body(r, v.iov_base, n);
			evbuffer_drain(in, n);
			/* Answered, or the connection closed, inside on_body. */
			if (c->req != r)
				return;
			if (rc < 0) {
				body_stopped(c, r);
				return;
			}
			if (r->body_read == r->content_length) {
				if (r->paused)
					r->end_held = true;	/* on resume */
				else
					body_complete(r);
				return;
			}
			continue;
		}
		used = vh_chunked_feed(r->chunked, v.iov_base, n, chunk_data, r,
		    &done);
		if (c->req != r)
			return;
		if (used == VH_ECONFLICT) {		/* the handler stopped */
			body_stopped(c, r);
			return;
		}
		if (used < 0) {
			body_failed(r, used == VH_ETOOBIG ? 413 : 400);
			return;
		}
		evbuffer_drain(in, (size_t)used);
		if (done) {
			if (r->paused)
				r->end_held = true;	/* on resume */
			else
				body_complete(r);
			return;
		}
	}
}

/* Feeds the body with the request and the connection held: whatever the
 * handler does in its callbacks, both outlive the loop above. */
static void
conn_feed_body(struct conn *c)
{
	struct vh_http_req *r = c->req;

	conn_hold(c);
	req_hold(r);
	feed_body(c, r);
	req_release(r);
	conn_release(c);
}

void
vh_http_req_read_body(struct vh_http_req *r, int64_t max,
    vh_http_body_fn on_body, vh_http_end_fn on_end, vh_http_abort_fn on_abort,
    void *arg)
{
	struct conn *c = r->conn;

	VH_ASSERT_LOOP();
	r->on_body = on_body;
	r->on_end = on_end;
	r->on_abort = on_abort;
	r->cb_arg = arg;
	r->body_max = max;
	r->body_started = true;
	if (c == NULL) {
		body_failed(r, 0);
		return;
	}
	if (r->body_kind == VH_BODY_NONE ||
	    (r->body_kind == VH_BODY_LENGTH && r->content_length == 0)) {
		r->body_done = true;
		c->state = C_WAIT;
		call_end(r);
		return;
	}
	if (r->body_kind == VH_BODY_LENGTH && r->content_length > max) {
		/* Refused before a byte is read: 413 reaches the client while
		 * it still waits for 100 Continue. */
		body_failed(r, 413);
		return;
	}
	if (r->body_kind == VH_BODY_CHUNKED)
		r->chunked = vh_chunked_new();
	if (r->expect_continue)
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "HTTP/1.1 100 Continue\r\n\r\n");
	c->state = C_BODY;
	c->last_byte_ms = c->window_start_ms = vh_now_ms();
	c->window_bytes = 0;
	timer_in(c, 1000);
	bufferevent_enable(c->bev, EV_READ);
	conn_feed_body(c);
}

/* On resume: the pieces held while paused, then an end reached
 * meanwhile. False when the request stopped, was answered or paused
 * again. */
static bool
feed_held(struct conn *c, struct vh_http_req *r)
{
	struct evbuffer_iovec	 v;
	size_t			 n;
	int			 rc;

	while (!r->paused && r->held != NULL &&
	    evbuffer_get_length(r->held) > 0) {
		if (evbuffer_peek(r->held, READ_CHUNK, NULL, &v, 1) < 1)
			break;
		n = v.iov_len < READ_CHUNK ? v.iov_len : READ_CHUNK;
		rc = call_body(r, v.iov_base, n);
		if (c->req != r)
			return (false);
		evbuffer_drain(r->held, n);
		if (rc < 0) {
			body_stopped(c, r);
			return (false);
		}
	}
	if (r->paused)
		return (false);
	if (r->end_held) {
		r->end_held = false;
		body_complete(r);
		return (false);
	}
	return (true);
}

void
vh_http_req_pause(struct vh_http_req *r, bool pause)
{
	struct conn *c = r->conn;

	VH_ASSERT_LOOP();
	r->paused = pause;
	if (c == NULL || c->state != C_BODY)
		return;
	if (pause) {
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	/* A pause is the server's wait, not the client's: the timeouts
	 * start again (the timer stopped while paused). */
	c->last_byte_ms = c->window_start_ms = vh_now_ms();
	c->window_bytes = r->body_read;
	timer_in(c, 1000);
	conn_hold(c);
	req_hold(r);
	if (feed_held(c, r)) {
		bufferevent_enable(c->bev, EV_READ);
		feed_body(c, r);
	}
	req_release(r);
	conn_release(c);
}

/* Heads */

/* A request that failed before its handler saw it; answered here. */
static void
head_error(struct conn *c, struct vh_http_req *r, int status,
    const char *type, const char *detail)
{
	if (r == NULL)
		r = req_new(c);
	r->keepalive = false;
	vh_http_respond_problem(r, status, type, "%s", detail);
}

static bool
valid_request_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return (false);
	for (; *s != '\0'; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_' &&
		    *s != '.')
			return (false);
	return (true);
}

/* Checks a parsed head and hands the request to the dispatcher. */
static void
start_request(struct conn *c, struct vh_http_req *r)
{
	const struct vh_http_limits *lim = &c->lim;
	const char	*why = "malformed request", *v;
	int		 rc;

	rc = vh_http_parse_head(r->headbuf, strlen(r->headbuf), &r->head, &why);
	if (rc == VH_ETOOBIG) {
		head_error(c, r, 431, "header-too-large", "too many header fields");
		return;
	}
	if (rc == VH_ENOTSUP) {
		head_error(c, r, 505, "http-version", "only HTTP/1.0 and HTTP/1.1 are spoken here");
		return;
	}
	if (rc != 0) {
		head_error(c, r, 400, "bad-request", why);
		return;
	}
	r->parsed = true;
	if ((v = vh_http_req_header(r, "X-Request-Id")) != NULL &&
	    valid_request_id(v))
		snprintf(r->id, sizeof r->id, "%s", v);
	if ((int64_t)r->head.target_len > lim->max_uri_length) {
		head_error(c, r, 414, "uri-too-long", "the request target is too long");
		return;
	}
	if (vh_http_split_target(r->head.target, r->head.target_len, &r->path,
	    &r->query) != 0) {
		head_error(c, r, 400, "bad-target", "malformed request target");
		return;
	}
	rc = vh_http_head_body(&r->head, &r->body_kind, &r->content_length, &why);
	if (rc == VH_ENOTSUP) {
		head_error(c, r, 501, "transfer-coding", why);
		return;
	}
	if (rc != 0) {
		head_error(c, r, 400, "bad-request", why);
		return;
	}
	if (r->head.version_minor == 1)
		r->keepalive = !vh_http_head_has_token(&r->head, "Connection",
		    "close");
	else
		r->keepalive = vh_http_head_has_token(&r->head, "Connection",
		    "keep-alive");
	if ((v = vh_http_req_header(r, "Expect")) != NULL) {
		if (strcasecmp(v, "100-continue") != 0) {
			head_error(c, r, 417, "expectation", "only Expect: 100-continue is supported");
			return;
		}
		r->expect_continue = r->head.version_minor == 1;
	}
	if (r->body_kind == VH_BODY_LENGTH && r->content_length > lim->max_body) {
		r->keepalive = false;
		vh_http_respond_problem(r, 413, "body-too-large",
		    "the request body is larger than %" PRId64 " bytes",
		    lim->max_body);
		return;
	}
	c->state = C_DISPATCH;
	evtimer_del(c->timer);
	bufferevent_disable(c->bev, EV_READ);
	call_dispatch(c->srv, r);
}

static void
conn_read_head(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	const struct vh_http_limits *lim = &c->lim;
	struct vh_http_req	*r;
	struct evbuffer_ptr	 eol;
	unsigned char		*p;
	size_t			 len, n, end;

	/* A client may send blank lines between requests (RFC 9112 2.2). */
	while ((len = evbuffer_get_length(in)) > 0) {
		p = evbuffer_pullup(in, 1);
		if (*p != '\r' && *p != '\n')
			break;
		evbuffer_drain(in, 1);
	}
	if (len == 0)
		return;
	if (!c->head_started) {
		c->head_started = true;
		/* The first head's deadline runs from accept (the timer is
		 * already set); later ones from their first byte. */
		if (!c->fresh) {
			c->deadline_ms = vh_now_ms() + lim->header_timeout_ms;
			timer_in(c, lim->header_timeout_ms);
		}
	}
	n = len < (size_t)lim->max_header_size ? len : (size_t)lim->max_header_size;
	p = evbuffer_pullup(in, (ssize_t)n);
	end = vh_http_head_end((const char *)p, n);
	if (end == 0) {
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if ((eol.pos == -1 && (int64_t)len > lim->max_uri_length + 64) ||
		    eol.pos > lim->max_uri_length + 64)
			head_error(c, NULL, 414, "uri-too-long",
			    "the request target is too long");
		else if (len >= (size_t)lim->max_header_size)
			head_error(c, NULL, 431, "header-too-large",
			    "the request head is larger than the limit");
		return;
	}
	if (memchr(p, '\0', end) != NULL) {
		evbuffer_drain(in, end);
		head_error(c, NULL, 400, "bad-request", "NUL byte in request head");
		return;
	}
	r = req_new(c);
	r->headbuf = vh_xstrndup((const char *)p, end);
	evbuffer_drain(in, end);
	c->head_started = false;
	c->fresh = false;
	start_request(c, r);
}

/* Connections */

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	switch (c->state) {
	case C_HEAD:
		conn_read_head(c);
		break;
	case C_BODY:
		c->last_byte_ms = vh_now_ms();
		conn_feed_body(c);
		break;
	case C_LINGER: {
		struct evbuffer *in = bufferevent_get_input(bev);

		c->lingered += (int64_t)evbuffer_get_length(in);
		evbuffer_drain(in, evbuffer_get_length(in));
		if (c->lingered > LINGER_BYTES)
			conn_free(c);
		break;
	}
	default:
		/* Nothing is read while a handler works: backpressure. */
		bufferevent_disable(bev, EV_READ);
		break;
	}
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->state != C_WRITING)
		return;
	if (c->close_after && c->linger) {
		c->state = C_LINGER;
		shutdown(bufferevent_getfd(bev), SHUT_WR);
		timer_in(c, LINGER_MS);
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if (c->close_after) {
		conn_free(c);
		return;
	}
	c->state = C_HEAD;
	c->head_started = false;
	timer_in(c, c->lim.idle_timeout_ms);
	bufferevent_enable(bev, EV_READ);
	conn_read_head(c);
}

/* The client is gone (or must go): the request, if any, becomes an orphan. */
static void
conn_lost(struct conn *c)
{
	struct vh_http_req *r = c->req;

	conn_free(c);
	if (r == NULL)
		return;
	/* A handler reading the body learns at once; one still deciding
	 * finds vh_http_req_gone() true and answers into the void. */
	if (r->body_started && !r->body_done && !r->body_stopped &&
	    r->error == 0 && !r->answered)
		call_abort(r);
}

static void
event_cb(struct bufferevent *bev VH_UNUSED, short what, void *arg)
{
	struct conn *c = arg;

	if (c->dead)
		return;
	if (c->state == C_BODY && (what & BEV_EVENT_EOF))
		vh_log_debug("req=%s client closed during body after %" PRId64
		    " bytes", c->req->id, c->req->body_read);
	conn_lost(c);
}

static void
timer_cb(evutil_socket_t fd VH_UNUSED, short what VH_UNUSED, void *arg)
{
	struct conn	*c = arg;
	int64_t		 now = vh_now_ms();
	struct vh_http_req *r;

	switch (c->state) {
	case C_DEAD:
		return;
	case C_LINGER:
		conn_free(c);
		return;
	case C_HEAD:
		if (!c->head_started) {
			/* idle keep-alive, or a new connection that sent
			 * nothing within the head deadline */
			conn_free(c);
			return;
		}
		head_error(c, NULL, 408, "header-timeout",
		    "the request head did not arrive in time");
		return;
	case C_BODY:
		r = c->req;
		if (r->paused)
			return;
		if (now - c->last_byte_ms > c->lim.body_timeout_ms) {
			body_failed(r, 408);
			return;
		}
		if (now - c->window_start_ms >= RATE_WINDOW_MS) {
			int64_t got = r->body_read - c->window_bytes;

			if (got * 1000 < c->lim.body_min_rate *
			    (now - c->window_start_ms)) {
				body_failed(r, 408);
				return;
			}
			c->window_start_ms = now;
			c->window_bytes = r->body_read;
		}
		timer_in(c, 1000);
		return;
	default:
		return;
	}
}

/* Peers */

static void
peer_key(const struct sockaddr *sa, unsigned char key[PEER_KEYLEN])
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	memset(key, 0, PEER_KEYLEN);
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		key[0] = 4;
		memcpy(key + 1, sin6->sin6_addr.s6_addr + 12, 4);
	} else if (sa->sa_family == AF_INET6) {
		/* One host commonly holds a whole /64. */
		key[0] = 6;
		memcpy(key + 1, sin6->sin6_addr.s6_addr, 8);
	}
}

static struct peer **
peer_slot(struct vh_http_server *srv, const unsigned char key[PEER_KEYLEN])
{
	uint32_t	 h = 2166136261u;	/* FNV-1a */
	struct peer	**pp;

	for (size_t i = 0; i < PEER_KEYLEN; i++)
		h = (h ^ key[i]) * 16777619u;
	for (pp = &srv->peers[h % PEER_BUCKETS]; *pp != NULL;
	    pp = &(*pp)->next)
		if (memcmp((*pp)->key, key, PEER_KEYLEN) == 0)
			break;
	return (pp);
}

static void
peer_put(struct vh_http_server *srv, struct peer *p)
{
	struct peer **pp;

	if (p == NULL || --p->n > 0)
		return;
	pp = peer_slot(srv, p->key);
	*pp = p->next;
	free(p);
}

/* Connections */

static void
conn_destroy(struct conn *c)
{
	struct vh_http_server *srv = c->srv;

	TAILQ_REMOVE(&srv->conns, c, entry);
	srv->nconns--;
	peer_put(srv, c->peerent);
	event_free(c->timer);
	bufferevent_free(c->bev);
	free(c);
	if (srv->draining && srv->nconns == 0 && srv->drained != NULL) {
		void (*fn)(void *) = srv->drained;

		srv->drained = NULL;
		fn(srv->drained_arg);
	}
}

/* Closes a connection; one the server still holds goes quiet now and is
 * freed at the release. */
static void
conn_free(struct conn *c)
{
	if (c->dead)
		return;
	if (c->req != NULL) {
		c->req->conn = NULL;
		c->req = NULL;
	}
	if (c->holds == 0) {
		conn_destroy(c);
		return;
	}
	c->dead = true;
	c->state = C_DEAD;
	evtimer_del(c->timer);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
}

/* Over the connection limit: a short 503 written straight to the socket. */
static void
refuse(struct vh_http_server *srv, evutil_socket_t fd, const char *why)
{
	char	id[40], body[256], msg[768];
	int64_t	now = vh_now_ms();
	int	len;
	ssize_t	n;

	snprintf(id, sizeof id, "%08" PRIx64 "%08" PRIx64,
	    srv->id_prefix & 0xffffffff, ++srv->id_counter);
	snprintf(body, sizeof body, "{\"type\":\"/problems/too-many-connections\","
	    "\"title\":\"Service Unavailable\",\"status\":503,\"detail\":"
	    "\"%s; try again\","
	    "\"request_id\":\"%s\"}", why, id);
	len = snprintf(msg, sizeof msg, "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/problem+json\r\nConnection: close\r\n"
	    "X-Request-Id: %s\r\nX-Content-Type-Options: nosniff\r\n"
	    "Retry-After: 5\r\nContent-Length: %zu\r\n\r\n%s", id,
	    strlen(body), body);
	n = send(fd, msg, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)n;
	close(fd);
	/* A flood of refusals must not flood the log as well. */
	if (now - srv->refuse_log_ms < 1000) {
		srv->refused_quiet++;
		return;
	}
	vh_log_warnx("req=%s refused a connection (%s): %d open; %" PRId64
	    " more refused unlogged", id, why, srv->nconns, srv->refused_quiet);
	srv->refuse_log_ms = now;
	srv->refused_quiet = 0;
}

void
vh_http_server_adopt(struct vh_http_server *srv, int fd,
    const struct sockaddr *sa)
{
	struct conn		*c;
	struct peer		**pp, *p = NULL;
	unsigned char		 key[PEER_KEYLEN];
	char			 addr[INET6_ADDRSTRLEN] = "?";

	if (srv->draining || srv->nconns >= srv->lim.max_connections) {
		refuse(srv, fd, "the server has too many open connections");
		return;
	}
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    addr, sizeof addr);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
		    sizeof addr);
	/* A trusted proxy carries every client: the cap is for clients. */
	if (srv->lim.max_conns_per_addr > 0 &&
	    !vh_clientaddr_trusted(srv->trust, addr)) {
		peer_key(sa, key);
		pp = peer_slot(srv, key);
		if (*pp != NULL && (*pp)->n >= srv->lim.max_conns_per_addr) {
			refuse(srv, fd, "this address has too many open "
			    "connections");
			return;
		}
		if ((p = *pp) == NULL) {
			p = *pp = vh_xcalloc(1, sizeof *p);
			memcpy(p->key, key, PEER_KEYLEN);
		}
		p->n++;
	}
	c = vh_xcalloc(1, sizeof *c);
	c->srv = srv;
	c->lim = srv->lim;
	c->peerent = p;
	c->fresh = true;
	snprintf(c->peer, sizeof c->peer, "%s", addr);
	evutil_make_socket_nonblocking(fd);
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(srv->base, timer_cb, c);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, READ_CHUNK);
	{
		struct timeval wt = { c->lim.idle_timeout_ms / 1000,
		    (c->lim.idle_timeout_ms % 1000) * 1000 };
		bufferevent_set_timeouts(c->bev, NULL, &wt);
	}
	bufferevent_enable(c->bev, EV_READ);
	/* A connection that sends nothing is dropped at the head deadline,
	 * not after the much longer keep-alive idle time: idle sockets are
	 * what a client holding every slot would open. */
	c->deadline_ms = vh_now_ms() + c->lim.header_timeout_ms;
	timer_in(c, c->lim.header_timeout_ms);
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->nconns++;
}

static void
accept_cb(struct evconnlistener *l VH_UNUSED, evutil_socket_t fd,
    struct sockaddr *sa, int salen VH_UNUSED, void *arg)
{
	vh_http_server_adopt(arg, fd, sa);
}

static void
accept_error_cb(struct evconnlistener *l VH_UNUSED, void *arg VH_UNUSED)
{
	vh_log_warn("accept");
}

struct vh_http_server *
vh_http_server_new(struct event_base *base, const struct vh_http_limits *lim,
    vh_http_dispatch_fn dispatch, void *arg)
{
	struct vh_http_server *srv;

	/* Made on the thread that runs base: the loop. */
	vh_thread_set_role(VH_THREAD_LOOP);
	srv = vh_xcalloc(1, sizeof *srv);
	srv->base = base;
	srv->lim = *lim;
	srv->dispatch = dispatch;
	srv->arg = arg;
	TAILQ_INIT(&srv->conns);
	if (getrandom(&srv->id_prefix, sizeof srv->id_prefix, 0) == -1)
		srv->id_prefix = (uint64_t)time(NULL) ^ (uint64_t)getpid();
	return (srv);
}

void
vh_http_server_free(struct vh_http_server *srv)
{
	struct conn *c;

	if (srv == NULL)
		return;
	srv->drained = NULL;
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		conn_lost(c);
	if (srv->listener != NULL)
		evconnlistener_free(srv->listener);
	if (srv->drain_timer != NULL)
		event_free(srv->drain_timer);
	free(srv);
}

void
vh_http_server_reuseport(struct vh_http_server *srv, bool on)
{
	srv->reuseport = on;
}

int
vh_http_server_listen(struct vh_http_server *srv, const char *addr, int port,
    int *bound, char **err)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	unsigned		 flags = LEV_OPT_CLOSE_ON_FREE |
				    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sslen = sizeof *sin;
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sslen = sizeof *sin6;
	} else {
		if (err != NULL)
			*err = vh_xasprintf("listen_address '%s' is not an IP "
			    "address", addr);
		return (VH_EINVAL);
	}
	/* Linux lets a port be shared only by sockets that all set
	 * SO_REUSEPORT under one user: a daemon without the option still
	 * finds the port taken. */
	if (srv->reuseport)
		flags |= LEV_OPT_REUSEABLE_PORT;
	srv->listener = evconnlistener_new_bind(srv->base, accept_cb, srv,
	    flags, 512, (struct sockaddr *)&ss, (int)sslen);
	if (srv->listener == NULL) {
		if (err != NULL)
			*err = vh_xasprintf("cannot listen on %s port %d: %s",
			    addr, port, strerror(errno));
		return (VH_EIO);
	}
	evconnlistener_set_error_cb(srv->listener, accept_error_cb);
	sslen = sizeof ss;
	getsockname(evconnlistener_get_fd(srv->listener), (struct sockaddr *)&ss,
	    &sslen);
	*bound = ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port);
	return (0);
}

void
vh_http_server_set_limits(struct vh_http_server *srv,
    const struct vh_http_limits *lim)
{
	srv->lim = *lim;
}

int
vh_http_server_nconns(const struct vh_http_server *srv)
{
	return (srv->nconns);
}

static void
drain_timeout_cb(evutil_socket_t fd VH_UNUSED, short what VH_UNUSED, void *arg)
{
	struct vh_http_server *srv = arg;
	void (*fn)(void *) = srv->drained;

	vh_log_warnx("shutdown: %d connection(s) still busy; closing them",
	    srv->nconns);
	srv->drained = NULL;
	if (fn != NULL)
		fn(srv->drained_arg);
}

void
vh_http_server_drain(struct vh_http_server *srv, void (*done)(void *),
    void *arg)
{
	struct conn	*c, *next;
	struct timeval	 tv = { srv->lim.shutdown_timeout_ms / 1000,
			    (srv->lim.shutdown_timeout_ms % 1000) * 1000 };

	srv->draining = true;
	srv->drained = done;
	srv->drained_arg = arg;
	/* Closed, not just disabled: a connection the kernel would still
	 * queue in the backlog would hang until the exit resets it, while a
	 * refused one makes the client or load balancer try another. */
	if (srv->listener != NULL) {
		evconnlistener_free(srv->listener);
		srv->listener = NULL;
	}
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == C_HEAD && !c->head_started)
			conn_free(c);
		else
			c->close_after = true;
	}
	if (srv->drained == NULL)
		return;			/* conn_free already called done */
	if (srv->nconns == 0) {
		srv->drained = NULL;
		done(arg);
		return;
	}
	srv->drain_timer = evtimer_new(srv->base, drain_timeout_cb, srv);
	evtimer_add(srv->drain_timer, &tv);
}

void
vh_http_req_close(struct vh_http_req *r)
{
	if (r->conn != NULL)
		conn_lost(r->conn);
}

void
vh_http_server_observe(struct vh_http_server *srv, vh_http_observe_fn fn,
    void *arg)
{
	srv->observe = fn;
	srv->observe_arg = arg;
}

void
vh_http_server_trust(struct vh_http_server *srv,
    const struct vh_clientaddr *trust)
{
	srv->trust = trust;
}

const char *
vh_http_req_client(struct vh_http_req *r)
{
	if (r->client[0] == '\0')
		vh_clientaddr_resolve(r->trust, r->peer, r->parsed ? &r->head :
		    NULL, r->client, sizeof r->client);
	return (r->client);
}

void
vh_http_req_set_route(struct vh_http_req *r, int route)
{
	r->route = route;
}

int
vh_http_req_route(const struct vh_http_req *r)
{
	return (r->route);
}

/* Streamed responses */

/* The output buffer changed: once it has drained to the low mark, the
 * handler hears it (once per vh_http_stream_on_drain). */
static void
stream_out_cb(struct evbuffer *out, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct vh_http_req *r = arg;
	void (*fn)(struct vh_http_req *, void *) = r->drain_fn;

	if (info->n_deleted == 0 || fn == NULL ||
	    evbuffer_get_length(out) > r->drain_low)
		return;
	r->drain_fn = NULL;
	fn(r, r->drain_arg);
}

int
vh_http_stream_begin(struct vh_http_req *r, int status, const char *ctype)
{
	struct conn	*c = r->conn;
	struct evbuffer	*out;

	if (answered_twice(r))
		return (VH_EINVAL);
	r->streaming = true;
	r->stream_status = status;
	if (c == NULL)
		return (VH_EIO);
	out = head_open(r, c, status);
	/* HTTP/1.0 has no chunked coding: the close ends the body. */
	r->stream_chunked = r->head.version_minor >= 1;
	if (!r->stream_chunked)
		c->close_after = true;
	else
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
	head_close(r, c, out, ctype);
	r->stream_cb = evbuffer_add_cb(out, stream_out_cb, r);

	c->state = C_STREAM;
	evtimer_del(c->timer);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
	return (0);
}

int
vh_http_stream_write(struct vh_http_req *r, const void *data, size_t len)
{
	struct evbuffer *out;

	if (r->conn == NULL)
		return (VH_EIO);
	r->stream_len += (int64_t)len;
	if (len == 0 || r->head.method == VH_HTTP_HEAD)
		return (0);
	out = bufferevent_get_output(r->conn->bev);
	if (r->stream_chunked)
		evbuffer_add_printf(out, "%zx\r\n", len);
	evbuffer_add(out, data, len);
	if (r->stream_chunked)
		evbuffer_add(out, "\r\n", 2);
	return (0);
}

size_t
vh_http_stream_queued(const struct vh_http_req *r)
{
	if (r->conn == NULL)
		return (0);
	return (evbuffer_get_length(bufferevent_get_output(r->conn->bev)));
}

void
vh_http_stream_on_drain(struct vh_http_req *r, size_t low,
    void (*fn)(struct vh_http_req *, void *), void *arg)
{
	r->drain_low = low;
	r->drain_fn = fn;
	r->drain_arg = arg;
}

void
vh_http_stream_end(struct vh_http_req *r, bool ok)
{
	struct conn	*c = r->conn;
	struct evbuffer	*out;

	if (c != NULL) {
		out = bufferevent_get_output(c->bev);
		if (r->stream_cb != NULL)
			evbuffer_remove_cb_entry(out, r->stream_cb);
		c->req = NULL;
		r->conn = NULL;
		/* Cut short, the body must not look whole: no last chunk,
		 * and the connection closes. */
		if (!ok)
			c->close_after = true;
		else if (r->stream_chunked && r->head.method != VH_HTTP_HEAD)
			evbuffer_add(out, "0\r\n\r\n", 5);
		c->state = C_WRITING;
		if (evbuffer_get_length(out) == 0)
			write_cb(c->bev, c);
	}
	finish(r, ok ? c : NULL, r->stream_status, r->stream_len);
}
