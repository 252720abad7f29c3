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
	bool		 completed;
	int64_t		 expires;	/* seconds since the epoch */
	int64_t		 media_id, entry_id;
	char		 blob_sha256[65];	/* "" until complete */
};

void	vh_upload_clear(struct vh_upload *);

/*
 * Creates an upload: an empty partial file (its directory synced) and its
 * row. u->length, u->metadata and who are inputs; the rest is filled in.
 * *fd gets the file opened for writing (caller closes).
 */
int	vh_upload_create(PGconn *, struct vh_blobstore *, struct vh_upload *u,
	    const struct vh_principal *who, int64_t expiry_ms, int *fd,
	    char **err) __attribute__((warn_unused_result));

/* Reads an upload's row; VH_ENOENT when there is none. */
int	vh_upload_load(PGconn *, struct vh_blobstore *, const char *id,
	    struct vh_upload *, char **err) __attribute__((warn_unused_result));

/* Opens the partial file for writing and cuts it to the durable offset
 * (bytes past it are leftovers of an interrupted request). */
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
 * Finishes a complete upload: the partial file goes into the blob store
 * and, in one transaction, the entry (from the metadata) and its media
 * row are created and the upload marked complete. *entry gets the entry
 * (caller decrefs). VH_EINVAL with a message for the client when the
 * metadata does not describe a valid entry.
 */
int	vh_upload_finish(PGconn *, struct vh_blobstore *, struct vh_upload *,
	    const struct vh_principal *who, json_t **entry, char **err)
	    __attribute__((warn_unused_result));

/*
 * Records an upload that arrived whole in its creation request and is
 * already stored as media_id: a finished row, so HEAD answers for it.
 */
int	vh_upload_record_complete(PGconn *, struct vh_upload *u,
	    const struct vh_principal *who, int64_t media_id, char **err)
	    __attribute__((warn_unused_result));

/* Removes an upload's row and partial file. VH_ENOENT if unknown. */
int	vh_upload_delete(PGconn *, const struct vh_upload *, char **err)
	    __attribute__((warn_unused_result));

/* Removes unfinished uploads past their expiry; *n gets how many. */
int	vh_upload_reap(PGconn *, struct vh_blobstore *, int *n, char **err)
	    __attribute__((warn_unused_result));

#endif
