#ifndef VH_BLOBGC_H
#define VH_BLOBGC_H
/*
 * Blob lifetimes. A blob row exists before any entry refers to it, so a
 * file whose entry was never stored is still known; such blobs are
 * collected after a grace period. Writers pin a blob (a shared advisory
 * lock on its hash) from the moment its file is in the store until their
 * transaction ends; the collector only removes what it can lock
 * exclusively. All blocking: worker threads and verhaalctl.
 */
#include <stdint.h>

#include <libpq-fe.h>

struct vh_blobstore;

/*
 * Pins a blob that was just committed to the store and records its row.
 * VH_ENOENT if the file vanished meanwhile (collected between the commit
 * and the pin): the caller must fail its request, nothing is lost.
 */
int	vh_blobgc_pin(PGconn *, struct vh_blobstore *, const char *hex,
	    int64_t size, char **err) __attribute__((warn_unused_result));
void	vh_blobgc_unpin(PGconn *, const char *hex);

/*
 * The same pin inside the caller's open transaction, held until it ends
 * (a transaction-scoped lock: nothing to unpin). It records no blob row:
 * the transaction must insert one with the row that names the blob (the
 * media row's insertion in vh_entry_store_tx does); should it roll back,
 * the file is named by no row and the litter sweep takes it.
 */
int	vh_blobgc_pin_tx(PGconn *, struct vh_blobstore *, const char *hex,
	    char **err) __attribute__((warn_unused_result));

/*
 * Moves a rejected blob to quarantine, unless a writer has it pinned
 * (VH_ECONFLICT: that upload stands, and its own media job decides about
 * the content again). VH_ENOENT when the file is not in the store.
 */
int	vh_blobgc_quarantine(PGconn *, struct vh_blobstore *, const char *hex,
	    char **err) __attribute__((warn_unused_result));

/* Removes blobs no media row refers to, older than grace_s; *n gets how
 * many. */
int	vh_blobgc_collect(PGconn *, struct vh_blobstore *, int64_t grace_s,
	    int *n, char **err) __attribute__((warn_unused_result));

/*
 * Removes the file of blob hex when no row names it (no blob row, no
 * upload recording it as its content): a crash leftover found by fsck.
 * Under the same exclusive lock as the collector, so that a writer that
 * has just stored the file and is about to pin it keeps it: VH_ECONFLICT
 * when the lock is held or a row names the blob after all.
 */
int	vh_blobgc_remove_orphan(PGconn *, struct vh_blobstore *,
	    const char *hex, char **err) __attribute__((warn_unused_result));

/*
 * Removes what a killed process left in the data directory, once older
 * than age_s: spool files no live writer holds (blob.*, tus.* no upload
 * row names, job.* older than every running job's claim) and blob files
 * no row names. Safe with other daemons on the same directory. *n gets
 * how many files went.
 */
int	vh_blobgc_sweep(PGconn *, struct vh_blobstore *, int64_t age_s, int *n,
	    char **err) __attribute__((warn_unused_result));

#endif
