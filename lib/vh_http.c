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
 * cannot hold a connection.
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

#include "vh_time.h"
#include "vh_error.h"
#include "vh_http.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

#define RATE_WINDOW_MS	20000
#define READ_CHUNK	(64 * 1024)

enum conn_state { C_HEAD, C_DISPATCH, C_BODY, C_WAIT, C_WRITING, C_LINGER,
    C_STREAM };

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
	bool			 draining;
	void			(*drained)(void *);
	void			*drained_arg;
	struct event		*drain_timer;
};

static void	conn_free(struct conn *);
static void	conn_read_head(struct conn *);
static void	conn_feed_body(struct conn *);
static void	body_failed(struct vh_http_req *, int status);

static void
timer_in(struct conn *c, int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
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

	evbuffer_add_printf(r->headers, "%s: ", name);
	va_start(ap, fmt);
	evbuffer_add_vprintf(r->headers, fmt, ap);
	va_end(ap);
	evbuffer_add(r->headers, "\r\n", 2);
}

/* Responses */

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
		/* Never log a query string: upload links carry secrets. */
		snprintf(target, sizeof target, "%s", vh_http_req_path(r));
	}
	vh_log_info("req=%s %s \"%s %s\" %d %" PRId64 " in=%" PRId64 " %"
	    PRId64 "ms%s%s%s", r->id, r->peer, method, target, status, len,
	    r->body_read, ms, gone ? " client-gone" : "",
	    r->logextra != NULL ? " " : "",
	    r->logextra != NULL ? r->logextra : "");
}

/* Queues status line and headers; the connection then owns the write. */
static struct conn *
begin_response(struct vh_http_req *r, int status, const char *ctype,
    int64_t len)
{
	struct conn	*c = r->conn;
	struct evbuffer	*out;
	char		 date[64];
	time_t		 t = time(NULL);
	struct tm	 tm;

	if (c == NULL)
		return (NULL);
	c->req = NULL;
	r->conn = NULL;
	/* An unread body cannot be skipped safely without reading it. */
	if (r->body_kind != VH_BODY_NONE && !r->body_done &&
	    !(r->body_kind == VH_BODY_LENGTH && r->content_length == 0))
		c->close_after = c->linger = true;
	if (!r->keepalive || c->srv->draining)
		c->close_after = true;

	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	out = bufferevent_get_output(c->bev);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n"
	    "Server: verhaal\r\nX-Request-Id: %s\r\n"
	    "X-Content-Type-Options: nosniff\r\n", status,
	    vh_http_reason(status), date, r->id);
	if (status != 304 && status != 204)
		evbuffer_add_printf(out, "Content-Length: %" PRId64 "\r\n", len);
	if (ctype != NULL)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
	if (c->close_after)
		evbuffer_add_printf(out, "Connection: close\r\n");
	evbuffer_add_buffer(out, r->headers);
	evbuffer_add(out, "\r\n", 2);

	c->state = C_WRITING;
	evtimer_del(c->timer);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
	return (c);
}

static void
finish(struct vh_http_req *r, struct conn *c, int status, int64_t len)
{
	access_log(r, status, len, c == NULL);
	req_free(r);
}

void
vh_http_respond(struct vh_http_req *r, int status, const char *ctype,
    const void *body, size_t len)
{
	struct conn *c;

	if ((c = begin_response(r, status, ctype, (int64_t)len)) != NULL &&
	    r->head.method != VH_HTTP_HEAD && len > 0)
		evbuffer_add(bufferevent_get_output(c->bev), body, len);
	finish(r, c, status, (int64_t)len);
}

void
vh_http_respond_json(struct vh_http_req *r, int status, json_t *j)
{
	char	*s;

	s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	if (s == NULL)
		vh_fatal("json_dumps");
	vh_http_respond(r, status, "application/json", s, strlen(s));
	free(s);
}

void
vh_http_respond_problem(struct vh_http_req *r, int status, const char *type,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 detail[1024];
	char	*s;
	json_t	*j;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	j = json_pack("{s:s, s:s, s:i, s:s, s:s}",
	    "type", "", "title", vh_http_reason(status), "status", status,
	    "detail", detail, "request_id", r->id);
	s = vh_xasprintf("/problems/%s", type);
	json_object_set_new(j, "type", json_string(s));
	free(s);
	s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	vh_http_respond(r, status, "application/problem+json", s, strlen(s));
	free(s);
}

void
vh_http_respond_fd(struct vh_http_req *r, int status, const char *ctype,
    int fd, int64_t offset, int64_t len)
{
	struct conn *c;

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
	if (r->on_abort != NULL)
		r->on_abort(r, r->cb_arg);
	else
		vh_http_respond_error(r);
}

static void
body_complete(struct vh_http_req *r)
{
	struct conn *c = r->conn;

	r->body_done = true;
	c->state = C_WAIT;
	evtimer_del(c->timer);
	bufferevent_disable(c->bev, EV_READ);
	r->on_end(r, r->cb_arg);
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
	if (r->on_body(r, data, len, r->cb_arg) < 0)
		return (VH_ECONFLICT);
	return (0);
}

/*
 * Moves buffered body bytes to the handler. Returns when the input is
 * empty, the body is complete, delivery is paused or the request failed.
 */
static void
conn_feed_body(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct vh_http_req	*r = c->req;
	struct evbuffer_iovec	 v;
	ssize_t			 used;
	size_t			 n;
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
			if (r->on_body(r, v.iov_base, n, r->cb_arg) < 0) {
				evbuffer_drain(in, n);
				body_stopped(c, r);
				return;
			}
			evbuffer_drain(in, n);
			if (r->body_read == r->content_length) {
				body_complete(r);
				return;
			}
			continue;
		}
		used = vh_chunked_feed(r->chunked, v.iov_base, n, chunk_data, r,
		    &done);
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
			body_complete(r);
			return;
		}
	}
}

void
vh_http_req_read_body(struct vh_http_req *r, int64_t max,
    vh_http_body_fn on_body, vh_http_end_fn on_end, vh_http_abort_fn on_abort,
    void *arg)
{
	struct conn *c = r->conn;

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
		on_end(r, arg);
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

void
vh_http_req_pause(struct vh_http_req *r, bool pause)
{
	struct conn *c = r->conn;

	r->paused = pause;
	if (c == NULL || c->state != C_BODY)
		return;
	if (pause)
		bufferevent_disable(c->bev, EV_READ);
	else {
		c->last_byte_ms = c->window_start_ms = vh_now_ms();
		c->window_bytes = 0;
		bufferevent_enable(c->bev, EV_READ);
		conn_feed_body(c);
	}
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
	c->srv->dispatch(r, c->srv->arg);
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
		c->deadline_ms = vh_now_ms() + lim->header_timeout_ms;
		timer_in(c, lim->header_timeout_ms);
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
	    r->error == 0) {
		if (r->on_abort != NULL)
			r->on_abort(r, r->cb_arg);
		else
			vh_http_respond_error(r);
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (c->state == C_BODY && (what & BEV_EVENT_EOF))
		vh_log_debug("req=%s client closed during body after %" PRId64
		    " bytes", c->req->id, c->req->body_read);
	conn_lost(c);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	int64_t		 now = vh_now_ms();
	struct vh_http_req *r;

	switch (c->state) {
	case C_LINGER:
		conn_free(c);
		return;
	case C_HEAD:
		if (!c->head_started) {
			conn_free(c);		/* idle keep-alive */
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

static void
conn_free(struct conn *c)
{
	struct vh_http_server *srv = c->srv;

	if (c->req != NULL) {
		c->req->conn = NULL;
		c->req = NULL;
	}
	TAILQ_REMOVE(&srv->conns, c, entry);
	srv->nconns--;
	event_free(c->timer);
	bufferevent_free(c->bev);
	free(c);
	if (srv->draining && srv->nconns == 0 && srv->drained != NULL) {
		void (*fn)(void *) = srv->drained;

		srv->drained = NULL;
		fn(srv->drained_arg);
	}
}

/* Over the connection limit: a short 503 written straight to the socket. */
static void
refuse(struct vh_http_server *srv, evutil_socket_t fd)
{
	char	id[40], body[256], msg[768];
	int	len;
	ssize_t	n;

	snprintf(id, sizeof id, "%08" PRIx64 "%08" PRIx64,
	    srv->id_prefix & 0xffffffff, ++srv->id_counter);
	snprintf(body, sizeof body, "{\"type\":\"/problems/too-many-connections\","
	    "\"title\":\"Service Unavailable\",\"status\":503,\"detail\":"
	    "\"the server has too many open connections; try again\","
	    "\"request_id\":\"%s\"}", id);
	len = snprintf(msg, sizeof msg, "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/problem+json\r\nConnection: close\r\n"
	    "X-Request-Id: %s\r\nX-Content-Type-Options: nosniff\r\n"
	    "Retry-After: 5\r\nContent-Length: %zu\r\n\r\n%s", id,
	    strlen(body), body);
	n = send(fd, msg, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)n;
	close(fd);
	vh_log_warnx("req=%s refused a connection: %d open", id, srv->nconns);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct vh_http_server	*srv = arg;
	struct conn		*c;
	char			 addr[INET6_ADDRSTRLEN] = "?";

	if (srv->draining || srv->nconns >= srv->lim.max_connections) {
		refuse(srv, fd);
		return;
	}
	c = vh_xcalloc(1, sizeof *c);
	c->srv = srv;
	c->lim = srv->lim;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, addr,
		    sizeof addr);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
		    addr, sizeof addr);
	snprintf(c->peer, sizeof c->peer, "%s", addr);
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
	timer_in(c, c->lim.idle_timeout_ms);
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->nconns++;
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	vh_log_warn("accept");
}

struct vh_http_server *
vh_http_server_new(struct event_base *base, const struct vh_http_limits *lim,
    vh_http_dispatch_fn dispatch, void *arg)
{
	struct vh_http_server *srv;

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

int
vh_http_server_listen(struct vh_http_server *srv, const char *addr, int port,
    int *bound, char **err)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

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
	srv->listener = evconnlistener_new_bind(srv->base, accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    512, (struct sockaddr *)&ss, (int)sslen);
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
drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
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
	if (srv->listener != NULL)
		evconnlistener_disable(srv->listener);
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
	char		 date[64];
	time_t		 t = time(NULL);
	struct tm	 tm;

	r->streaming = true;
	r->stream_status = status;
	if (c == NULL)
		return (VH_EIO);
	if (r->body_kind != VH_BODY_NONE && !r->body_done &&
	    !(r->body_kind == VH_BODY_LENGTH && r->content_length == 0))
		c->close_after = c->linger = true;
	if (!r->keepalive || c->srv->draining)
		c->close_after = true;
	/* HTTP/1.0 has no chunked coding: the close ends the body. */
	r->stream_chunked = r->head.version_minor >= 1;
	if (!r->stream_chunked)
		c->close_after = true;

	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	out = bufferevent_get_output(c->bev);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n"
	    "Server: verhaal\r\nX-Request-Id: %s\r\n"
	    "X-Content-Type-Options: nosniff\r\n", status,
	    vh_http_reason(status), date, r->id);
	if (r->stream_chunked)
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
	if (ctype != NULL)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
	if (c->close_after)
		evbuffer_add_printf(out, "Connection: close\r\n");
	evbuffer_add_buffer(out, r->headers);
	evbuffer_add(out, "\r\n", 2);
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
	access_log(r, r->stream_status, r->stream_len, c == NULL || !ok);
	req_free(r);
}
