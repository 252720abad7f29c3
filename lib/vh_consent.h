#ifndef VH_CONSENT_H
#define VH_CONSENT_H
/*
 * Consent as data. A resident's story carries {scope, version, language};
 * what staff may do with the entry follows the scope. The rules live here
 * so that every route (entries, search, export, media) asks the same
 * question: may this role use this entry this way?
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
};

/* What may be done with an entry. */
enum vh_consent_use {
	VH_USE_COUNT = 1 << 0,		/* appear in counts and aggregates */
	VH_USE_SEARCH = 1 << 1,		/* match a full-text search */
	VH_USE_READ = 1 << 2,		/* text and photos shown to staff */
	VH_USE_QUOTE = 1 << 3,		/* text in exports and reports */
	VH_USE_PLAY = 1 << 4,		/* audio renditions played */
	VH_USE_PUBLISH = 1 << 5,	/* shown outside the city */
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

/*
 * The uses a role (one VH_ROLE_* bit) may make of an entry with this
 * scope. Admins and moderators read everything (they review and redact);
 * analysts and field workers get what the resident agreed to.
 */
unsigned vh_consent_uses(enum vh_consent_scope, unsigned role);
bool	vh_consent_allows(enum vh_consent_scope, unsigned role,
	    enum vh_consent_use);

/*
 * The scopes that allow use for role, as a PostgreSQL text[] literal
 * ("{quote_anonymised,audio_to_staff,publish}") for queries such as
 * "coalesce(c.scope, '') = ANY($1::text[])", where '' stands for NONE,
 * written into buf (VH_CONSENT_SQL_LEN bytes suffice); returns buf.
 */
#define VH_CONSENT_SQL_LEN 128
char	*vh_consent_scopes_sql(char *buf, size_t size, unsigned role,
	    enum vh_consent_use);

/*
 * Applies the rules to an entry as the API returns it (keys "title",
 * "text", "media" with "declared_type"/"type"), in place: without READ
 * the title and text become null and "withheld" lists why; without PLAY
 * each media item gets "playable": false. Adds "allowed": the uses, as
 * a list of names.
 */
void	vh_consent_filter_entry(json_t *entry, enum vh_consent_scope,
	    unsigned role);

#endif
