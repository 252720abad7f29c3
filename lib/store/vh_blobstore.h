#ifndef VH_BLOBSTORE_H
#define VH_BLOBSTORE_H
/*
 * Content-addressed, durable blob store. A blob is named by the lower-case
 * hex SHA-256 of its bytes; identical content is stored once. Bytes are
 * first written to a spool file under <root>/spool/, then committed into
 * the backend (today a local directory: <root>/blobs/ab/cd/<sha256>).
 *
 * The store itself is immutable after vh_blobstore_new and may be used
 * from any thread at once; a writer or reader lives on one thread at a
 * time. Functions marked "blocking" fsync and belong on a worker thread.
 *
 * Blobs carry no reference count: deleting one removes it for every
 * upload that happened to have the same bytes. Callers that dedup in the
 * database must only delete when no row names the blob any more.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vh_blobentry.h"

/* The spool prefix used by vh_blob_writer_new, for vh_blobstore_sweep_spool. */
#define VH_BLOBSTORE_WRITER_PREFIX "blob"

struct vh_blobstore;
struct vh_blob_writer;		/* a blob being written; one thread at a time */
struct vh_blob_reader;

/*
 * Opens the store at root, creating root (its parent must exist), spool/,
 * blobs/ and quarantine/ with mode 0750 and fsyncing them. NULL with *err
 * set (caller frees) on failure.
 */
struct vh_blobstore *vh_blobstore_new(const char *root, char **err);
void	vh_blobstore_free(struct vh_blobstore *);
/* The root as given to vh_blobstore_new. Borrowed. */
const char *vh_blobstore_root(const struct vh_blobstore *);

/*
 * Blocking (worker only; asserted): starts a blob: creates a new spool
 * file (O_CLOEXEC, 0640, unique name) and takes its lock. NULL with *err
 * set (caller frees) and errno kept on failure; no file is left.
 */
struct vh_blob_writer *vh_blob_writer_new(struct vh_blobstore *, char **err);
/*
 * Appends bytes with plain write(2), no fsync and no writeback, so the
 * event loop may call it; updates a running SHA-256. Starting writeback
 * is the caller's (vh_blobstore_spool_writeback, on a worker). VH_EIO on failure with errno kept; the
 * writer is then broken and can only be aborted (commit fails too).
 */
int	vh_blob_writer_write(struct vh_blob_writer *, const void *, size_t)
	    __attribute__((warn_unused_result));
int64_t	vh_blob_writer_size(const struct vh_blob_writer *);
/* The spool file's name under spool/ (borrowed, the writer's life). */
const char *vh_blob_writer_name(const struct vh_blob_writer *);
/*
 * Blocking (worker only; asserted; it may wait for a full device queue):
 * starts writeback of [off, off + len) of spool/<name> on a descriptor
 * of its own (vh_fsutil_writeback_range), so that a writer's final
 * fdatasync finds little left. A file that is gone meanwhile (committed,
 * removed) is no error: there is nothing left to start.
 */
void	vh_blobstore_spool_writeback(struct vh_blobstore *, const char *name,
	    int64_t off, int64_t len);
/*
 * Blocking: fdatasync, move into the backend (if the blob already exists
 * the spool file is removed instead), fsync the directories involved.
 * Writes the hex SHA-256 into hex[65] ("" on failure). Takes ownership:
 * the writer is freed, and on failure its spool file removed, in every
 * case.
 */
int	vh_blob_writer_commit(struct vh_blob_writer *, char hex[65])
	    __attribute__((warn_unused_result));
/* Blocking (worker only; asserted): removes the spool file and frees;
 * NULL is a no-op. */
void	vh_blob_writer_abort(struct vh_blob_writer *);

/*
 * Blocking: turns a complete regular file (e.g. a finished resumable
 * upload under spool/) into a blob: hashes it by reading it, fdatasync,
 * rename (or unlink if the blob exists), fsync dirs. The file must be on
 * the store's file system (VH_EIO with errno EXDEV otherwise); symlinks
 * are not followed. VH_ENOENT when path is missing, VH_EINVAL when it is
 * not a regular file. On success the file at path is gone; on failure it
 * is left to the caller.
 */
int	vh_blobstore_put_file(struct vh_blobstore *, const char *path,
	    char hex[65]) __attribute__((warn_unused_result));
/*
 * Blocking: copies blob hex into a new file at path (0600), for tools that
 * want a path of their own (decoders). *err says why on failure (caller
 * frees); a partial file is removed.
 */
int	vh_blobstore_copy_out(struct vh_blobstore *, const char *hex,
	    const char *path, char **err) __attribute__((warn_unused_result));
/*
 * A descriptor of blob hex of its own (caller closes) and its size, for
 * sending with sendfile; VH_ENOENT when absent, VH_ENOTSUP for a backend
 * without descriptors.
 */
int	vh_blobstore_open_fd(struct vh_blobstore *, const char *hex, int *fd,
	    int64_t *size) __attribute__((warn_unused_result));

/* Blocking: the SHA-256 of a file (lower-case hex) and its size;
 * VH_ENOENT when it does not exist. */
int	vh_blobstore_hash_file(const char *path, char hex[65], int64_t *size)
	    __attribute__((warn_unused_result));
/*
 * A new unique path "<root>/spool/<prefix>.<32 hex>" for a caller-managed
 * file; it is not created. prefix is 1 to 32 of [A-Za-z0-9_-]; NULL when
 * it is not. Caller frees.
 */
char	*vh_blobstore_spool_path(struct vh_blobstore *, const char *prefix);

/* 0 and *size (size may be NULL), VH_ENOENT, VH_EINVAL for a bad hex. */
int	vh_blobstore_exists(struct vh_blobstore *, const char *hex,
	    int64_t *size) __attribute__((warn_unused_result));
/* 0 and a reader (caller frees), VH_ENOENT, VH_EINVAL, VH_EIO. */
int	vh_blobstore_open(struct vh_blobstore *, const char *hex,
	    struct vh_blob_reader **) __attribute__((warn_unused_result));
int64_t	vh_blob_reader_size(const struct vh_blob_reader *);
/*
 * Ranged read: up to len bytes at offset; fewer only at the end of the
 * blob (0 at or past it). Returns bytes read, VH_EINVAL for a negative
 * offset, or VH_EIO.
 */
ssize_t	vh_blob_reader_pread(struct vh_blob_reader *, void *, size_t len,
	    int64_t offset) __attribute__((warn_unused_result));
/*
 * A descriptor for zero-copy sending (sendfile), or -1 when the backend
 * has none. Borrowed: stays open until vh_blob_reader_free. Use pread or
 * sendfile with an explicit offset; do not move its file position.
 */
int	vh_blob_reader_fd(const struct vh_blob_reader *);
void	vh_blob_reader_free(struct vh_blob_reader *);

/* Blocking: removes the blob and fsyncs its directory; VH_ENOENT if absent. */
int	vh_blobstore_delete(struct vh_blobstore *, const char *hex)
	    __attribute__((warn_unused_result));
/*
 * Blocking: moves the blob to quarantine/<hex>, where it is never served;
 * VH_ENOENT if absent. A later upload of the same bytes stores it again:
 * callers that must refuse such content check vh_blobstore_quarantined.
 */
int	vh_blobstore_quarantine(struct vh_blobstore *, const char *hex)
	    __attribute__((warn_unused_result));
/*
 * Blocking: moves quarantine/<hex> back into the store, for a writer that
 * relies on the same content (vh_blobgc_pin). VH_ENOENT when it is not
 * there.
 */
int	vh_blobstore_release(struct vh_blobstore *, const char *hex)
	    __attribute__((warn_unused_result));
/* Whether quarantine/<hex> exists. */
bool	vh_blobstore_quarantined(struct vh_blobstore *, const char *hex);

/*
 * Removes regular files in spool/ named "<prefix>.*" (any name when prefix
 * is NULL) last modified more than max_age_s seconds ago: crash leftovers.
 * Returns how many, or VH_EIO / VH_EINVAL.
 */
int	vh_blobstore_sweep_spool(struct vh_blobstore *, const char *prefix,
	    int64_t max_age_s);


/*
 * Blocking: calls fn for every file the backend holds, in no order, and
 * also for everything under blobs/ that is not a blob where a blob
 * belongs (hex NULL; a directory is reported, not entered). Stops at the
 * first non-zero return of fn and returns it; VH_EIO when a directory
 * cannot be read. Files added meanwhile may or may not be seen.
 */
int	vh_blobstore_each(struct vh_blobstore *, vh_blobstore_each_fn, void *);
/* The same for spool/ (hex is always NULL, path the file's name). */
int	vh_blobstore_each_spool(struct vh_blobstore *, vh_blobstore_each_fn,
	    void *);

/* Bytes an unprivileged writer may still put on the store's file system. */
int	vh_blobstore_space(struct vh_blobstore *, int64_t *avail)
	    __attribute__((warn_unused_result));

/*
 * Takes the exclusive lock (an OFD lock on the whole file) that every
 * writer of a spool file holds while it may still write: the blob
 * writer, a tus PATCH, an upload's creation. wait false: VH_ECONFLICT
 * when another descriptor holds it. Released by closing fd.
 */
int	vh_blobstore_lock_fd(int fd, bool wait)
	    __attribute__((warn_unused_result));
/*
 * For the litter sweep: opens spool/<name> and takes its lock, so no
 * writer can still be working on it (*fd, caller closes after removing
 * the file with vh_blobstore_spool_remove). VH_ECONFLICT while a live
 * writer holds it, VH_ENOENT, VH_EINVAL for a name with a '/'.
 */
int	vh_blobstore_spool_claim(struct vh_blobstore *, const char *name,
	    int *fd) __attribute__((warn_unused_result));
int	vh_blobstore_spool_remove(struct vh_blobstore *, const char *name)
	    __attribute__((warn_unused_result));

/* Exactly 64 lower-case hex digits; guards every path built from a hex. */
bool	vh_blobstore_valid_hex(const char *hex);

#endif
