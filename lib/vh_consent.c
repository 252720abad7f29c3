/*
 * Consent records: the scope names and the check of a submitted
 * {scope, version, language}. What a scope allows is not decided here but
 * by the one access rule, vh_access in schema/0009_access.sql (a second
 * copy of that table in C would be a second place to forget).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "vh_auth.h"
#include "vh_consent.h"
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
