#ifndef VH_ERASE_H
#define VH_ERASE_H
/*
 * Erasing an entry: the one way verhaal deletes a story, used by a
 * resident's withdrawal, the retention purge and admins. Everything here
 * blocks (queries, unlink, fsync) and runs on worker threads or in
 * verhaalctl.
 */
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

struct vh_blobstore;

enum vh_erase_reason {
	VH_ERASE_WITHDRAWN,	/* the resident used their receipt code */
	VH_ERASE_RETENTION,	/* its retention period ended */
	VH_ERASE_ADMIN,
};

const char *vh_erase_reason_name(enum vh_erase_reason);

/*
 * Erases entry id: in one transaction its row (and with it the search
 * index, which lives in the row), media, consent, receipt, moderation
 * decisions and finished-upload rows go, a tombstone without personal
 * data and a deletion-log line (counts only, no content, no hashes) are
 * written, and every blob the entry referred to (originals and derived
 * renditions, whatever column names them) loses its row unless another
 * row still refers to it. After the commit those blobs' files are removed
 * from the store, quarantine included. actor (borrowed) names who asked:
 * "resident", "retention" or an account name. *report gets what was
 * removed, as JSON (caller decrefs). VH_ENOENT when there is no such
 * entry, VH_EDB with *err on a database failure.
 */
int	vh_erase_entry(PGconn *, struct vh_blobstore *, int64_t id,
	    enum vh_erase_reason, const char *actor, json_t **report,
	    char **err) __attribute__((warn_unused_result));

/*
 * The entry a receipt code withdraws. VH_ENOENT for an unknown code (or
 * one whose entry is gone), VH_EDB with *err.
 */
int	vh_erase_find_receipt(PGconn *, const char *code, int64_t *id,
	    char **err) __attribute__((warn_unused_result));

#endif
