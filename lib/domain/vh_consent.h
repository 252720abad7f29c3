#ifndef VH_CONSENT_H
#define VH_CONSENT_H
/*
 * Consent as data. A resident's story carries {scope, version, language},
 * checked here before it is stored. What staff may do with the entry
 * follows the scope, by the one access rule (vh_access in
 * schema/0009_access.sql, asked from C through vh_access.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

/* The scopes, narrowest first. NONE: no consent record, as for a field
 * worker's own visit notes, which are staff work and unrestricted. */
enum vh_consent_scope {
	VH_SCOPE_NONE = 0,
	VH_SCOPE_ANALYSIS_ONLY,		/* counted and searched, not shown */
	VH_SCOPE_QUOTE_ANONYMISED,	/* read and quoted without names */
	VH_SCOPE_AUDIO_TO_STAFF,	/* read, and the recording played */
	VH_SCOPE_PUBLISH,		/* everything, publication included */
	/* What each scope allows whom: vh_access (schema/0009_access.sql). */
};

struct vh_consent {
	enum vh_consent_scope	scope;
	char			version[33];
	char			language[36];
};

/*
 * Checks a consent object {scope, version, language} (version a string
 * or a positive integer; language a BCP 47 tag such as "nl" or "en-GB";
 * no other keys) and fills *out. VH_EINVAL with *why a message for the
 * client (caller frees).
 */
int	vh_consent_parse(const json_t *, struct vh_consent *out, char **why)
	    __attribute__((warn_unused_result));

/* "analysis_only" ...; NULL for NONE. */
const char *vh_consent_scope_name(enum vh_consent_scope);
/* Name (NULL or "" for NONE) to scope; VH_EINVAL for an unknown name. */
int	vh_consent_scope_parse(const char *, enum vh_consent_scope *)
	    __attribute__((warn_unused_result));

/* A consent text's version and language as vh_consent_parse takes them. */
bool	vh_consent_version_ok(const char *);
bool	vh_consent_language_ok(const char *);

/*
 * The consent text c names, of the collection given by id (decimal, or
 * NULL) or else by slug: text_id gets its id, or "" when there is no such
 * collection. VH_EINVAL with *why naming the field ('version' or
 * 'language') that names no text; VH_EDB with *why. Blocking.
 */
int	vh_consent_text_find(PGconn *, const char *collection_id,
	    const char *slug, const struct vh_consent *c, char text_id[24],
	    char **why) __attribute__((warn_unused_result));

/*
 * Adds a consent text to a collection and makes its version the current
 * one. 0 with *id; VH_EINVAL (bad version, language or text), VH_ENOENT
 * (no such collection), VH_EEXIST (that version and language exist) or
 * VH_EDB, each with *why (caller frees). Blocking.
 */
int	vh_consent_text_add(PGconn *, const char *slug, const char *version,
	    const char *language, const char *body, int64_t *id, char **why)
	    __attribute__((warn_unused_result));

/*
 * A collection's consent texts as JSON (caller decrefs): with language
 * NULL all of them {collection, current_version, texts: [...]}, else the
 * current text in that language {id, version, language, text}. VH_ENOENT
 * when there is none, VH_EDB with *err. Blocking.
 */
int	vh_consent_texts(PGconn *, const char *slug, const char *language,
	    json_t **out, char **err) __attribute__((warn_unused_result));

#endif
