/*
 * Consent records: the scope names and the check of a submitted
 * {scope, version, language}, which must name one of its collection's
 * consent texts (the table consent_text, one row per version and
 * language, added by verhaalctl collection consent add or POST
 * /api/v1/collections/{slug}/consent); the stored record points at it. What a scope allows is not decided here but
 * by the one access rule, vh_access in schema/0009_access.sql (a second
 * copy of that table in C would be a second place to forget).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_auth.h"
#include "vh_consent.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_xmalloc.h"

static const struct {
	enum vh_consent_scope	 scope;
	const char		*name;
} scopes[] = {
	{ VH_SCOPE_NONE, NULL },
	{ VH_SCOPE_ANALYSIS_ONLY, "analysis_only" },
	{ VH_SCOPE_QUOTE_ANONYMISED, "quote_anonymised" },
	{ VH_SCOPE_AUDIO_TO_STAFF, "audio_to_staff" },
	{ VH_SCOPE_PUBLISH, "publish" },
};
#define NSCOPES (sizeof scopes / sizeof scopes[0])

const char *
vh_consent_scope_name(enum vh_consent_scope s)
{
	for (size_t i = 0; i < NSCOPES; i++)
		if (scopes[i].scope == s)
			return (scopes[i].name);
	return (NULL);
}

int
vh_consent_scope_parse(const char *name, enum vh_consent_scope *out)
{
	if (name == NULL || *name == '\0') {
		*out = VH_SCOPE_NONE;
		return (0);
	}
	for (size_t i = 1; i < NSCOPES; i++) {
		if (strcmp(scopes[i].name, name) == 0) {
			*out = scopes[i].scope;
			return (0);
		}
	}
	return (VH_EINVAL);
}

static bool
valid_version(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return (false);
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return (false);
	return (true);
}

/* BCP 47, the common shapes: "nl", "nl-NL", "zh-Hant-TW" (at most three
 * subtags after the language, as the schema's CHECK says). */
static bool
valid_language(const char *s)
{
	size_t	n, parts = 0;

	n = strspn(s, "abcdefghijklmnopqrstuvwxyz");
	if (n < 2 || n > 3)
		return (false);
	s += n;
	while (*s == '-') {
		s++;
		for (n = 0; isalnum((unsigned char)s[n]); n++)
			;
		if (n < 1 || n > 8 || ++parts > 3)
			return (false);
		s += n;
	}
	return (*s == '\0');
}

int
vh_consent_parse(const json_t *obj, struct vh_consent *out, char **why)
{
	const char	*key, *s;
	json_t		*v;

	memset(out, 0, sizeof *out);
	if (!json_is_object(obj)) {
		*why = vh_xstrdup("'consent' must be an object {scope, version, "
		    "language}");
		return (VH_EINVAL);
	}
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "scope") != 0 && strcmp(key, "version") != 0 &&
		    strcmp(key, "language") != 0) {
			*why = vh_xasprintf("unknown consent field '%s'", key);
			return (VH_EINVAL);
		}
	}
	s = json_string_value(json_object_get(obj, "scope"));
	if (s == NULL || *s == '\0' ||
	    vh_consent_scope_parse(s, &out->scope) != 0) {
		*why = vh_xstrdup("consent 'scope' must be one of analysis_only, "
		    "quote_anonymised, audio_to_staff, publish");
		return (VH_EINVAL);
	}
	v = json_object_get(obj, "version");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		snprintf(out->version, sizeof out->version, "%lld",
		    (long long)json_integer_value(v));
	else if (json_is_string(v) && valid_version(json_string_value(v)))
		snprintf(out->version, sizeof out->version, "%s",
		    json_string_value(v));
	else {
		*why = vh_xstrdup("consent 'version' must name the consent text's "
		    "version (1 to 32 of A-Z a-z 0-9 . _ -)");
		return (VH_EINVAL);
	}
	s = json_string_value(json_object_get(obj, "language"));
	if (s == NULL || strlen(s) >= sizeof out->language ||
	    !valid_language(s)) {
		*why = vh_xstrdup("consent 'language' must be the language the "
		    "consent text was shown in, such as \"nl\" or \"en\"");
		return (VH_EINVAL);
	}
	snprintf(out->language, sizeof out->language, "%s", s);
	return (0);
}

bool
vh_consent_version_ok(const char *s)
{
	return (valid_version(s));
}

bool
vh_consent_language_ok(const char *s)
{
	return (strlen(s) < sizeof ((struct vh_consent *)0)->language &&
	    valid_language(s));
}

int
vh_consent_text_find(PGconn *db, const char *collection_id, const char *slug,
    const struct vh_consent *c, char text_id[24], char **why)
{
	const char	*params[4] = { collection_id, slug, c->version,
			    c->language };
	PGresult	*r;
	int		 rc = 0;

	text_id[0] = '\0';
	r = vh_db_exec(db, "SELECT c.slug, (SELECT t.id FROM consent_text t"
	    " WHERE t.collection_id = c.id AND t.version = $3 AND"
	    " t.language = $4), (SELECT string_agg(t.language, ', ' ORDER BY"
	    " t.language) FROM consent_text t WHERE t.collection_id = c.id AND"
	    " t.version = $3) FROM collection c WHERE c.id = $1::bigint OR"
	    " ($1::bigint IS NULL AND c.slug = $2)", 4, params, why);
	if (r == NULL)
		return (VH_EDB);
	/* No collection: nothing to point at (its slug is checked apart). */
	if (PQntuples(r) == 0)
		goto out;
	if (!PQgetisnull(r, 0, 1))
		snprintf(text_id, 24, "%s", PQgetvalue(r, 0, 1));
	else if (PQgetisnull(r, 0, 2)) {
		*why = vh_xasprintf("consent 'version': collection '%s' has no "
		    "consent text version '%s'", PQgetvalue(r, 0, 0), c->version);
		rc = VH_EINVAL;
	} else {
		*why = vh_xasprintf("consent 'language': version '%s' of "
		    "collection '%s' has no text in '%s' (it has: %s)",
		    c->version, PQgetvalue(r, 0, 0), c->language,
		    PQgetvalue(r, 0, 2));
		rc = VH_EINVAL;
	}
out:
	PQclear(r);
	return (rc);
}

int
vh_consent_text_add(PGconn *db, const char *slug, const char *version,
    const char *language, const char *body, int64_t *id, char **why)
{
	const char	*params[4] = { slug, version, language, body };
	PGresult	*r;
	int		 rc = 0;

	*id = 0;
	if (!valid_version(version) || !vh_consent_language_ok(language)) {
		*why = vh_xstrdup(!valid_version(version) ? "'version' must be 1 "
		    "to 32 of A-Z a-z 0-9 . _ -" : "'language' must be a "
		    "language tag such as \"nl\" or \"en-GB\"");
		return (VH_EINVAL);
	}
	if (*body == '\0' || strlen(body) > 100000) {
		*why = vh_xstrdup("'text' must be the consent text as shown, "
		    "1 to 100000 bytes");
		return (VH_EINVAL);
	}
	/* The newest version added is the one a collection asks for now. */
	r = PQexecParams(db, "WITH c AS (UPDATE collection SET consent_version"
	    " = $2 WHERE slug = $1 RETURNING id)"
	    " INSERT INTO consent_text (collection_id, version, language, body)"
	    " SELECT id, $2, $3, $4 FROM c RETURNING id", 4, NULL, params,
	    NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		if (strcmp(vh_db_sqlstate(r), "23505") == 0) {
			*why = vh_xasprintf("collection '%s' already has version "
			    "'%s' in '%s'; a text once shown is never changed, "
			    "add a new version", slug, version, language);
			rc = VH_EEXIST;
		} else if (strncmp(vh_db_sqlstate(r), "22", 2) == 0) {
			*why = vh_xstrdup("'text' must be valid UTF-8 text");
			rc = VH_EINVAL;
		} else {
			*why = vh_xstrdup(PQerrorMessage(db));
			rc = VH_EDB;
		}
	} else if (PQntuples(r) == 0) {
		*why = vh_xasprintf("no collection '%s'", slug);
		rc = VH_ENOENT;
	} else
		*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return (rc);
}

/* The texts of a collection as JSON (all, or the current one in a
 * language); NULL for no collection, or no text in that language. */
static const char texts_sql[] =
    "SELECT CASE WHEN $2::text IS NULL THEN (SELECT json_build_object("
    " 'collection', c.slug, 'current_version', c.consent_version, 'texts',"
    " coalesce((SELECT json_agg(json_build_object('id', t.id, 'version',"
    " t.version, 'language', t.language, 'text', t.body, 'created_at',"
    " t.created_at) ORDER BY t.id) FROM consent_text t WHERE"
    " t.collection_id = c.id), '[]')))"
    " ELSE (SELECT json_build_object('id', t.id, 'version', t.version,"
    " 'language', t.language, 'text', t.body, 'created_at', t.created_at)"
    " FROM consent_text t WHERE t.collection_id = c.id AND t.language = $2"
    " ORDER BY t.version = c.consent_version DESC, t.id DESC LIMIT 1) END"
    " FROM collection c WHERE c.slug = $1";

int
vh_consent_texts(PGconn *db, const char *slug, const char *language,
    json_t **out, char **err)
{
	const char	*params[2] = { slug, language };
	PGresult	*r;

	*out = NULL;
	if ((r = vh_db_exec(db, texts_sql, 2, params, err)) == NULL)
		return (VH_EDB);
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		*out = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	PQclear(r);
	return (*out != NULL ? 0 : VH_ENOENT);
}
