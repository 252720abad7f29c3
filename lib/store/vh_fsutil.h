#ifndef VH_FSUTIL_H
#define VH_FSUTIL_H
/* File-system helpers of the blob store's front end and its backends
 * alike (directory fds, fsync, readdir, the check of a blob's name), in a
 * module of their own so that neither calls back into the other. */
#include <stdbool.h>
#include <stdint.h>

struct stat;

/* How far ahead of the final fdatasync writeback is started. */
#define VH_FSUTIL_WRITEBACK_STEP	(4 * 1024 * 1024)

/* True for 64 lowercase hex digits and nothing else: the only names a
 * path is ever built from. */
bool	vh_fsutil_valid_hex(const char *hex);
/* mkdirat with 0750; *created says whether it was made now. */
int	vh_fsutil_mkdir(int dirfd, const char *name, int *created);
/* Opens a directory below dirfd for fsync and *at calls; -1 on failure. */
int	vh_fsutil_opendir(int dirfd, const char *name);
/* fsync that retries EINTR; VH_EIO on failure, errno kept. */
int	vh_fsutil_fsync(int fd, const char *what);
/*
 * Starts writeback of [off, off + len) of fd (sync_file_range with only
 * SYNC_FILE_RANGE_WRITE: no data made durable, no metadata), so a large
 * body is mostly on its way to the disk by the time its fdatasync comes,
 * instead of all of it then. Durability still rests on that fdatasync
 * alone; a failure here is ignored for the same reason. It waits for no
 * I/O to finish, but it does wait for room in the device's queue, and
 * so belongs on a worker: callers start it every
 * VH_FSUTIL_WRITEBACK_STEP bytes (vh_apipart_writeback_note).
 */
void	vh_fsutil_writeback_range(int fd, int64_t off, int64_t len);
/*
 * Calls fn(fd of the directory, entry name, its lstat, arg) for each entry
 * of the directory dirfd/name but "." and "..". Returns the first non-zero
 * return of fn, or VH_EIO (errno kept) when the directory cannot be read.
 */
int	vh_fsutil_readdir(int dirfd, const char *name,
	    int (*fn)(int, const char *, const struct stat *, void *),
	    void *arg);

#endif
