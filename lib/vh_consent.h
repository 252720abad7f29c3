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

#include <jansson.h>

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

#endif
