#ifndef VH_ACCESS_H
#define VH_ACCESS_H
/*
 * Who may see what of an entry: the C side of the one access rule. The
 * rule itself is SQL (vh_access in schema/0009_access.sql, with its table
 * in the comment there and in docs/privacy.md): the viewer's role and
 * account, the entry's status and owner, and the resident's consent scope
 * give the uses allowed (count, search, read, quote, play, publish).
 * Read paths that are SQL builders (search, entry, exports, dossier) take
 * the viewer from vh_access_viewer(); handlers that serve files or act on
 * an entry ask vh_access_media() or vh_access_entry() on their worker.
 * Nothing else decides.
 */
#include <libpq-fe.h>
#include <jansson.h>

#include "vh_auth.h"

/* The viewer as the rule's SQL takes it: {"role", "account"}; caller
 * frees. */
json_t	*vh_access_viewer(const struct vh_principal *);

/*
 * Whether who may use media id: rendition "audio.opus", "display.jpg", ...
 * or NULL for the file itself (its description, its sealed original).
 * 0 yes; VH_ENOENT when there is no such media or who may not use it (one
 * answer for both, so ids cannot be probed); VH_EDB with *err set (words
 * for the client; caller frees). Blocking: workers only.
 */
int	vh_access_media(PGconn *, const struct vh_principal *, const char *id,
	    const char *rendition, char **err) __attribute__((warn_unused_result));

/*
 * Whether who may make use ("publish", "read", ...) of entry id: 0 yes;
 * VH_ENOENT no such entry or not one who sees; VH_ENOTSUP who sees it
 * but its consent does not allow the use, with *scope the consent scope
 * ("" for none; caller frees); VH_EDB with *err set. Workers only.
 */
int	vh_access_entry(PGconn *, const struct vh_principal *, const char *id,
	    const char *use, char **scope, char **err)
	    __attribute__((warn_unused_result));

#endif
