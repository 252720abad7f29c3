/* The HTTP server over socketpairs: problem details that hold client
 * bytes, replies that cannot be built, answers from inside body
 * callbacks, a pause inside on_body, the per-address cap and the first-head deadline, and the
 * access log (escaped by the log sink, upload ids redacted). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <event2/event.h>
#include <jansson.h>

#include "vh_http.h"
#include "vh_unused.h"
#include "vh_log.h"

static struct event_base	*base;
static struct vh_http_server	*srv;
static char			 logbuf[65536];
static int			 mode;
static int			 ncalls_body, ncalls_end, nfreed;

enum { M_PROBLEM_BYTES, M_PROBLEM_LONG, M_JSON_NULL, M_BODY_ANSWER_STOP,
	M_BODY_ANSWER_GO, M_PAUSE, M_OK };

/* M_PAUSE: the body so far, the paused request, callbacks while paused. */
static char			 pbody[256];
static size_t			 plen;
static struct vh_http_req	*preq;
static struct event		*resume_ev;
static int			 ncalls_paused;

static void
sink(enum vh_log_level l, const char *line, void *arg)
{
	(void)l;
	(void)arg;
	strncat(logbuf, line, sizeof logbuf - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

static void
data_free(void *p)
{
	nfreed++;
	free(p);
}

static int
on_body(struct vh_http_req *req, const char *d VH_UNUSED, size_t len VH_UNUSED,
    void *arg VH_UNUSED)
{
	char *mine = vh_http_req_data(req);

	ncalls_body++;
	vh_http_respond_problem(req, 400, "bad-body", "refused in on_body");
	/* The request and its data outlive the answer until we return. */
	assert_string_equal(mine, "handler state");
	assert_int_equal(nfreed, 0);
	return (mode == M_BODY_ANSWER_STOP ? -1 : 0);
}

static void
on_end(struct vh_http_req *req, void *arg VH_UNUSED)
{
	ncalls_end++;
	vh_http_respond(req, 200, "text/plain", "end", 3);
}

/* Pauses at the first piece, as a handler waiting for a worker does. */
static int
on_body_pause(struct vh_http_req *req, const char *d, size_t len,
    void *arg VH_UNUSED)
{
	struct timeval tv = { 0, 50 * 1000 };

	ncalls_body++;
	if (preq != NULL)
		ncalls_paused++;
	assert_true(plen + len < sizeof pbody);
	memcpy(pbody + plen, d, len);
	plen += len;
	if (ncalls_body == 1) {
		vh_http_req_pause(req, true);
		preq = req;
		evtimer_add(resume_ev, &tv);
	}
	return (0);
}

static void
on_end_pause(struct vh_http_req *req, void *arg VH_UNUSED)
{
	if (preq != NULL)
		ncalls_paused++;
	ncalls_end++;
	vh_http_respond(req, 200, "text/plain", pbody, plen);
}

static void
resume_cb(evutil_socket_t fd VH_UNUSED, short what VH_UNUSED,
    void *arg VH_UNUSED)
{
	struct vh_http_req *r = preq;

	preq = NULL;
	vh_http_req_pause(r, false);
}

static void
dispatch(struct vh_http_req *req, void *arg VH_UNUSED)
{
	char long_detail[3001];

	switch (mode) {
	case M_PROBLEM_BYTES:
		vh_http_respond_problem(req, 404, "not-found",
		    "no resource at %s", vh_http_req_path(req));
		break;
	case M_PROBLEM_LONG:
		/* 1500 two-byte characters: any byte limit falls inside
		 * one of them unless the cut looks for a boundary. */
		for (int i = 0; i < 1500; i++)
			memcpy(long_detail + 2 * i, "\xc3\xa9", 2);
		long_detail[3000] = '\0';
		vh_http_respond_problem(req, 400, "x", "%s", long_detail);
		break;
	case M_JSON_NULL:
		vh_http_add_header(req, "Location", "/dropped");
		vh_http_respond_internal(req, "a reply that cannot be built");
		break;
	case M_BODY_ANSWER_STOP:
	case M_BODY_ANSWER_GO:
		vh_http_req_set_data(req, strdup("handler state"), data_free);
		vh_http_req_read_body(req, 1 << 20, on_body, on_end, NULL, NULL);
		break;
	case M_PAUSE:
		vh_http_req_read_body(req, 1 << 20, on_body_pause,
		    on_end_pause, NULL, NULL);
		break;
	default:
		vh_http_respond(req, 200, "text/plain", "ok", 2);
		break;
	}
}

static void
server(int64_t per_addr, int64_t header_ms)
{
	struct vh_http_limits lim = {
		.max_connections = 100, .max_conns_per_addr = per_addr,
		.max_header_size = 16384, .max_uri_length = 8192,
		.max_body = 1 << 20, .header_timeout_ms = header_ms,
		.idle_timeout_ms = 5000, .body_timeout_ms = 5000,
		.body_min_rate = 0, .shutdown_timeout_ms = 1000,
	};

	base = event_base_new();
	srv = vh_http_server_new(base, &lim, dispatch, NULL);
	logbuf[0] = '\0';
	ncalls_body = ncalls_end = nfreed = 0;
	vh_log_set_sink(sink, NULL);
	vh_log_set_level(VH_LOG_INFO);
}

static void
server_free(void)
{
	vh_http_server_free(srv);
	event_base_free(base);
	vh_log_set_sink(NULL, NULL);
}

static int
connect_from(const struct sockaddr *sa)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	vh_http_server_adopt(srv, sv[0], sa);
	return (sv[1]);
}

static struct sockaddr_in
v4(const char *a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	inet_pton(AF_INET, a, &sin.sin_addr);
	return (sin);
}

/* Sends text, then reads until the server closes or ms pass. */
static char *
exchange(int fd, const char *text, size_t len, int ms)
{
	static char	 out[65536];
	size_t		 n = 0;
	ssize_t		 k;

	if (len > 0)
		assert_int_equal(send(fd, text, len, 0), (ssize_t)len);
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < ms; i++) {
		struct timeval tv = { 0, 1000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
		while ((k = recv(fd, out + n, sizeof out - n - 1,
		    MSG_DONTWAIT)) > 0)
			n += (size_t)k;
		if (k == 0)
			break;
	}
	out[n] = '\0';
	close(fd);
	return (out);
}

static json_t *
body_json(const char *resp)
{
	const char	*b = strstr(resp, "\r\n\r\n");
	json_error_t	 e;
	json_t		*j;

	assert_non_null(b);
	j = json_loads(b + 4, JSON_DISABLE_EOF_CHECK, &e);
	assert_non_null(j);
	return (j);
}

static void
test_problem_escapes_bytes(void **state VH_UNUSED)
{
	struct sockaddr_in	 sin = v4("192.0.2.1");
	const char		 req[] = "GET /a%ff%0d%0ab%c3%a9 HTTP/1.1\r\n"
				    "Host: t\r\n\r\n";
	char			*resp;
	json_t			*j;

	server(0, 5000);
	mode = M_PROBLEM_BYTES;
	resp = exchange(connect_from((struct sockaddr *)&sin), req,
	    sizeof req - 1, 2000);
	assert_non_null(strstr(resp, "HTTP/1.1 404 "));
	j = body_json(resp);
	assert_string_equal(json_string_value(json_object_get(j, "detail")),
	    "no resource at /a%FF%0D%0Ab\xc3\xa9");
	json_decref(j);
	/* The access-log line is one line, its CR LF escaped. */
	assert_non_null(strstr(logbuf, "\"GET /a\\xff\\x0d\\x0ab\xc3\xa9\" 404"));
	server_free();
}

static void
test_problem_cut_between_characters(void **state VH_UNUSED)
{
	struct sockaddr_in	 sin = v4("192.0.2.1");
	const char		 req[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
	const char		*d;
	json_t			*j;
	char			 want[600];

	server(0, 5000);
	mode = M_PROBLEM_LONG;
	j = body_json(exchange(connect_from((struct sockaddr *)&sin), req,
	    sizeof req - 1, 2000));
	d = json_string_value(json_object_get(j, "detail"));
	assert_non_null(d);
	want[0] = '\0';
	for (int i = 0; i < 256; i++)
		strcat(want, "\xc3\xa9");
	strcat(want, "...");
	assert_string_equal(d, want);
	json_decref(j);
	server_free();
}

static void
test_unbuildable_reply_is_500(void **state VH_UNUSED)
{
	struct sockaddr_in	 sin = v4("192.0.2.1");
	const char		 req[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
	char			*resp;
	json_t			*j;

	server(0, 5000);
	mode = M_JSON_NULL;
	resp = exchange(connect_from((struct sockaddr *)&sin), req,
	    sizeof req - 1, 2000);
	assert_non_null(strstr(resp, "HTTP/1.1 500 "));
	assert_null(strstr(resp, "/dropped"));
	j = body_json(resp);
	assert_string_equal(json_string_value(json_object_get(j, "type")),
	    "/problems/internal");
	json_decref(j);
	server_free();
}

static void
answer_in_body(int m, const char *req)
{
	struct sockaddr_in	 sin = v4("192.0.2.1");
	char			*resp;

	server(0, 5000);
	mode = m;
	resp = exchange(connect_from((struct sockaddr *)&sin), req,
	    strlen(req), 3000);
	assert_non_null(strstr(resp, "HTTP/1.1 400 "));
	assert_null(strstr(resp, "HTTP/1.1 200 "));
	assert_int_equal(ncalls_body, 1);	/* none after the answer */
	assert_int_equal(ncalls_end, 0);
	assert_int_equal(nfreed, 1);		/* freed once, afterwards */
	server_free();
}

static void
test_answer_inside_on_body(void **state VH_UNUSED)
{
	const char *chunked = "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked"
	    "\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n";
	const char *length = "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n"
	    "hello";

	answer_in_body(M_BODY_ANSWER_STOP, chunked);
	answer_in_body(M_BODY_ANSWER_GO, chunked);
	answer_in_body(M_BODY_ANSWER_STOP, length);
	answer_in_body(M_BODY_ANSWER_GO, length);
}

/* Paused inside on_body, nothing more reaches the handler, not the next
 * chunk of the same piece nor the end, until the resume delivers them. */
static void
pause_in_body(const char *req)
{
	struct sockaddr_in	 sin = v4("192.0.2.1");
	char			*resp;

	server(0, 5000);
	mode = M_PAUSE;
	plen = 0;
	preq = NULL;
	ncalls_paused = 0;
	resume_ev = evtimer_new(base, resume_cb, NULL);
	resp = exchange(connect_from((struct sockaddr *)&sin), req,
	    strlen(req), 3000);
	assert_int_equal(ncalls_paused, 0);
	assert_null(preq);			/* resumed */
	assert_int_equal(ncalls_end, 1);
	assert_non_null(strstr(resp, "HTTP/1.1 200 "));
	assert_non_null(strstr(resp, "\r\n\r\nhelloworld"));
	event_free(resume_ev);
	server_free();
}

static void
test_pause_inside_on_body(void **state VH_UNUSED)
{
	pause_in_body("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n");
	pause_in_body("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n"
	    "\r\nhelloworld");
}

static void
test_per_address_cap(void **state VH_UNUSED)
{
	struct sockaddr_in	 a = v4("192.0.2.1"), b = v4("192.0.2.2");
	struct sockaddr_in6	 s6 = { .sin6_family = AF_INET6 };
	int			 held[2], fd6[3];
	char			*resp;

	server(2, 5000);
	mode = M_OK;
	held[0] = connect_from((struct sockaddr *)&a);
	held[1] = connect_from((struct sockaddr *)&a);
	resp = exchange(connect_from((struct sockaddr *)&a), "", 0, 500);
	assert_non_null(strstr(resp, "HTTP/1.1 503 "));
	assert_non_null(strstr(resp, "this address has too many open connections"));
	resp = exchange(connect_from((struct sockaddr *)&b),
	    "GET / HTTP/1.1\r\nHost: t\r\n\r\n", 27, 2000);
	assert_non_null(strstr(resp, "HTTP/1.1 200 "));
	/* IPv6: one /64 is one address. */
	inet_pton(AF_INET6, "2001:db8:1:2::1", &s6.sin6_addr);
	fd6[0] = connect_from((struct sockaddr *)&s6);
	inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &s6.sin6_addr);
	fd6[1] = connect_from((struct sockaddr *)&s6);
	inet_pton(AF_INET6, "2001:db8:1:2:abcd::7", &s6.sin6_addr);
	resp = exchange(connect_from((struct sockaddr *)&s6), "", 0, 500);
	assert_non_null(strstr(resp, "HTTP/1.1 503 "));
	inet_pton(AF_INET6, "2001:db8:1:3::1", &s6.sin6_addr);
	fd6[2] = connect_from((struct sockaddr *)&s6);
	assert_int_equal(vh_http_server_nconns(srv), 5);
	/* A slot freed is a slot to take again. */
	close(held[0]);
	for (int i = 0; i < 50; i++) {
		struct timeval tv = { 0, 1000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	resp = exchange(connect_from((struct sockaddr *)&a),
	    "GET / HTTP/1.1\r\nHost: t\r\n\r\n", 27, 2000);
	assert_non_null(strstr(resp, "HTTP/1.1 200 "));
	close(held[1]);
	for (int i = 0; i < 3; i++)
		close(fd6[i]);
	server_free();
}

static void
test_silent_connection_dropped_at_head_deadline(void **state VH_UNUSED)
{
	struct sockaddr_in	 sin = v4("192.0.2.1");
	int			 fd;
	char			 c;

	server(0, 200);
	fd = connect_from((struct sockaddr *)&sin);
	for (int i = 0; i < 1000 && vh_http_server_nconns(srv) > 0; i++) {
		struct timeval tv = { 0, 1000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	assert_int_equal(vh_http_server_nconns(srv), 0);
	assert_int_equal(recv(fd, &c, 1, MSG_DONTWAIT), 0);	/* no bytes */
	close(fd);
	server_free();
}

static void
test_upload_id_redacted(void **state VH_UNUSED)
{
	struct sockaddr_in	 sin = v4("192.0.2.1");
	const char		 req[] = "GET /api/v1/uploads/sEcReTuPlOaDiD "
				    "HTTP/1.1\r\nHost: t\r\n\r\n";

	server(0, 5000);
	mode = M_OK;
	(void)exchange(connect_from((struct sockaddr *)&sin), req,
	    sizeof req - 1, 2000);
	assert_non_null(strstr(logbuf, "\"GET /api/v1/uploads/<redacted>\" 200"));
	assert_null(strstr(logbuf, "sEcReTuPlOaDiD"));
	server_free();
}

static void
test_log_sink_escapes(void **state VH_UNUSED)
{
	logbuf[0] = '\0';
	vh_log_set_sink(sink, NULL);
	vh_log_set_level(VH_LOG_INFO);
	vh_log_info("a\r\nb\x1b[31m\xff \xc3\xa9\t\x7f\xc3");
	assert_string_equal(logbuf,
	    "a\\x0d\\x0ab\\x1b[31m\\xff \xc3\xa9\\x09\\x7f\\xc3\n");
	vh_log_set_sink(NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_problem_escapes_bytes),
		cmocka_unit_test(test_problem_cut_between_characters),
		cmocka_unit_test(test_unbuildable_reply_is_500),
		cmocka_unit_test(test_answer_inside_on_body),
		cmocka_unit_test(test_pause_inside_on_body),
		cmocka_unit_test(test_per_address_cap),
		cmocka_unit_test(test_silent_connection_dropped_at_head_deadline),
		cmocka_unit_test(test_upload_id_redacted),
		cmocka_unit_test(test_log_sink_escapes),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
