#ifndef VH_BLOBSTORE_BACKEND_H
#define VH_BLOBSTORE_BACKEND_H
/*
 * Internal to the blob store: the table a storage backend fills in. The
 * spool (local files, hashing, sweeping) is shared by every backend; a
 * backend only takes complete, hashed, fdatasynced files and serves them
 * back. An S3-compatible backend would upload in store() and read with
 * ranged GETs, returning -1 from the reader's fd.
 */
#include <stdint.h>
#include <sys/types.h>

#include "vh_blobentry.h"

struct vh_blob_backend;

struct vh_blob_reader {
	const struct vh_blob_backend *be;
	int64_t		 size;
	int		 fd;		/* -1 when the backend has none */
	void		*priv;		/* the backend's own state */
};

struct vh_blob_backend {
	const char	*name;
	/*
	 * Takes the complete file dirfd/name (open as fd, already
	 * fdatasynced, size bytes, SHA-256 hex) into the store durably.
	 * On success the file is gone; on failure it is left alone.
	 */
	int	(*store)(void *, int dirfd, const char *name, int fd,
		    const char *hex, int64_t size);
	int	(*exists)(void *, const char *hex, int64_t *size);
	int	(*open)(void *, const char *hex, struct vh_blob_reader **);
	ssize_t	(*pread)(struct vh_blob_reader *, void *, size_t, int64_t);
	void	(*reader_free)(struct vh_blob_reader *);
	int	(*remove)(void *, const char *hex);
	int	(*quarantine)(void *, const char *hex);
	int	(*quarantined)(void *, const char *hex);
	/* Moves a quarantined blob back into the store. */
	int	(*release)(void *, const char *hex);
	int	(*each)(void *, vh_blobstore_each_fn, void *);
	void	(*free)(void *);
};

/* The local directory backend under root_fd: blobs/ and quarantine/. */
extern const struct vh_blob_backend vh_blobstore_local_backend;
void	*vh_blobstore_local_new(int root_fd, char **err);

#endif
