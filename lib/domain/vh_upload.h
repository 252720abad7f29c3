#ifndef VH_UPLOAD_H
#define VH_UPLOAD_H
/*
 * Resumable-upload state (tus): rows in the "upload" table and partial
 * files under the blob store's spool/. Every function here blocks (file
 * syncs, queries) and runs on worker threads.
 */
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "vh_auth.h"

struct vh_blobstore;

struct vh_upload {
	char		 id[33];
	int64_t		 length;	/* -1: deferred */
	int64_t		 offset;	/* durable */
	char		*metadata;	/* raw Upload-Metadata */
	char		*spool_path;
	int64_t		 account_id, collection_id;
	/* Who created it, and so owns the entry it makes: the account (its
	 * role and name), or a resident of collection_id. */
	struct vh_principal owner;
	bool		 completed;
	int64_t		 expires;	/* seconds since the epoch */
	int64_t		 media_id, entry_id;
	char		 blob_sha256[65];	/* "" until complete */
};

void	vh_upload_clear(struct vh_upload *);

struct vh_tus_metadata;

/*
 * The file's name and declared type from tus metadata, checked as at
 * creation: the name strict UTF-8 and cleaned like a multipart file name
 * (vh_text_clean_filename), the type printable ASCII of at most 255
 * bytes. *filename (caller frees) and *filetype (borrowed from md) are
 * NULL when absent. VH_EINVAL with *why (caller frees) for the client.
 */
int	vh_upload_file_fields(const struct vh_tus_metadata *,
	    char **filename, const char **filetype, char **why)
	    __attribute__((warn_unused_result));

/*
 * Without keep_location: an upload's metadata and fields (both as sent,
 * checked) name the buurt that holds their 'lat'/'lon' instead, before
 * vh_upload_create stores the metadata, so that no row holds the
 * position while the upload is under way (HEAD then returns 'area').
 * Nothing to do without lat/lon. 0, VH_EINVAL with *err for the client,
 * VH_EDB. Blocking.
 */
int	vh_upload_place(PGconn *, struct vh_upload *u, json_t *fields,
	    char **err) __attribute__((warn_unused_result));

/*
 * Creates an upload: an empty partial file (its directory synced) and its
 * row. u->length, u->metadata and who are inputs; the rest is filled in.
 * *fd gets the file opened for writing and locked (caller closes).
 * VH_EIO (errno kept) when the file cannot be made, VH_EDB for the row.
 */
int	vh_upload_create(PGconn *, struct vh_blobstore *, struct vh_upload *u,
	    const struct vh_principal *who, int64_t expiry_ms, int *fd,
	    char **err) __attribute__((warn_unused_result));

/* Reads an upload's row; VH_ENOENT when there is none. */
int	vh_upload_load(PGconn *, struct vh_blobstore *, const char *id,
	    struct vh_upload *, char **err) __attribute__((warn_unused_result));

/*
 * The upload's lock across processes: a session advisory lock held by
 * db's connection until vh_upload_unlock or the session ends (a crashed
 * daemon's lock goes with its connection). Whoever writes the partial
 * file or finishes the upload holds it from before loading the row to
 * the commit. VH_ECONFLICT when another session holds it.
 */
int	vh_upload_lock(PGconn *, const char *id, char **err)
	    __attribute__((warn_unused_result));
void	vh_upload_unlock(PGconn *, const char *id);

/* Opens the partial file for writing and, once this descriptor holds the
 * file's lock, cuts it to the durable offset (bytes past it are
 * leftovers of an interrupted request). VH_ECONFLICT when another
 * descriptor holds the lock. Call with vh_upload_lock held and u loaded
 * under it. */
int	vh_upload_open(const struct vh_upload *, int *fd, char **err)
	    __attribute__((warn_unused_result));

/*
 * Makes bytes up to new_offset durable: fdatasync of fd, then the row's
 * offset (and a deferred length, when length >= 0) moves from u->offset,
 * and its expiry is pushed out. VH_ECONFLICT if the row moved meanwhile.
 */
int	vh_upload_advance(PGconn *, struct vh_upload *, int fd,
	    int64_t new_offset, int64_t length, int64_t expiry_ms, char **err)
	    __attribute__((warn_unused_result));

/*
 * Finishes a complete upload for its creator (u->owner): the partial file
 * goes into the blob store and, in one transaction, the entry (from the
 * metadata) and its media row are created and the upload marked complete;
 * its metadata (the story's text) is not kept once the entry holds it.
 * *entry gets the entry (caller decrefs). VH_EINVAL with a message for
 * the client when the metadata does not describe a valid entry; the
 * upload is then discarded, so that it does not answer so forever.
 * Idempotent: when another attempt finished it first, u is reloaded and
 * 0 returned with *entry NULL. Call with vh_upload_lock held.
 */
int	vh_upload_finish(PGconn *, struct vh_blobstore *, struct vh_upload *,
	    json_t **entry, char **err) __attribute__((warn_unused_result));

/*
 * Records an upload that arrived whole in its creation request, whose
 * file f is already in the store: in one transaction its pin
 * (vh_blobgc_pin_tx), blob row, entry, media row and job, and a finished
 * upload row, so HEAD answers for it. u->length is an input; u->id is
 * made here. *entry as in vh_upload_finish. VH_ENOENT when the file was
 * collected before the pin, VH_EINVAL for an entry that cannot be.
 */
struct vh_entry_file;
int	vh_upload_store_whole(PGconn *, struct vh_blobstore *, struct vh_upload *u,
	    const struct vh_principal *who, const json_t *fields,
	    const struct vh_entry_file *f, json_t **entry, char **err)
	    __attribute__((warn_unused_result));

/* Removes an upload's row and, unless it is finished, its partial file
 * (tus termination; the entry of a finished one stays). VH_ENOENT if
 * unknown. */
int	vh_upload_delete(PGconn *, const struct vh_upload *, char **err)
	    __attribute__((warn_unused_result));

/* Removes unfinished uploads past their expiry; *n gets how many. */
int	vh_upload_reap(PGconn *, struct vh_blobstore *, int *n, char **err)
	    __attribute__((warn_unused_result));

#endif
