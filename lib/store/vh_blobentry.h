#ifndef VH_BLOBENTRY_H
#define VH_BLOBENTRY_H
/* The types a blob store walk hands out, shared by the front end
 * (vh_blobstore.h) and the backends (vh_blobstore_backend.h) so that a
 * backend needs nothing of the front end. */
#include <stdbool.h>
#include <stdint.h>

/*
 * One file found by vh_blobstore_each or vh_blobstore_each_spool; all
 * borrowed for the duration of the callback.
 */
struct vh_blob_entry {
	const char	*hex;	/* the blob it holds; NULL: no blob's name or place */
	const char	*path;	/* below blobs/ (or spool/), e.g. "ab/cd/<hex>" */
	bool		 regular;	/* false: a directory, link or device */
	int64_t		 size;
	int64_t		 mtime;	/* seconds since the epoch */
	int64_t		 ctime;	/* status change: a rename into the store */
};
typedef int (*vh_blobstore_each_fn)(const struct vh_blob_entry *, void *);

#endif
