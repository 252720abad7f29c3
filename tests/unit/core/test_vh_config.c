/* Config parser: defaults, a good file, env overrides, and every kind of
 * bad line reported with its file and line number. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vh_config.h"
#include "vh_unused.h"
#include "vh_error.h"

static void
test_defaults(void **state VH_UNUSED)
{
	struct vh_config *cfg = vh_config_new();

	assert_string_equal(cfg->listen_address, "127.0.0.1");
	assert_int_equal(cfg->listen_port, 8080);
	assert_int_equal(cfg->max_header_size, 16 * 1024);
	assert_int_equal(cfg->header_timeout, 15000);
	assert_true(cfg->migrate_on_start);
	assert_int_equal(cfg->log_level, VH_LOG_INFO);
	vh_config_free(cfg);
}

static void
test_good_file(void **state VH_UNUSED)
{
	struct vh_config *cfg = vh_config_new();
	char	*err = NULL;
	const char *text =
	    "# a comment\n"
	    "; another\n"
	    "\n"
	    "listen_port = 9090\n"
	    "listen_address=0.0.0.0\n"
	    "max_upload_size = 40M\n"
	    "idle_timeout = 2m\n"
	    "migrate_on_start = no\n"
	    "log_level = debug\n"
	    "database_url = host=/tmp dbname=x\n";

	assert_int_equal(vh_config_load_string(cfg, "good.conf", text, &err), 0);
	assert_null(err);
	assert_int_equal(cfg->listen_port, 9090);
	assert_string_equal(cfg->listen_address, "0.0.0.0");
	assert_int_equal(cfg->max_upload_size, 40 * 1024 * 1024);
	assert_int_equal(cfg->idle_timeout, 120000);
	assert_false(cfg->migrate_on_start);
	assert_int_equal(cfg->log_level, VH_LOG_DEBUG);
	assert_string_equal(cfg->database_url, "host=/tmp dbname=x");
	vh_config_free(cfg);
}

static void
expect_error(const char *text, const char *want)
{
	struct vh_config *cfg = vh_config_new();
	char	*err = NULL;

	assert_int_equal(vh_config_load_string(cfg, "bad.conf", text, &err),
	    VH_EINVAL);
	assert_non_null(err);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got '%s', want prefix '%s'", err, want);
	free(err);
	vh_config_free(cfg);
}

static void
test_unknown_key(void **state VH_UNUSED)
{
	expect_error("listen_port = 1\n\nlisten_prot = 2\n",
	    "bad.conf:3: unknown key 'listen_prot'");
}

static void
test_bad_values(void **state VH_UNUSED)
{
	expect_error("# x\nlisten_port = eighty\n", "bad.conf:2: bad value 'eighty' for listen_port");
	expect_error("listen_port = 70000\n", "bad.conf:1: bad value '70000' for listen_port: out of range");
	expect_error("\n\n\nmigrate_on_start = maybe\n", "bad.conf:4: bad value 'maybe'");
	expect_error("max_upload_size = 12X\n", "bad.conf:1: bad value '12X'");
	expect_error("idle_timeout = soon\n", "bad.conf:1: bad value 'soon'");
	expect_error("log_level = loud\n", "bad.conf:1: bad value 'loud'");
	expect_error("workers = 0\n", "bad.conf:1: bad value '0' for workers: out of range");
}

static void
test_syntax_errors(void **state VH_UNUSED)
{
	expect_error("listen_port = 1\nthis line has no equals sign\n",
	    "bad.conf:2: syntax error");
	expect_error("[unclosed\n", "bad.conf:1: syntax error");
	expect_error("\n[verhaald]\nlisten_port = 1\n",
	    "bad.conf:3: section [verhaald] is not used");
	/* A syntax error before a bad key is reported at its own line. */
	expect_error("junk\nlisten_prot = 2\n", "bad.conf:1: syntax error");
}

/* A key's old name is read as the new one, in files and the
 * environment; the new name wins when both are set. */
static void
test_deprecated_alias(void **state)
{
	struct vh_config *cfg = vh_config_new();
	char	*err = NULL, *v;
	char	 e0[] = "VERHAAL_ODK_KEEP_LOCATION=true";
	char	 e1[] = "VERHAAL_KEEP_LOCATION=false";
	char	*env[] = { e0, NULL }, *both[] = { e1, e0, NULL };

	(void)state;
	assert_false(cfg->keep_location);
	assert_int_equal(vh_config_load_string(cfg, "f",
	    "odk_keep_location = yes\n", &err), 0);
	assert_true(cfg->keep_location);
	/* Only the current name is a key of its own. */
	assert_null(vh_config_get(cfg, "odk_keep_location"));
	v = vh_config_get(cfg, "keep_location");
	assert_string_equal(v, "true");
	free(v);
	cfg->keep_location = false;
	assert_int_equal(vh_config_apply_env(cfg, env, &err), 0);
	assert_true(cfg->keep_location);
	assert_int_equal(vh_config_apply_env(cfg, both, &err), 0);
	assert_false(cfg->keep_location);
	assert_int_equal(vh_config_load_string(cfg, "f",
	    "odk_keep_location = maybe\n", &err), VH_EINVAL);
	assert_non_null(strstr(err, "odk_keep_location"));
	free(err);
	vh_config_free(cfg);
}

static void
test_env_overrides(void **state VH_UNUSED)
{
	struct vh_config *cfg = vh_config_new();
	char	*err = NULL;
	char	 e0[] = "PATH=/bin", e1[] = "VERHAAL_LISTEN_PORT=1234",
		 e2[] = "VERHAAL_DATABASE_URL=postgresql:///x",
		 e3[] = "VERHAAL_SOMETHING_ELSE=ignored", b0[] = "VERHAAL_WORKERS=many";
	char	*env[] = { e0, e1, e2, e3, NULL };
	char	*bad[] = { b0, NULL };

	assert_int_equal(vh_config_load_string(cfg, "f", "listen_port = 9\n",
	    &err), 0);
	assert_int_equal(vh_config_apply_env(cfg, env, &err), 0);
	assert_int_equal(cfg->listen_port, 1234);
	assert_string_equal(cfg->database_url, "postgresql:///x");
	assert_int_equal(vh_config_apply_env(cfg, bad, &err), VH_EINVAL);
	assert_non_null(strstr(err, "VERHAAL_WORKERS"));
	free(err);
	vh_config_free(cfg);
}

static void
test_reload_only_reloadable(void **state VH_UNUSED)
{
	struct vh_config *cur = vh_config_new(), *next = vh_config_new();
	char	*err = NULL;

	assert_int_equal(vh_config_load_string(next, "f",
	    "log_level = warn\nlisten_port = 1\nmax_connections = 7\n", &err), 0);
	vh_config_reload(cur, next);
	assert_int_equal(cur->log_level, VH_LOG_WARN);
	assert_int_equal(cur->max_connections, 7);
	assert_int_equal(cur->listen_port, 8080);
	vh_config_free(cur);
	vh_config_free(next);
}

/* A reload makes a new snapshot and leaves the running one as it was: a
 * request holding it still reads its values, until it lets go. */
static void
test_reloaded_snapshot(void **state VH_UNUSED)
{
	struct vh_config	*cur = vh_config_new(), *next = vh_config_new();
	struct vh_config	*snap;
	const struct vh_config	*held;
	char			*err = NULL;

	assert_int_equal(vh_config_load_string(next, "f",
	    "max_upload_size = 1M\nodk_public_url = https://a.example\n"
	    "listen_port = 1\n", &err), 0);
	held = vh_config_ref(cur);
	assert_ptr_equal(held, cur);
	snap = vh_config_reloaded(cur, next);
	assert_ptr_not_equal(snap, cur);
	assert_int_equal(snap->max_upload_size, 1024 * 1024);
	assert_string_equal(snap->odk_public_url, "https://a.example");
	assert_int_equal(snap->listen_port, 8080);
	/* The old one is untouched. */
	assert_int_equal(cur->max_upload_size, 2LL * 1024 * 1024 * 1024);
	assert_string_equal(cur->odk_public_url, "");
	vh_config_free(cur);		/* the owner lets go ... */
	assert_string_equal(held->odk_public_url, "");	/* ... a holder reads on */
	vh_config_unref(held);		/* the last one frees (ASan checks) */
	assert_null(vh_config_ref(NULL));
	vh_config_unref(NULL);
	vh_config_free(snap);
	vh_config_free(next);
}

static void
test_sizes_durations(void **state VH_UNUSED)
{
	int64_t v;

	assert_int_equal(vh_parse_size("16k", &v), 0);
	assert_int_equal(v, 16384);
	assert_int_equal(vh_parse_size("2G", &v), 0);
	assert_int_equal(v, 2LL << 30);
	assert_int_not_equal(vh_parse_size("-1", &v), 0);
	assert_int_not_equal(vh_parse_size("99999999999999999999", &v), 0);
	assert_int_equal(vh_parse_duration_ms("250ms", &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(vh_parse_duration_ms("7d", &v), 0);
	assert_int_equal(v, 7LL * 86400 * 1000);
	assert_int_not_equal(vh_parse_duration_ms("1w", &v), 0);
}

/* The shipped config/verhaald.conf parses and lists every key. */
static void
key_in_file(const char *name, const char *def VH_UNUSED,
    const char *help VH_UNUSED, bool reloadable VH_UNUSED, void *arg)
{
	char pat[128];

	snprintf(pat, sizeof pat, "\n%s =", name);
	if (strstr(arg, pat) == NULL)
		fail_msg("config/verhaald.conf lacks key %s", name);
}

static void
test_shipped_file(void **state VH_UNUSED)
{
	struct vh_config *cfg = vh_config_new();
	char	*err = NULL, text[65536];
	FILE	*f = fopen("config/verhaald.conf", "r");
	size_t	 n;

	assert_non_null(f);
	text[0] = '\n';
	n = fread(text + 1, 1, sizeof text - 2, f);
	text[n + 1] = '\0';
	fclose(f);
	if (vh_config_load_file(cfg, "config/verhaald.conf", &err) != 0)
		fail_msg("%s", err);
	vh_config_each_key(key_in_file, text);
	vh_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_env_overrides),
		cmocka_unit_test(test_deprecated_alias),
		cmocka_unit_test(test_reload_only_reloadable),
		cmocka_unit_test(test_reloaded_snapshot),
		cmocka_unit_test(test_sizes_durations),
		cmocka_unit_test(test_shipped_file),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
