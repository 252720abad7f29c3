/*
 * verhaalctl token create|revoke|list and collection create|list|consent. Secrets
 * are printed once, on the last line of stdout, and stored only hashed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "ctl.h"
#include "vh_unused.h"
#include "vh_auth.h"
#include "vh_consent.h"
#include "vh_db.h"
#include "vh_xmalloc.h"

static int
token_create(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "role", required_argument, NULL, 'r' },
		{ "label", required_argument, NULL, 'l' },
		{ "expires", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*user = NULL, *role = NULL, *label = "", *expires = NULL;
	char		 secret[VH_SECRET_LEN], h[67];
	uint8_t		 hash[32];
	unsigned	 bit;
	PGresult	*r;
	int		 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "u:r:l:e:", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': user = optarg; break;
		case 'r': role = optarg; break;
		case 'l': label = optarg; break;
		case 'e': expires = optarg; break;
		default: ctl_die("usage: token create --user NAME [--role ROLE] "
		    "[--label TEXT] [--expires '90 days']");
		}
	}
	if (user == NULL)
		ctl_die("token create needs --user NAME");
	if (role != NULL && (vh_role_parse(role, &bit) != 0 ||
	    bit == VH_ROLE_RESIDENT))
		ctl_die("unknown role '%s': admin, moderator, analyst or "
		    "fieldworker", role);
	{
		/* A new user is created with the role given; an existing one
		 * must already have it. */
		const char *p[2] = { user, role };

		r = ctl_query(c, "WITH ins AS (INSERT INTO account (name, role)"
		    " SELECT $1, $2 WHERE $2::text IS NOT NULL ON CONFLICT (name)"
		    " DO NOTHING RETURNING id, role)"
		    " SELECT id, role FROM ins UNION ALL"
		    " SELECT id, role FROM account WHERE name = $1", 2, p);
		if (PQntuples(r) == 0)
			ctl_die("no user '%s'; give --role to create one", user);
		if (role != NULL && strcmp(PQgetvalue(r, 0, 1), role) != 0)
			ctl_die("user '%s' has role %s, not %s", user,
			    PQgetvalue(r, 0, 1), role);
	}
	vh_auth_secret_new(secret, hash);
	vh_auth_hash_sql(hash, h);
	{
		const char *p[4] = { PQgetvalue(r, 0, 0), h, label, expires };
		PGresult *r2 = ctl_query(c, "INSERT INTO api_token (account_id, token_hash,"
		    " label, expires_at) VALUES ($1, $2, $3, now() +"
		    " $4::interval) RETURNING id", 4, p);

		char d[200];

		snprintf(d, sizeof d, "for %s (%s)", user, PQgetvalue(r, 0, 1));
		ctl_audit_row(c, "token_create", "token", PQgetvalue(r2, 0, 0), d);
		fprintf(stderr, "token %s for %s (%s); it is shown only now:\n",
		    PQgetvalue(r2, 0, 0), user, PQgetvalue(r, 0, 1));
		PQclear(r2);
	}
	PQclear(r);
	printf("%s\n", secret);
	return (0);
}

static int
token_revoke(struct ctl *c, int argc, char **argv)
{
	PGresult *r;

	if (argc != 2)
		ctl_die("usage: token revoke ID");
	r = ctl_query(c, "UPDATE api_token SET revoked_at = now() WHERE id = $1::bigint"
	    " AND revoked_at IS NULL", 1, (const char *const *)&argv[1]);
	if (strcmp(PQcmdTuples(r), "1") != 0)
		ctl_die("no active token %s", argv[1]);
	PQclear(r);
	ctl_audit_row(c, "token_revoke", "token", argv[1], NULL);
	printf("revoked token %s\n", argv[1]);
	return (0);
}

static int
token_list(struct ctl *c, int argc VH_UNUSED, char **argv VH_UNUSED)
{
	PGresult *r = ctl_query(c, "SELECT t.id, a.name, a.role, t.label, t.created_at::date,"
	    " coalesce(to_char(t.expires_at, 'YYYY-MM-DD HH24:MI'), 'never'),"
	    " coalesce(to_char(t.last_used_at, 'YYYY-MM-DD HH24:MI'), '-'),"
	    " CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'"
	    " WHEN t.expires_at <= now() THEN 'expired'"
	    " WHEN a.disabled THEN 'disabled' ELSE 'active' END"
	    " FROM api_token t JOIN account a ON a.id = t.account_id ORDER BY t.id",
	    0, NULL);

	printf("%-5s %-16s %-12s %-8s %-11s %-17s %-17s %s\n", "id", "user",
	    "role", "state", "created", "expires", "last used", "label");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%-5s %-16s %-12s %-8s %-11s %-17s %-17s %s\n",
		    PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
		    PQgetvalue(r, i, 7), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
		    PQgetvalue(r, i, 6), PQgetvalue(r, i, 3));
	PQclear(r);
	return (0);
}

int
ctl_token(struct ctl *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return (token_create(c, argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return (token_revoke(c, argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return (token_list(c, argc - 1, argv + 1));
	ctl_die("usage: token create|revoke|list");
}

/* The whole of a text file, for a consent text (caller frees). */
static char *
read_file(const char *path)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;

	if ((f = fopen(path, "r")) == NULL)
		ctl_die("cannot open %s: %s", path, strerror(errno));
	do {
		if (len + 4096 + 1 > cap) {
			cap = (len + 4096 + 1) * 2;
			buf = vh_xreallocarray(buf, cap, 1);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0 && len <= 100000);
	if (ferror(f))
		ctl_die("cannot read %s", path);
	fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != len)
		ctl_die("%s holds a NUL byte; a consent text is plain text", path);
	return (buf);
}

/* collection consent add --slug S --version V --language L --file F,
 * collection consent list --slug S. */
static int
collection_consent(struct ctl *c, int argc, char **argv)
{
	static const struct option copts[] = {
		{ "slug", required_argument, NULL, 's' },
		{ "version", required_argument, NULL, 'v' },
		{ "language", required_argument, NULL, 'l' },
		{ "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*slug = NULL, *version = NULL, *language = NULL;
	const char	*file = NULL, *sub;
	char		*body, *why = NULL, detail[128], idbuf[24];
	json_t		*texts, *t;
	PGresult	*r;
	int64_t		 id;
	size_t		 i;
	int		 ch, rc;

	if (argc < 2 || (strcmp(argv[1], "add") != 0 &&
	    strcmp(argv[1], "list") != 0))
		ctl_die("usage: collection consent add --slug SLUG --version V"
		    " --language L --file FILE | list --slug SLUG");
	sub = argv[1];
	optind = 1;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "s:v:l:f:", copts, NULL)) != -1) {
		switch (ch) {
		case 's': slug = optarg; break;
		case 'v': version = optarg; break;
		case 'l': language = optarg; break;
		case 'f': file = optarg; break;
		default: ctl_die("usage: collection consent add --slug SLUG"
		    " --version V --language L --file FILE | list --slug SLUG");
		}
	}
	if (slug == NULL)
		ctl_die("collection consent %s needs --slug", sub);
	if (strcmp(sub, "list") == 0) {
		if (vh_consent_texts(ctl_db(c), slug, NULL, &texts, &why) != 0)
			ctl_die("%s", why != NULL ? why : "no such collection");
		printf("%-6s %-12s %-8s %s\n", "id", "version", "language",
		    "added");
		json_array_foreach(json_object_get(texts, "texts"), i, t)
			printf("%-6lld %-12s %-8s %s\n", (long long)
			    json_integer_value(json_object_get(t, "id")),
			    json_string_value(json_object_get(t, "version")),
			    json_string_value(json_object_get(t, "language")),
			    json_string_value(json_object_get(t, "created_at")));
		json_decref(texts);
		return (0);
	}
	if (version == NULL || language == NULL || file == NULL)
		ctl_die("collection consent add needs --slug, --version, "
		    "--language and --file");
	body = read_file(file);
	/* The text and its audit row commit together. */
	PQclear(ctl_query(c, "BEGIN", 0, NULL));
	rc = vh_consent_text_add(ctl_db(c), slug, version, language, body, &id,
	    &why);
	free(body);
	if (rc != 0)
		ctl_die("%s", why);
	snprintf(detail, sizeof detail, "version %s, language %s, text %lld",
	    version, language, (long long)id);
	ctl_audit_row(c, "consent_text_add", "collection", slug, detail);
	r = ctl_query(c, "COMMIT", 0, NULL);
	PQclear(r);
	snprintf(idbuf, sizeof idbuf, "%lld", (long long)id);
	fprintf(stderr, "consent text %s: collection %s, version %s, "
	    "language %s (now the current version)\n", idbuf, slug, version,
	    language);
	return (0);
}

/* A slug as the schema takes it: [a-z0-9][a-z0-9-]{0,63}. */
static bool
slug_ok(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '-')
		return (false);
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-'))
			return (false);
	return (true);
}

/* collection rotate-link SLUG: a new upload secret; the old one stops. */
static int
collection_rotate(struct ctl *c, int argc, char **argv)
{
	char		 secret[VH_SECRET_LEN], h[67];
	uint8_t		 hash[32];
	const char	*p[2];
	PGresult	*r;

	if (argc != 2 || strcmp(argv[1], "--help") == 0)
		ctl_die("usage: collection rotate-link SLUG");
	if (!slug_ok(argv[1]))
		ctl_die("collection rotate-link: '%s' is no collection slug "
		    "(lowercase letters, digits and hyphens)", argv[1]);
	vh_auth_secret_new(secret, hash);
	vh_auth_hash_sql(hash, h);
	p[0] = argv[1];
	p[1] = h;
	/* Links are checked against this hash on every request, so the
	 * old link is refused from the commit on. */
	r = ctl_query(c, "UPDATE collection SET upload_secret_hash = $2"
	    " WHERE slug = $1 RETURNING id", 2, p);
	if (PQntuples(r) == 0)
		ctl_die("no collection %s", argv[1]);
	PQclear(r);
	ctl_audit_row(c, "collection_rotate_link", "collection", argv[1], NULL);
	fprintf(stderr, "collection %s: the old upload link no longer works; "
	    "posters and QR codes that carry it must be replaced.\n"
	    "The new link (shown only now):\n"
	    "  /api/v1/collections/%s/uploads?key=%s\nthe secret alone:\n",
	    argv[1], argv[1], secret);
	printf("%s\n", secret);
	return (0);
}

int
ctl_collection(struct ctl *c, int argc, char **argv)
{
	static const struct option copts[] = {
		{ "slug", required_argument, NULL, 's' },
		{ "title", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	char		 secret[VH_SECRET_LEN], h[67];
	uint8_t		 hash[32];
	const char	*slug = NULL, *title = NULL;
	PGresult	*r;
	int		 ch;

	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		r = ctl_query(c, "SELECT slug, title, (SELECT count(*) FROM entry e WHERE"
		    " e.collection_id = c.id) FROM collection c ORDER BY slug", 0,
		    NULL);
		for (int i = 0; i < PQntuples(r); i++)
			printf("%-32s %6s  %s\n", PQgetvalue(r, i, 0),
			    PQgetvalue(r, i, 2), PQgetvalue(r, i, 1));
		PQclear(r);
		return (0);
	}
	if (argc >= 2 && strcmp(argv[1], "consent") == 0)
		return (collection_consent(c, argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "rotate-link") == 0)
		return (collection_rotate(c, argc - 1, argv + 1));
	if (argc < 2 || strcmp(argv[1], "create") != 0)
		ctl_die("usage: collection create --slug SLUG --title TITLE | list"
		    " | rotate-link SLUG | consent add|list");
	optind = 1;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "s:t:", copts, NULL)) != -1) {
		switch (ch) {
		case 's': slug = optarg; break;
		case 't': title = optarg; break;
		default: ctl_die("usage: collection create --slug SLUG --title TITLE");
		}
	}
	if (slug == NULL || title == NULL)
		ctl_die("collection create needs --slug and --title");
	if (!slug_ok(slug))
		ctl_die("collection create: the slug must be 1 to 64 lowercase "
		    "letters (a-z), digits and hyphens, starting with a letter "
		    "or digit");
	if (*title == '\0')
		ctl_die("collection create: the title must not be empty");
	vh_auth_secret_new(secret, hash);
	vh_auth_hash_sql(hash, h);
	{
		const char *p[3] = { slug, title, h };

		/* An existing collection keeps its link: printed posters
		 * and QR codes carry it (rotate-link replaces it). */
		r = ctl_query(c, "INSERT INTO collection (slug, title, upload_secret_hash)"
		    " VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING"
		    " RETURNING id", 3, p);
	}
	if (PQntuples(r) == 0)
		ctl_die("collection %s exists already; its upload link is "
		    "unchanged. To replace the link (the old one stops working "
		    "at once, on every poster and QR code that carries it): "
		    "verhaalctl collection rotate-link %s", slug, slug);
	PQclear(r);
	ctl_audit_row(c, "collection_create", "collection", slug, NULL);
	fprintf(stderr, "collection %s; its upload link (shown only now):\n"
	    "  /api/v1/collections/%s/uploads?key=%s\nthe secret alone:\n",
	    slug, slug, secret);
	printf("%s\n", secret);
	return (0);
}
