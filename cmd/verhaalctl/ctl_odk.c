/*
 * verhaalctl odk token add NAME | list | revoke ID: field workers' ODK
 * tokens. add prints the server URL ODK Collect is given (the token is
 * in its path) and Collect's settings payload, the text of the QR code
 * a phone scans (zlib-compressed JSON in base64); the secret is shown
 * only now and stored hashed.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "vh_odk.h"
#include "vh_xmalloc.h"

static int
token_add(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "project", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*url = NULL, *project = "verhaal";
	char		 secret[VH_SECRET_LEN], *err = NULL, *base, *server;
	char		*settings, idbuf[32], d[200];
	int64_t		 id;
	bool		 created;
	int		 ch;

	optind = 0;	/* 0: GNU getopt starts afresh (permutes NAME last) */
	while ((ch = getopt_long(argc, argv, "u:p:", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 'p': project = optarg; break;
		default: ctl_die("usage: odk token add NAME [--url URL] "
		    "[--project NAME]");
		}
	}
	if (optind + 1 != argc)
		ctl_die("usage: odk token add NAME [--url URL] [--project NAME]");
	if (url != NULL)
		base = vh_xstrdup(url);
	else if (c->cfg->odk_public_url[0] != '\0')
		base = vh_xstrdup(c->cfg->odk_public_url);
	else
		base = vh_xasprintf("http://%s:%lld", c->cfg->listen_address,
		    (long long)c->cfg->listen_port);
	if (vh_odk_token_add(ctl_db(c), argv[optind], &created, secret, &id,
	    &err) != 0)
		ctl_die("%s", err);
	if (created)
		ctl_audit_row(c, "user_add", "account", argv[optind],
		    "role fieldworker, for an ODK token");
	snprintf(idbuf, sizeof idbuf, "%" PRId64, id);
	snprintf(d, sizeof d, "ODK token for %s", argv[optind]);
	ctl_audit_row(c, "token_create", "token", idbuf, d);
	server = vh_odk_server_url(base, secret);
	settings = vh_odk_settings(server, project);
	fprintf(stderr, "ODK token %s for %s; it is shown only now. Scan the "
	    "settings as a QR code in ODK Collect (docs/odk.md):\n", idbuf,
	    argv[optind]);
	printf("server_url %s\nsettings %s\ntoken %s\n", server, settings,
	    secret);
	free(settings);
	free(server);
	free(base);
	return (0);
}

static int
token_list(struct ctl *c)
{
	PGresult *r = ctl_query(c, "SELECT t.id, a.name, t.created_at::date,"
	    " coalesce(to_char(t.last_used_at, 'YYYY-MM-DD HH24:MI'), '-'),"
	    " CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'"
	    " WHEN a.disabled THEN 'disabled' ELSE 'active' END"
	    " FROM api_token t JOIN account a ON a.id = t.account_id"
	    " WHERE t.kind = 'odk' ORDER BY t.id", 0, NULL);

	printf("%-5s %-16s %-8s %-11s %s\n", "id", "user", "state", "created",
	    "last used");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%-5s %-16s %-8s %-11s %s\n", PQgetvalue(r, i, 0),
		    PQgetvalue(r, i, 1), PQgetvalue(r, i, 4),
		    PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
	PQclear(r);
	return (0);
}

static int
token_revoke(struct ctl *c, const char *id)
{
	PGresult *r = ctl_query(c, "UPDATE api_token SET revoked_at = now()"
	    " WHERE id = $1::bigint AND kind = 'odk' AND revoked_at IS NULL",
	    1, &id);

	if (strcmp(PQcmdTuples(r), "1") != 0)
		ctl_die("no active ODK token %s", id);
	PQclear(r);
	ctl_audit_row(c, "token_revoke", "token", id, "ODK token");
	printf("revoked ODK token %s\n", id);
	return (0);
}

int
ctl_odk(struct ctl *c, int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "token") == 0) {
		if (strcmp(argv[2], "add") == 0)
			return (token_add(c, argc - 2, argv + 2));
		if (strcmp(argv[2], "list") == 0 && argc == 3)
			return (token_list(c));
		if (strcmp(argv[2], "revoke") == 0 && argc == 4 &&
		    strspn(argv[3], "0123456789") == strlen(argv[3]))
			return (token_revoke(c, argv[3]));
	}
	ctl_die("usage: odk token add NAME [--url URL] [--project NAME] | "
	    "odk token list | odk token revoke ID");
}
