/* The log sink. Messages below the current level are dropped before they
 * are formatted; the rest go to whatever sink the program installed (stderr
 * by default). The level is an atomic so SIGHUP can change it while worker
 * threads log. Every line is escaped before any sink sees it: control
 * bytes and bytes that are not UTF-8 become \xNN, so nothing a client sent
 * (a path with a decoded CR LF, a header) can start a forged line or drive
 * a terminal. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "vh_log.h"
#include "vh_unused.h"
#include "vh_utf8.h"

static vh_log_sink	 sink = vh_log_stderr_sink;
static void		*sink_arg;
static atomic_int	 level = VH_LOG_INFO;

static const char *names[] = { "error", "warn", "info", "debug" };

void
vh_log_set_sink(vh_log_sink s, void *arg)
{
	sink = s != NULL ? s : vh_log_stderr_sink;
	sink_arg = arg;
}

void
vh_log_set_level(enum vh_log_level l)
{
	atomic_store(&level, (int)l);
}

enum vh_log_level
vh_log_get_level(void)
{
	return ((enum vh_log_level)atomic_load(&level));
}

const char *
vh_log_level_name(enum vh_log_level l)
{
	return ((unsigned)l < 4 ? names[l] : "?");
}

int
vh_log_level_parse(const char *s, enum vh_log_level *out)
{
	for (unsigned i = 0; i < 4; i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*out = (enum vh_log_level)i;
			return (0);
		}
	}
	return (-1);
}

void
vh_log_stderr_sink(enum vh_log_level l, const char *line, void *arg VH_UNUSED)
{
	struct timespec	ts;
	struct tm	tm;
	char		when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %-5s %s\n", when, ts.tv_nsec / 1000000,
	    vh_log_level_name(l), line);
}

#define LINE_MAX_IN	2048

/* The length of the well-formed UTF-8 sequence at s (at most n bytes),
 * or 0 when there is none. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t	len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;

	if (s[0] < 0xc2 || len > n || vh_utf8_valid(s, len) != len)
		return (0);
	return (len);
}

/* Copies in to out (4 * strlen(in) + 1 bytes) with unsafe bytes as \xNN. */
static void
escape(const char *in, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 len = strlen(in), i = 0, n;

	while (i < len) {
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			*out++ = (char)s[i++];
			continue;
		}
		if ((n = utf8_len(s + i, len - i)) > 0) {
			memcpy(out, s + i, n);
			out += n;
			i += n;
			continue;
		}
		*out++ = '\\';
		*out++ = 'x';
		*out++ = hex[s[i] >> 4];
		*out++ = hex[s[i] & 0xf];
		i++;
	}
	*out = '\0';
}

static const char *formats[] = { "text", "json" };

int
vh_log_format_parse(const char *s, enum vh_log_format *out)
{
	for (unsigned i = 0; i < 2; i++) {
		if (strcasecmp(s, formats[i]) == 0) {
			*out = (enum vh_log_format)i;
			return (0);
		}
	}
	return (-1);
}

const char *
vh_log_format_name(enum vh_log_format f)
{
	return ((unsigned)f < 2 ? formats[f] : "?");
}

/* s[0..n) as the inside of a JSON string into out, which has room for 6
 * bytes per input byte; returns the bytes written. */
static size_t
json_escape(char *out, const char *str, size_t n)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 o = 0, i = 0, len;

	while (i < n) {
		if (s[i] == '"' || s[i] == '\\') {
			out[o++] = '\\';
			out[o++] = (char)s[i++];
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			o += (size_t)sprintf(out + o, "\\u%04x", s[i++]);
		} else if (s[i] < 0x80) {
			out[o++] = (char)s[i++];
		} else if ((len = utf8_len(s + i, n - i)) == 0) {
			memcpy(out + o, "\\ufffd", 6);
			o += 6;
			i++;
		} else {
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
		}
	}
	return (o);
}

#define JSON_LINE_MAX	2048	/* what emit() formats at most */

void
vh_log_json_sink(enum vh_log_level l, const char *line, void *arg VH_UNUSED)
{
	char		 out[128 + 6 * (JSON_LINE_MAX + 64)], when[32];
	const char	*msg = line, *id = NULL;
	size_t		 n, idlen = 0, len;
	struct timespec	 ts;
	struct tm	 tm;

	/* Lines about one request start "req=ID " (vh_http_req_id). */
	if (strncmp(line, "req=", 4) == 0) {
		idlen = strcspn(line + 4, " ");
		if (idlen > 0 && idlen <= 64 && line[4 + idlen] == ' ') {
			id = line + 4;
			msg = id + idlen + 1;
		}
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	n = (size_t)snprintf(out, 128, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\"",
	    when, ts.tv_nsec / 1000000, vh_log_level_name(l));
	if (id != NULL) {
		memcpy(out + n, ",\"request_id\":\"", 15);
		n += 15;
		n += json_escape(out + n, id, idlen);
		out[n++] = '"';
	}
	memcpy(out + n, ",\"message\":\"", 12);
	n += 12;
	len = strlen(msg);
	n += json_escape(out + n, msg, len < JSON_LINE_MAX ? len : JSON_LINE_MAX);
	memcpy(out + n, "\"}\n", 3);
	n += 3;
	/* One write, so that lines of several threads do not interleave. */
	fwrite(out, 1, n, stderr);
}

static void
emit(enum vh_log_level l, int errnum, const char *fmt, va_list ap)
{
	char	buf[LINE_MAX_IN], safe[4 * LINE_MAX_IN];
	int	n;

	if ((int)l > atomic_load(&level))
		return;
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		return;
	if (errnum != 0 && (size_t)n < sizeof buf)
		snprintf(buf + n, sizeof buf - n, ": %s", strerror(errnum));
	escape(buf, safe);
	sink(l, safe, sink_arg);
}

#define VH_LOG_FN(name, lvl, witherr)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list	ap;						\
	int	saved = errno;					\
								\
	va_start(ap, fmt);					\
	emit(lvl, (witherr) ? saved : 0, fmt, ap);		\
	va_end(ap);						\
	errno = saved;						\
}

VH_LOG_FN(vh_log_warn, VH_LOG_WARN, 1)
VH_LOG_FN(vh_log_warnx, VH_LOG_WARN, 0)
VH_LOG_FN(vh_log_info, VH_LOG_INFO, 0)
VH_LOG_FN(vh_log_debug, VH_LOG_DEBUG, 0)
VH_LOG_FN(vh_log_error, VH_LOG_ERROR, 0)

void
vh_fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	emit(VH_LOG_ERROR, 0, fmt, ap);
	va_end(ap);
	abort();
}

static void
libevent_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		vh_log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		vh_log_info("libevent: %s", msg);
		break;
	default:
		vh_log_warnx("libevent: %s", msg);
		break;
	}
}

void
vh_log_capture_libevent(void)
{
	event_set_log_callback(libevent_cb);
}
