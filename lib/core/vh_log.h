#ifndef VH_LOG_H
#define VH_LOG_H
/* Logging through a sink that the program installs; lib/ never prints. */
#include <stdarg.h>

enum vh_log_level {
	VH_LOG_ERROR = 0,
	VH_LOG_WARN,
	VH_LOG_INFO,
	VH_LOG_DEBUG,
};

/* How the daemon's stderr lines look: "time level message", or one JSON
 * object per line for log collectors (config key log_format). */
enum vh_log_format {
	VH_LOG_TEXT = 0,
	VH_LOG_JSON,
};

/* Receives one formatted line, without a trailing newline. */
typedef void (*vh_log_sink)(enum vh_log_level, const char *line, void *arg);

void	vh_log_set_sink(vh_log_sink, void *arg);
void	vh_log_set_level(enum vh_log_level);
enum vh_log_level vh_log_get_level(void);
int	vh_log_level_parse(const char *, enum vh_log_level *)
	    __attribute__((warn_unused_result));
const char *vh_log_level_name(enum vh_log_level);

int	vh_log_format_parse(const char *, enum vh_log_format *)
	    __attribute__((warn_unused_result));
const char *vh_log_format_name(enum vh_log_format);

/* Routes libevent's own messages into the sink. */
void	vh_log_capture_libevent(void);

/* A sink that writes "time level message" lines to stderr. */
void	vh_log_stderr_sink(enum vh_log_level, const char *, void *);
/*
 * A sink that writes one JSON object per line to stderr:
 * {"time":"…Z","level":"info","request_id":"…","message":"…"}; the
 * request id is taken from a leading "req=ID " (and left out when there is
 * none). Bytes that are not UTF-8 become U+FFFD.
 */
void	vh_log_json_sink(enum vh_log_level, const char *, void *);

void	vh_log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vh_log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vh_log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vh_log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vh_log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vh_fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
