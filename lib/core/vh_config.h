#ifndef VH_CONFIG_H
#define VH_CONFIG_H
/* verhaald's configuration: one table of keys (vh_config.c), an INI file,
 * and VERHAAL_<KEY> environment overrides. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vh_log.h"

struct vh_config {
	char		*listen_address;
	int64_t		 listen_port;
	bool		 listen_reuseport;	/* SO_REUSEPORT: processes share it */
	char		*database_url;
	char		*data_dir;
	bool		 migrate_on_start;
	enum vh_log_level log_level;
	enum vh_log_format log_format;
	int64_t		 workers;
	int64_t		 max_connections;
	int64_t		 max_connections_per_address;
	int64_t		 max_header_size;
	int64_t		 max_uri_length;
	int64_t		 max_upload_size;
	int64_t		 header_timeout;	/* durations in milliseconds */
	int64_t		 idle_timeout;
	int64_t		 body_timeout;
	int64_t		 body_min_rate;		/* bytes per second */
	int64_t		 shutdown_timeout;
	int64_t		 db_timeout;
	int64_t		 upload_expiry;
	int64_t		 min_free_space;	/* bytes kept free in data_dir */
	int64_t		 litter_age;		/* ms before crash litter goes */
	int64_t		 resident_upload_rate;	/* uploads per address per hour */
	int64_t		 session_lifetime;
	int64_t		 session_idle_timeout;
	int64_t		 login_max_failures;	/* per account name per window */
	int64_t		 login_max_failures_address;
	int64_t		 login_window;
	bool		 trust_proxy_tls;
	char		*trusted_proxies;	/* addresses, CIDR blocks */
	char		*metrics_listen;	/* "addr:port"; "" disables */
	int64_t		 media_runners;
	int64_t		 job_max_attempts;
	int64_t		 job_retry_delay;
	int64_t		 job_lease;
	int64_t		 job_poll_interval;
	/* retention periods in milliseconds; 0 keeps forever */
	int64_t		 resident_max_recording;	/* ms, the page's limit */
	int64_t		 retention_story_analysis_only;
	int64_t		 retention_story_quote_anonymised;
	int64_t		 retention_story_audio_to_staff;
	int64_t		 retention_story_publish;
	int64_t		 retention_story_rejected;
	int64_t		 retention_visit;
	int64_t		 retention_purge_interval;
	int64_t		 audit_retention;	/* ms; 0 keeps audit rows forever */
	char		*web_root;		/* the built web app */
	int64_t		 small_count_k;		/* smallest count shown exactly */
	bool		 review_visits;		/* visits wait for a moderator */
	bool		 keep_location;		/* store lat/lon, not only the buurt */
	char		*odk_public_url;	/* "": from the request */
	bool		 odk_form_closed;
	int64_t		 odk_max_submission_size;

	/* Private: the references to this config (vh_config_ref). */
	int		 refs;
};

/*
 * A config is built (new, load, dup, then set and validated) by one
 * owner, and once handed to others it is an immutable snapshot: a reload
 * builds a new one (vh_config_reloaded) and swaps it in, and whoever
 * still reads the old one holds a reference to it.
 */

/* A configuration holding every key's default, with one reference. */
struct vh_config *vh_config_new(void);
/* Drops one reference; the last one frees. NULL is a no-op. Any thread. */
void	vh_config_free(struct vh_config *);
/* Another reference to cfg (NULL: NULL), for a job or a request that
 * outlives the caller's own; drop it with vh_config_unref. Any thread. */
const struct vh_config *vh_config_ref(const struct vh_config *);
void	vh_config_unref(const struct vh_config *);
/* A deep copy with one reference of its own; caller frees. */
struct vh_config *vh_config_dup(const struct vh_config *);

/*
 * Reads an INI file into cfg. On error returns VH_EINVAL and, if err is not
 * NULL, sets *err to "FILE:LINE: message" (caller frees). Keys not in the
 * file keep their current value.
 */
int	vh_config_load_file(struct vh_config *, const char *path, char **err)
	    __attribute__((warn_unused_result));
/* The same for a string, with name standing in for the file name. */
int	vh_config_load_string(struct vh_config *, const char *name,
	    const char *text, char **err) __attribute__((warn_unused_result));

/*
 * Applies VERHAAL_<KEY>=value overrides from envp (borrowed, NULL-ended,
 * as main's environ). Variables naming no key are ignored.
 */
int	vh_config_apply_env(struct vh_config *, char *const *envp, char **err)
	    __attribute__((warn_unused_result));

/* Defaults, then the file (if path is not NULL), then the environment.
 * NULL with *err set on the first error. Caller frees. */
struct vh_config *vh_config_load(const char *path, char *const *envp,
	    char **err);

/* Sets one key from text; *err gets "key: message" on failure. */
int	vh_config_set(struct vh_config *, const char *key, const char *value,
	    char **err) __attribute__((warn_unused_result));

/* The value of key as text (caller frees), or NULL for an unknown key. */
char	*vh_config_get(const struct vh_config *, const char *key);

/*
 * Copies the reloadable keys of next into cur and logs each key that
 * changed; keys that need a restart are logged when they differ.
 */
void	vh_config_reload(struct vh_config *cur, const struct vh_config *next);
/* A new snapshot: cur with the reloadable keys of next, logged as
 * vh_config_reload does; cur is left as it was. Caller frees. */
struct vh_config *vh_config_reloaded(const struct vh_config *cur,
	    const struct vh_config *next);
/* The names of the keys whose values differ, comma-separated (caller
 * frees), or NULL when none do. */
char	*vh_config_diff(const struct vh_config *, const struct vh_config *);

/* Walks the key table: name, default as text, help; for docs and tests. */
typedef void (*vh_config_key_cb)(const char *name, const char *def,
	    const char *help, bool reloadable, void *arg);
void	vh_config_each_key(vh_config_key_cb, void *);

/* Parsers shared with other modules: "16k", "2M" and "15s", "2h". */
int	vh_parse_size(const char *, int64_t *) __attribute__((warn_unused_result));
int	vh_parse_duration_ms(const char *, int64_t *)
	    __attribute__((warn_unused_result));

#endif
