/*
 * Configuration keys. The table below is the only list of keys: the INI
 * parser (Debian's libinih), the VERHAAL_<KEY> environment overrides,
 * `verhaald -n`, SIGHUP reloads and config/verhaald.conf all follow it.
 * A load fills a fresh struct; the daemon validates it as a whole before
 * swapping reloadable values in.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "vh_config.h"
#include "vh_error.h"
#include "vh_xmalloc.h"

enum key_type { T_STRING, T_INT, T_BOOL, T_SIZE, T_DURATION, T_LOGLEVEL,
    T_LOGFORMAT };

struct key {
	const char	*name;
	enum key_type	 type;
	size_t		 off;
	const char	*def;
	bool		 reloadable;
	int64_t		 min, max;
	const char	*help;
};

#define OFF(f) offsetof(struct vh_config, f)
#define KIB 1024LL
#define MIB (1024LL * 1024)
#define GIB (1024LL * 1024 * 1024)
#define HOUR_MS (3600LL * 1000)

static const struct key keys[] = {
	{ "listen_address", T_STRING, OFF(listen_address), "127.0.0.1", false, 0, 0,
	  "address the HTTP server binds to" },
	{ "listen_port", T_INT, OFF(listen_port), "8080", false, 0, 65535,
	  "TCP port of the HTTP server (0 picks a free one)" },
	{ "listen_reuseport", T_BOOL, OFF(listen_reuseport), "false", false, 0, 0,
	  "bind with SO_REUSEPORT, so that several verhaald processes on one database and data_dir share the port (one per core)" },
	{ "database_url", T_STRING, OFF(database_url), "", false, 0, 0,
	  "libpq connection string or URL; empty means the private cluster of make run" },
	{ "data_dir", T_STRING, OFF(data_dir), "var/data", false, 0, 0,
	  "directory for the blob store and upload spool files" },
	{ "migrate_on_start", T_BOOL, OFF(migrate_on_start), "true", false, 0, 0,
	  "apply pending schema migrations when verhaald starts" },
	{ "log_level", T_LOGLEVEL, OFF(log_level), "info", true, 0, 0,
	  "error, warn, info or debug" },
	{ "log_format", T_LOGFORMAT, OFF(log_format), "text", false, 0, 0,
	  "text (time level message) or json (one object per line: time, level, request_id, message)" },
	{ "workers", T_INT, OFF(workers), "16", false, 1, 256,
	  "threads for blocking work (fsync, database, libmagic)" },
	{ "max_connections", T_INT, OFF(max_connections), "1024", true, 1, 1000000,
	  "open client connections; further clients get 503" },
	{ "max_connections_per_address", T_INT, OFF(max_connections_per_address), "64", true, 0, 1000000,
	  "open connections from one client address (IPv6: one /64); further ones get 503; 0 is no limit (raise it behind a reverse proxy)" },
	{ "max_header_size", T_SIZE, OFF(max_header_size), "16k", true, 1024, 1 * MIB,
	  "largest request head (request line and headers); larger gets 431" },
	{ "max_uri_length", T_SIZE, OFF(max_uri_length), "8k", true, 64, 1 * MIB,
	  "longest request target; longer gets 414" },
	{ "max_upload_size", T_SIZE, OFF(max_upload_size), "2G", true, 1, INT64_MAX,
	  "largest request body or tus upload; larger gets 413" },
	{ "header_timeout", T_DURATION, OFF(header_timeout), "15s", true, 100, 3600 * 1000,
	  "time a client has to send a whole request head; then 408" },
	{ "idle_timeout", T_DURATION, OFF(idle_timeout), "60s", true, 100, 3600 * 1000,
	  "keep-alive connections idle this long are closed" },
	{ "body_timeout", T_DURATION, OFF(body_timeout), "30s", true, 100, 3600 * 1000,
	  "a body that sends nothing for this long gets 408" },
	{ "body_min_rate", T_SIZE, OFF(body_min_rate), "256", true, 0, 1 * GIB,
	  "bytes per second a body must average over 20 s windows; slower gets 408" },
	{ "shutdown_timeout", T_DURATION, OFF(shutdown_timeout), "30s", false, 0, 3600 * 1000,
	  "on SIGTERM, how long in-flight requests may take to finish" },
	{ "db_timeout", T_DURATION, OFF(db_timeout), "5s", true, 100, 600 * 1000,
	  "connect timeout for database connections and readiness probes" },
	{ "upload_expiry", T_DURATION, OFF(upload_expiry), "24h", true, 1000, 365 * 24 * HOUR_MS,
	  "unfinished tus uploads are removed after this long without a PATCH" },
	{ "min_free_space", T_SIZE, OFF(min_free_space), "256M", true, 0, INT64_MAX,
	  "free space kept in data_dir: below it /readyz is not ready and uploads that would not fit get 507" },
	{ "litter_age", T_DURATION, OFF(litter_age), "2m", true, 1000, 24 * HOUR_MS,
	  "files a crash left in data_dir (no row names them, no live process holds them) are removed once this old" },
	{ "resident_upload_rate", T_INT, OFF(resident_upload_rate), "30", true, 1, 1000000,
	  "uploads per client address per hour through a collection's upload link" },
	{ "session_lifetime", T_DURATION, OFF(session_lifetime), "12h", true, 60 * 1000, 30 * 24 * HOUR_MS,
	  "a login session ends this long after it began" },
	{ "session_idle_timeout", T_DURATION, OFF(session_idle_timeout), "2h", true, 60 * 1000, 30 * 24 * HOUR_MS,
	  "a login session unused for this long ends" },
	{ "login_max_failures", T_INT, OFF(login_max_failures), "5", true, 1, 1000000,
	  "login attempts per account name per login_window; more get 429" },
	{ "login_max_failures_address", T_INT, OFF(login_max_failures_address), "20", true, 1, 1000000,
	  "failed login attempts per client address (IPv6 /64) per login_window; more get 429" },
	{ "login_window", T_DURATION, OFF(login_window), "15m", true, 1000, 24 * HOUR_MS,
	  "the window in which login attempts are counted" },
	{ "trust_proxy_tls", T_BOOL, OFF(trust_proxy_tls), "false", true, 0, 0,
	  "trust X-Forwarded-Proto: https from the reverse proxy and mark the session cookie Secure" },
	{ "trusted_proxies", T_STRING, OFF(trusted_proxies), "", false, 0, 0,
	  "reverse proxies (addresses or CIDR blocks, comma-separated) believed about X-Forwarded-For" },
	{ "metrics_listen", T_STRING, OFF(metrics_listen), "127.0.0.1:9108", false, 0, 0,
	  "address:port of the Prometheus /metrics listener; empty disables it" },
	{ "media_runners", T_INT, OFF(media_runners), "2", false, 0, 256,
	  "media job runner threads (classify, transcode, photos); 0 runs none" },
	{ "job_max_attempts", T_INT, OFF(job_max_attempts), "5", false, 1, 100,
	  "tries of a media job before it is marked failed" },
	{ "job_retry_delay", T_DURATION, OFF(job_retry_delay), "5s", false, 10, 3600 * 1000,
	  "wait before a failed job's second attempt; doubles each time, at most 1 h" },
	{ "job_lease", T_DURATION, OFF(job_lease), "60s", false, 1000, 3600 * 1000,
	  "a running job's lease; renewed while it runs, reclaimed when it lapses" },
	{ "job_poll_interval", T_DURATION, OFF(job_poll_interval), "30s", false, 100, 3600 * 1000,
	  "runners look for due jobs this often even without a notification" },
	{ "resident_max_recording", T_DURATION, OFF(resident_max_recording),
	  "10m", true, 10 * 1000, 3 * HOUR_MS,
	  "the longest recording the resident's page makes; it warns a minute before" },
	{ "retention_story_analysis_only", T_DURATION, OFF(retention_story_analysis_only),
	  "730d", true, 0, 36500 * 24 * HOUR_MS,
	  "stories with consent analysis_only are erased this long after arrival (0: never)" },
	{ "retention_story_quote_anonymised", T_DURATION, OFF(retention_story_quote_anonymised),
	  "730d", true, 0, 36500 * 24 * HOUR_MS,
	  "stories with consent quote_anonymised are erased this long after arrival" },
	{ "retention_story_audio_to_staff", T_DURATION, OFF(retention_story_audio_to_staff),
	  "730d", true, 0, 36500 * 24 * HOUR_MS,
	  "stories with consent audio_to_staff are erased this long after arrival" },
	{ "retention_story_publish", T_DURATION, OFF(retention_story_publish),
	  "1825d", true, 0, 36500 * 24 * HOUR_MS,
	  "stories with consent publish are erased this long after arrival" },
	{ "retention_story_rejected", T_DURATION, OFF(retention_story_rejected),
	  "90d", true, 0, 36500 * 24 * HOUR_MS,
	  "rejected stories, whatever their consent, are erased this long after arrival" },
	{ "audit_retention", T_DURATION, OFF(audit_retention),
	  "730d", true, 0, 36500 * 24 * HOUR_MS,
	  "audit rows are kept this long, then trimmed by the purge (0: forever)" },
	{ "retention_visit", T_DURATION, OFF(retention_visit),
	  "1825d", true, 0, 36500 * 24 * HOUR_MS,
	  "field workers' visit notes are erased this long after arrival" },
	{ "retention_purge_interval", T_DURATION, OFF(retention_purge_interval),
	  "24h", true, 1000, 7 * 24 * HOUR_MS,
	  "how often verhaald erases entries past their retention period" },
	{ "web_root", T_STRING, OFF(web_root), "build/web", false, 0, 0,
	  "folder of the built web app (make writes $(BUILD)/web), served at /; empty serves no pages" },
	{ "small_count_k", T_INT, OFF(small_count_k), "5", true, 1, 1000,
	  "counts below this (but above 0) are shown as \"<k\" in facets, dossiers and exports" },
	{ "review_visits", T_BOOL, OFF(review_visits), "true", true, 0, 0,
	  "field workers' visits wait in the moderators' queue like stories; false releases them to analysts on arrival" },
	{ "odk_public_url", T_STRING, OFF(odk_public_url), "", true, 0, 0,
	  "the URL phones reach verhaal at (https://verhaal.example.nl); ODK Collect settings name it. Empty: taken from the request" },
	{ "odk_form_closed", T_BOOL, OFF(odk_form_closed), "false", true, 0, 0,
	  "the werkbezoek form takes no more submissions (409) and leaves the form list" },
	{ "keep_location", T_BOOL, OFF(keep_location), "false", true, 0, 0,
	  "keep the GPS point an entry was placed by (lat/lon, tus metadata, an ODK geopoint); otherwise only the buurt it falls in is kept" },
	{ "odk_max_submission_size", T_SIZE, OFF(odk_max_submission_size), "100M", true, 1024, INT64_MAX,
	  "largest OpenRosa submission request (X-OpenRosa-Accept-Content-Length); larger gets 413" },
};
#define NKEYS (sizeof keys / sizeof keys[0])

/*
 * Old names still read, in files and as VERHAAL_<OLD> variables, with a
 * warning each time: a deployment keeps working while its file is
 * brought up to date. Nothing lists or prints them otherwise.
 */
static const struct {
	const char	*old, *now;
} aliases[] = {
	/* Coordinates were first kept only for ODK submissions. */
	{ "odk_keep_location", "keep_location" },
};
#define NALIASES (sizeof aliases / sizeof aliases[0])

static const struct key *
find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (&keys[i]);
	return (NULL);
}

int
vh_parse_size(const char *s, int64_t *out)
{
	char		*end;
	long long	 v, mult = 1;

	if (!isdigit((unsigned char)*s))
		return (VH_EINVAL);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return (VH_EINVAL);
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K': mult = KIB; end++; break;
	case 'm': case 'M': mult = MIB; end++; break;
	case 'g': case 'G': mult = GIB; end++; break;
	default:
		return (VH_EINVAL);
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > INT64_MAX / mult)
		return (VH_EINVAL);
	*out = v * mult;
	return (0);
}

int
vh_parse_duration_ms(const char *s, int64_t *out)
{
	char		*end;
	long long	 v, mult = 1000;

	if (!isdigit((unsigned char)*s))
		return (VH_EINVAL);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return (VH_EINVAL);
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mult = HOUR_MS;
	else if (strcmp(end, "d") == 0)
		mult = 24 * HOUR_MS;
	else
		return (VH_EINVAL);
	if (v > INT64_MAX / mult)
		return (VH_EINVAL);
	*out = v * mult;
	return (0);
}

static int
parse_bool(const char *s, bool *out)
{
	static const char *yes[] = { "true", "yes", "on", "1" };
	static const char *no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return (0);
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return (0);
		}
	}
	return (VH_EINVAL);
}

/* Parses value for k into cfg; on failure *why says what was expected. */
static int
set_key(struct vh_config *cfg, const struct key *k, const char *value,
    const char **why)
{
	void	*p = (char *)cfg + k->off;
	int64_t	 n = 0;
	char	*end;
	bool	 b;
	enum vh_log_level l;
	enum vh_log_format f;

	switch (k->type) {
	case T_STRING:
		free(*(char **)p);
		*(char **)p = vh_xstrdup(value);
		return (0);
	case T_BOOL:
		if (parse_bool(value, &b) != 0) {
			*why = "expected true or false";
			return (VH_EINVAL);
		}
		*(bool *)p = b;
		return (0);
	case T_LOGLEVEL:
		if (vh_log_level_parse(value, &l) != 0) {
			*why = "expected error, warn, info or debug";
			return (VH_EINVAL);
		}
		*(enum vh_log_level *)p = l;
		return (0);
	case T_LOGFORMAT:
		if (vh_log_format_parse(value, &f) != 0) {
			*why = "expected text or json";
			return (VH_EINVAL);
		}
		*(enum vh_log_format *)p = f;
		return (0);
	case T_INT:
		errno = 0;
		n = strtoll(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno != 0) {
			*why = "expected a whole number";
			return (VH_EINVAL);
		}
		break;
	case T_SIZE:
		if (vh_parse_size(value, &n) != 0) {
			*why = "expected a size such as 512, 16k, 2M or 1G";
			return (VH_EINVAL);
		}
		break;
	case T_DURATION:
		if (vh_parse_duration_ms(value, &n) != 0) {
			*why = "expected a duration such as 500ms, 15s, 2m, 24h or 7d";
			return (VH_EINVAL);
		}
		break;
	}
	if (n < k->min || n > k->max) {
		*why = "out of range";
		return (VH_EINVAL);
	}
	*(int64_t *)p = n;
	return (0);
}

static char *
format_key(const struct vh_config *cfg, const struct key *k)
{
	const void *p = (const char *)cfg + k->off;

	switch (k->type) {
	case T_STRING:
		return (vh_xstrdup(*(char *const *)p));
	case T_BOOL:
		return (vh_xstrdup(*(const bool *)p ? "true" : "false"));
	case T_LOGLEVEL:
		return (vh_xstrdup(vh_log_level_name(*(const enum vh_log_level *)p)));
	case T_LOGFORMAT:
		return (vh_xstrdup(vh_log_format_name(*(const enum vh_log_format *)p)));
	case T_DURATION:
		return (vh_xasprintf("%" PRId64 "ms", *(const int64_t *)p));
	default:
		return (vh_xasprintf("%" PRId64, *(const int64_t *)p));
	}
}

struct vh_config *
vh_config_new(void)
{
	struct vh_config	*cfg;
	const char		*why;

	cfg = vh_xcalloc(1, sizeof *cfg);
	cfg->refs = 1;
	for (size_t i = 0; i < NKEYS; i++) {
		if (set_key(cfg, &keys[i], keys[i].def, &why) != 0)
			vh_fatal("config default of %s: %s", keys[i].name, why);
	}
	return (cfg);
}

void
vh_config_free(struct vh_config *cfg)
{
	/* Release pairs with the acquire below: the last one to let go
	 * sees every write the others made before theirs. */
	if (cfg == NULL || __atomic_sub_fetch(&cfg->refs, 1,
	    __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == T_STRING)
			free(*(char **)((char *)cfg + keys[i].off));
	free(cfg);
}

struct vh_config *
vh_config_dup(const struct vh_config *src)
{
	struct vh_config *cfg;

	cfg = vh_xmalloc(sizeof *cfg);
	*cfg = *src;
	cfg->refs = 1;
	for (size_t i = 0; i < NKEYS; i++) {
		char **p = (char **)((char *)cfg + keys[i].off);

		if (keys[i].type == T_STRING)
			*p = vh_xstrdup(*p);
	}
	return (cfg);
}

const struct vh_config *
vh_config_ref(const struct vh_config *cfg)
{
	/* The count is the one field a shared snapshot still changes. */
	if (cfg != NULL)
		__atomic_add_fetch(&((struct vh_config *)cfg)->refs, 1,
		    __ATOMIC_RELAXED);
	return (cfg);
}

void
vh_config_unref(const struct vh_config *cfg)
{
	vh_config_free((struct vh_config *)cfg);
}

int
vh_config_set(struct vh_config *cfg, const char *name, const char *value,
    char **err)
{
	const struct key	*k;
	const char		*why = NULL;

	if ((k = find_key(name)) == NULL) {
		for (size_t i = 0; i < NALIASES && k == NULL; i++) {
			if (strcmp(aliases[i].old, name) != 0)
				continue;
			vh_log_warnx("config: %s is deprecated; it is read as "
			    "%s, write that instead", name, aliases[i].now);
			k = find_key(aliases[i].now);
		}
	}
	if (k == NULL) {
		if (err != NULL)
			*err = vh_xasprintf("unknown key '%s'", name);
		return (VH_EINVAL);
	}
	if (set_key(cfg, k, value, &why) != 0) {
		if (err != NULL)
			*err = vh_xasprintf("bad value '%s' for %s: %s", value,
			    name, why);
		return (VH_EINVAL);
	}
	return (0);
}

char *
vh_config_get(const struct vh_config *cfg, const char *name)
{
	const struct key *k;

	if ((k = find_key(name)) == NULL)
		return (NULL);
	return (format_key(cfg, k));
}

struct ini_state {
	struct vh_config	*cfg;
	const char		*next;		/* unread text */
	int			 line;		/* lines handed to libinih */
	int			 error_line;	/* line of first_error */
	char			*first_error;	/* message of the first bad key */
};

/*
 * fgets over a string. libinih reports only the first bad line, so the
 * reader counts lines to tell a bad key from a later syntax error.
 */
static char *
read_line(char *buf, int size, void *stream)
{
	struct ini_state	*st = stream;
	size_t			 n = 0;

	if (*st->next == '\0' || size < 2)
		return (NULL);
	while (st->next[n] != '\0' && n < (size_t)size - 1) {
		if (st->next[n++] == '\n')
			break;
	}
	memcpy(buf, st->next, n);
	buf[n] = '\0';
	st->next += n;
	st->line++;
	return (buf);
}

static int
on_key(void *user, const char *section, const char *name,
    const char *value)
{
	struct ini_state	*st = user;
	char			*msg = NULL;

	if (section[0] != '\0')
		msg = vh_xasprintf("section [%s] is not used; keys stand alone",
		    section);
	else if (vh_config_set(st->cfg, name, value, &msg) == 0)
		return (1);
	if (st->first_error == NULL) {
		st->first_error = msg;
		st->error_line = st->line;
	} else
		free(msg);
	return (0);
}

int
vh_config_load_string(struct vh_config *cfg, const char *name,
    const char *text, char **err)
{
	struct ini_state	st = { cfg, text, 0, 0, NULL };
	int			rc;

	rc = ini_parse_stream(read_line, &st, on_key, &st);
	if (rc == 0)
		return (0);
	if (err != NULL) {
		if (rc < 0)
			*err = vh_xasprintf("%s: out of memory", name);
		else if (st.first_error != NULL && st.error_line == rc)
			*err = vh_xasprintf("%s:%d: %s", name, rc,
			    st.first_error);
		else
			*err = vh_xasprintf("%s:%d: syntax error: expected "
			    "'key = value', a comment or a blank line", name, rc);
	}
	free(st.first_error);
	return (VH_EINVAL);
}

int
vh_config_load_file(struct vh_config *cfg, const char *path, char **err)
{
	FILE	*f;
	char	*text;
	size_t	 n;
	int	 rc;

	if ((f = fopen(path, "r")) == NULL) {
		if (err != NULL)
			*err = vh_xasprintf("%s: cannot open: %s", path,
			    strerror(errno));
		return (VH_EIO);
	}
	/* A config file is small; anything past 1 MiB is a mistake. */
	text = vh_xmalloc(MIB + 1);
	n = fread(text, 1, MIB + 1, f);
	if (ferror(f) || n > MIB) {
		if (err != NULL)
			*err = vh_xasprintf("%s: %s", path, ferror(f) ?
			    "read error" : "larger than 1 MiB");
		fclose(f);
		free(text);
		return (VH_EINVAL);
	}
	fclose(f);
	text[n] = '\0';
	if (memchr(text, '\0', n) != NULL) {
		if (err != NULL)
			*err = vh_xasprintf("%s: contains a NUL byte", path);
		rc = VH_EINVAL;
	} else
		rc = vh_config_load_string(cfg, path, text, err);
	free(text);
	return (rc);
}

int
vh_config_apply_env(struct vh_config *cfg, char *const *envp, char **err)
{
	char		 var[128], *msg = NULL;
	const char	*name;
	size_t		 n;

	/* Old names first, so that the current name wins when both are
	 * set. */
	for (size_t i = 0; i < NALIASES + NKEYS; i++) {
		name = i < NALIASES ? aliases[i].old : keys[i - NALIASES].name;
		snprintf(var, sizeof var, "VERHAAL_%s", name);
		for (char *c = var; *c != '\0'; c++)
			*c = (char)toupper((unsigned char)*c);
		n = strlen(var);
		for (char *const *e = envp; *e != NULL; e++) {
			if (strncmp(*e, var, n) != 0 || (*e)[n] != '=')
				continue;
			if (vh_config_set(cfg, name, *e + n + 1,
			    &msg) != 0) {
				if (err != NULL)
					*err = vh_xasprintf("%s: %s", var, msg);
				free(msg);
				return (VH_EINVAL);
			}
		}
	}
	return (0);
}

struct vh_config *
vh_config_load(const char *path, char *const *envp, char **err)
{
	struct vh_config *cfg = vh_config_new();

	if ((path != NULL && vh_config_load_file(cfg, path, err) != 0) ||
	    vh_config_apply_env(cfg, envp, err) != 0) {
		vh_config_free(cfg);
		return (NULL);
	}
	return (cfg);
}

void
vh_config_reload(struct vh_config *cur, const struct vh_config *next)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		char	*a = format_key(cur, k), *b = format_key(next, k);
		const char *why;

		if (strcmp(a, b) != 0) {
			if (!k->reloadable)
				vh_log_warnx("config: %s changed to %s; takes "
				    "effect after a restart", k->name, b);
			else if (set_key(cur, k, b, &why) == 0)
				vh_log_info("config: %s = %s", k->name, b);
		}
		free(a);
		free(b);
	}
}

struct vh_config *
vh_config_reloaded(const struct vh_config *cur, const struct vh_config *next)
{
	struct vh_config *cfg = vh_config_dup(cur);

	vh_config_reload(cfg, next);
	return (cfg);
}

char *
vh_config_diff(const struct vh_config *a, const struct vh_config *b)
{
	char	*out = NULL, *tmp;

	for (size_t i = 0; i < NKEYS; i++) {
		char *x = format_key(a, &keys[i]), *y = format_key(b, &keys[i]);

		/* Names only: a value may be a secret (database_url). */
		if (strcmp(x, y) != 0) {
			tmp = out == NULL ? vh_xstrdup(keys[i].name) :
			    vh_xasprintf("%s,%s", out, keys[i].name);
			free(out);
			out = tmp;
		}
		free(x);
		free(y);
	}
	return (out);
}

void
vh_config_each_key(vh_config_key_cb cb, void *arg)
{
	for (size_t i = 0; i < NKEYS; i++)
		cb(keys[i].name, keys[i].def, keys[i].help, keys[i].reloadable,
		    arg);
}
