/*
 * verhaalctl user add|passwd|disable|enable|list. A password comes from
 * stdin: typed twice without echo at a terminal, else the first line of
 * the input (for scripts: `printf '%s\n' "$pw" | verhaalctl user add …`).
 * A new password or a disabled account ends the account's sessions; a
 * disabled account's tokens stay but are refused until it is enabled.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl.h"
#include "vh_unused.h"
#include "vh_audit.h"
#include "vh_auth.h"
#include "vh_db.h"
#include "vh_password.h"

/* An audit row for an account change made here (ctl_audit_row). */
static void
audit(struct ctl *c, const char *action, const char *object_type,
    const char *id)
{
	ctl_audit_row(c, action, object_type, id, NULL);
}

/* Reads one line into buf without its newline; false at end of input. */
static bool
read_line(const char *prompt, char *buf, size_t len, bool tty)
{
	struct termios	 old, noecho;
	bool		 ok;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	}
	ok = fgets(buf, (int)len, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (ok)
		buf[strcspn(buf, "\r\n")] = '\0';
	return (ok);
}

/* The new password's Argon2id hash; exits on a refused password. */
static char *
new_password(void)
{
	char		 a[VH_PASSWORD_MAX + 2], b[VH_PASSWORD_MAX + 2], *h;
	const char	*why;
	bool		 tty = isatty(STDIN_FILENO);

	if (!read_line("password: ", a, sizeof a, tty))
		ctl_die("no password on stdin");
	if (tty && (!read_line("again: ", b, sizeof b, tty) ||
	    strcmp(a, b) != 0))
		ctl_die("the passwords differ");
	if (vh_password_check(a, &why) != 0)
		ctl_die("%s", why);
	h = vh_password_hash(a);
	explicit_bzero(a, sizeof a);
	explicit_bzero(b, sizeof b);
	return (h);
}

static int
user_add(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*role = NULL, *name;
	unsigned	 bit;
	char		*h;
	PGresult	*r;
	int		 ch;

	optind = 0;	/* 0: glibc starts over, permuting again */
	while ((ch = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': role = optarg; break;
		default: ctl_die("usage: user add NAME --role ROLE");
		}
	}
	if (optind != argc - 1 || role == NULL)
		ctl_die("usage: user add NAME --role ROLE");
	name = argv[optind];
	if (vh_role_parse(role, &bit) != 0 || bit == VH_ROLE_RESIDENT)
		ctl_die("unknown role '%s': admin, moderator, analyst or "
		    "fieldworker", role);
	h = new_password();
	{
		/* An account made by `token create` has no password yet and
		 * gets one here; any other existing name is refused. */
		const char *p[3] = { name, role, h };

		r = ctl_query(c, "INSERT INTO account (name, role, password_hash,"
		    " password_changed_at) VALUES ($1, $2, $3, now())"
		    " ON CONFLICT (name) DO UPDATE SET password_hash = $3,"
		    " password_changed_at = now() WHERE account.password_hash"
		    " IS NULL AND account.role = $2 RETURNING id", 3, p);
	}
	free(h);
	if (PQntuples(r) != 1)
		ctl_die("user '%s' exists already", name);
	audit(c, "user_add", "account", name);
	printf("user %s (%s) added, id %s\n", name, role, PQgetvalue(r, 0, 0));
	PQclear(r);
	return (0);
}

static int
user_passwd(struct ctl *c, int argc, char **argv)
{
	char		*h;
	const char	*p[2] = { NULL, NULL };
	PGresult	*r;

	if (argc != 2)
		ctl_die("usage: user passwd NAME");
	p[0] = argv[1];
	h = new_password();
	p[1] = h;
	r = ctl_query(c, "WITH a AS (UPDATE account SET password_hash = $2,"
	    " password_changed_at = now() WHERE name = $1 RETURNING id),"
	    " s AS (DELETE FROM session WHERE account_id IN (SELECT id FROM a))"
	    " SELECT id FROM a", 2, p);
	free(h);
	if (PQntuples(r) != 1)
		ctl_die("no user '%s'", argv[1]);
	PQclear(r);
	audit(c, "user_passwd", "account", argv[1]);
	printf("password of %s changed; its sessions ended\n", argv[1]);
	return (0);
}

static int
user_disable(struct ctl *c, int argc, char **argv, bool disable)
{
	const char	*p[2] = { NULL, disable ? "t" : "f" };
	PGresult	*r;

	if (argc != 2)
		ctl_die("usage: user %s NAME", disable ? "disable" : "enable");
	p[0] = argv[1];
	r = ctl_query(c, "WITH a AS (UPDATE account SET disabled = $2::boolean"
	    " WHERE name = $1 RETURNING id, disabled),"
	    " s AS (DELETE FROM session WHERE account_id IN"
	    " (SELECT id FROM a WHERE disabled)) SELECT id FROM a", 2, p);
	if (PQntuples(r) != 1)
		ctl_die("no user '%s'", argv[1]);
	PQclear(r);
	audit(c, disable ? "user_disable" : "user_enable", "account", argv[1]);
	printf("user %s %s\n", argv[1], disable ? "disabled; its sessions "
	    "ended and its tokens refused" : "enabled");
	return (0);
}

static int
user_list(struct ctl *c, int argc VH_UNUSED, char **argv VH_UNUSED)
{
	PGresult *r = ctl_query(c, "SELECT a.name, a.role, CASE WHEN a.disabled THEN"
	    " 'disabled' ELSE 'active' END, CASE WHEN a.password_hash IS NULL"
	    " THEN 'no' ELSE 'yes' END, a.created_at::date,"
	    " coalesce(to_char(a.last_login_at, 'YYYY-MM-DD HH24:MI'), '-'),"
	    " (SELECT count(*) FROM session s WHERE s.account_id = a.id AND"
	    " s.expires_at > now()),"
	    " (SELECT count(*) FROM api_token t WHERE t.account_id = a.id AND"
	    " t.revoked_at IS NULL AND (t.expires_at IS NULL OR"
	    " t.expires_at > now()))"
	    " FROM account a ORDER BY a.name", 0, NULL);

	printf("%-20s %-12s %-9s %-8s %-11s %-17s %-8s %s\n", "name", "role",
	    "state", "password", "created", "last login", "sessions", "tokens");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%-20s %-12s %-9s %-8s %-11s %-17s %-8s %s\n",
		    PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
		    PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
		    PQgetvalue(r, i, 6), PQgetvalue(r, i, 7));
	PQclear(r);
	return (0);
}

int
ctl_user(struct ctl *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return (user_add(c, argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "passwd") == 0)
		return (user_passwd(c, argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "disable") == 0)
		return (user_disable(c, argc - 1, argv + 1, true));
	if (argc >= 2 && strcmp(argv[1], "enable") == 0)
		return (user_disable(c, argc - 1, argv + 1, false));
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return (user_list(c, argc - 1, argv + 1));
	ctl_die("usage: user add NAME --role ROLE | passwd NAME | disable NAME"
	    " | enable NAME | list");
}
