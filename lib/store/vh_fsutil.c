/* File-system helpers shared by the blob store's front end and backends:
 * fsync that keeps EIO honest, mkdir/open of directories below a
 * directory fd, and a readdir that lstat()s each entry. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "vh_error.h"
#include "vh_fsutil.h"
#include "vh_log.h"

void
vh_fsutil_writeback_range(int fd, int64_t off, int64_t len)
{
	/* Only the new range: pages of an older one are under writeback
	 * already and would be skipped anyway. */
	(void)sync_file_range(fd, off, len, SYNC_FILE_RANGE_WRITE);
}

bool
vh_fsutil_valid_hex(const char *hex)
{
	return (hex != NULL && strspn(hex, "0123456789abcdef") == 64 &&
	    hex[64] == '\0');
}

int
vh_fsutil_fsync(int fd, const char *what)
{
	int	 saved;

	/*
	 * Only EINTR is retried: after EIO the kernel may have dropped the
	 * dirty pages, so a second fsync succeeding would prove nothing.
	 */
	while (fsync(fd) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		vh_log_warn("blobstore: fsync %s", what);
		errno = saved;
		return (VH_EIO);
	}
	return (0);
}

int
vh_fsutil_mkdir(int dirfd, const char *name, int *created)
{
	*created = 0;
	if (mkdirat(dirfd, name, 0750) == 0) {
		*created = 1;
		return (0);
	}
	if (errno == EEXIST)
		return (0);
	return (VH_EIO);
}

int
vh_fsutil_opendir(int dirfd, const char *name)
{
	return (openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW));
}

int
vh_fsutil_readdir(int dirfd, const char *name,
    int (*fn)(int, const char *, const struct stat *, void *), void *arg)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	int		 fd, rc = 0, saved;

	/* A fresh descriptor: readdir moves the offset of the one it uses. */
	if ((fd = vh_fsutil_opendir(dirfd, name)) == -1)
		return (VH_EIO);
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return (VH_EIO);
	}
	while (rc == 0) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				rc = VH_EIO;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* Gone since readdir saw it: a concurrent delete, not ours. */
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		rc = fn(fd, de->d_name, &st, arg);
	}
	saved = errno;
	closedir(d);
	errno = saved;
	return (rc);
}
