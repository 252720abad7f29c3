#ifndef VH_ENTRY_H
#define VH_ENTRY_H
/* Entries and their media: validating the fields a client sends (JSON or
 * tus metadata) and storing entry, media and blob rows in one transaction. */
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "vh_auth.h"
#include "vh_tusparse.h"

/* A durable file to attach: already in the blob store. */
struct vh_entry_file {
	char		 sha256[65];
	int64_t		 size;
	const char	*filename;	/* as sent, may be NULL */
	const char	*declared_type;	/* as sent, may be NULL */
};

/*
 * Checks an entry's fields for who: known keys of the right types and
 * sizes; residents may only send stories. 0, or VH_EINVAL with *why set
 * to a message for the client (caller frees).
 */
int	vh_entry_validate(const json_t *fields, const struct vh_principal *,
	    char **why) __attribute__((warn_unused_result));

/*
 * The consent part of vh_entry_validate, alone: a resident's new story
 * must carry a valid consent object; anyone's consent must be valid.
 */
int	vh_entry_validate_consent(const json_t *fields,
	    const struct vh_principal *, char **why)
	    __attribute__((warn_unused_result));

/*
 * The fields carried by tus Upload-Metadata (kind, title, text, area,
 * collection, occurred_at, themes as a comma list, consent as JSON,
 * entry_id); other keys are ignored. NULL with *why on malformed values.
 */
json_t	*vh_entry_from_metadata(const struct vh_tus_metadata *, char **why);

/*
 * Blocking (worker thread): in one transaction, records the blobs, creates
 * the entry (or, with "entry_id" in fields, checks that who owns it) and
 * one media row per file. *out gets the entry as JSON (caller decrefs),
 * media_ids (n of them, may be NULL) the new media. A resident's new
 * story starts in pending_review with its consent record, and *out then
 * holds "receipt": the withdrawal code, shown once. VH_EINVAL with *err a
 * message for the client (unknown collection, bad date, foreign entry),
 * VH_EDB on a database failure.
 */
/*
 * What vh_entry_store would refuse in the database, checked before any
 * byte of an upload arrives: an entry_id that is not who's (or an
 * admin's), an unknown collection slug, an occurred_at that is no time.
 * 0, VH_EINVAL with *err for the client, or VH_EDB. Blocking.
 */
int	vh_entry_check_refs(PGconn *, const json_t *fields,
	    const struct vh_principal *, char **err)
	    __attribute__((warn_unused_result));

/*
 * The deployment's rules for entries stored on this connection, from cfg
 * (borrowed): whether new visits wait for review (review_visits,
 * schema/0017 vh_entry_initial_status) and whether a position is kept
 * beside its buurt (keep_location, schema/0024 vh_keep_location). Set
 * before vh_entry_store and vh_entry_edit, which read them in the
 * database. Blocking. 0 or VH_EDB.
 */
struct vh_config;
int	vh_entry_set_rules(PGconn *, const struct vh_config *, char **err)
	    __attribute__((warn_unused_result));

/*
 * Folds the entry counts' delta rows into their totals (schema/0026):
 * *n gets how many delta rows went, 0 when another fold runs. Counts
 * read the same before and after; inserts are never blocked. Blocking,
 * autocommit. 0 or VH_EDB with *err (caller frees).
 */
int	vh_entry_count_fold(PGconn *, int64_t *n, char **err)
	    __attribute__((warn_unused_result));

/*
 * Replaces fields' 'lat'/'lon' by the 'area' whose boundary holds them,
 * for a caller that must not keep the position even for a while (a tus
 * upload's metadata lives until its last byte). Nothing to do without
 * lat/lon. 0, VH_EINVAL with *err for the client, VH_EDB. Blocking.
 */
int	vh_entry_place(PGconn *, json_t *fields, char **err)
	    __attribute__((warn_unused_result));

int	vh_entry_store(PGconn *, const json_t *fields,
	    const struct vh_principal *, const struct vh_entry_file *, size_t n,
	    int64_t *media_ids, json_t **out, char **err)
	    __attribute__((warn_unused_result));
/* The same inside the caller's open transaction (OpenRosa submissions
 * record their own row with it): no BEGIN or COMMIT; on an error it
 * only reports, and the caller, who began the transaction, rolls back. */
int	vh_entry_store_tx(PGconn *, const json_t *fields,
	    const struct vh_principal *, const struct vh_entry_file *, size_t n,
	    int64_t *media_ids, json_t **out, char **err)
	    __attribute__((warn_unused_result));

/*
 * A field worker's change to their own entry (title, text, area or
 * lat/lon, themes, occurred_at) until it is published, with an "edit"
 * audit row naming the fields, in one transaction; an approved entry
 * goes back to review. *out gets the entry (caller decrefs). VH_EINVAL
 * (bad fields), VH_ENOENT (none of theirs), VH_ECONFLICT (published,
 * rejected or withdrawn) with *err for the client; VH_EDB. Blocking.
 */
struct vh_audit_actor;
int	vh_entry_edit(PGconn *, int64_t id, const struct vh_principal *,
	    const struct vh_audit_actor *, const json_t *fields, json_t **out,
	    char **err) __attribute__((warn_unused_result));

/*
 * Marks who's own entry withdrawn unless it is published or rejected,
 * for vh_erase_entry to erase next (a failed erase leaves it withdrawn,
 * unseen by analysts, for the retention purge). 0, VH_ENOENT,
 * VH_ECONFLICT with *err for the client, VH_EDB. Blocking.
 */
int	vh_entry_claim_withdrawal(PGconn *, int64_t id,
	    const struct vh_principal *, char **err)
	    __attribute__((warn_unused_result));

#endif
