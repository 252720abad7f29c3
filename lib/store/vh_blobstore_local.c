/*
 * The local directory backend of the blob store: blobs live at
 * <root>/blobs/ab/cd/<sha256>, two levels of 256 directories so that no
 * directory grows past a few thousand entries. A blob arrives by rename
 * from the spool (same file system), with RENAME_NOREPLACE so that two
 * uploads of the same bytes racing each other both succeed and leave one
 * file. Durability follows the usual rules: the data was fdatasynced by
 * the caller, and each directory whose entries change is fsynced before
 * we report success.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vh_blobstore_backend.h"
#include "vh_unused.h"
#include "vh_error.h"
#include "vh_fsutil.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

struct local {
	int	 blobs_fd;
	int	 quar_fd;
};

/* "ab/cd/<hex>" relative to blobs/; hex was validated by the caller. */
static void
rel_path(const char *hex, char out[71])
{
	snprintf(out, 71, "%.2s/%.2s/%s", hex, hex + 2, hex);
}

static int
fail_errno(const char *what, const char *hex)
{
	int	 saved = errno;

	vh_log_warn("blobstore: %s %s", what, hex);
	errno = saved;
	return (VH_EIO);
}

/*
 * Makes blobs/ab/cd and returns a descriptor on it. A directory created
 * here has its parent fsynced at once. One created concurrently by
 * another committer may not be durable yet when we see EEXIST; ext4 and
 * XFS commit their journal in order, so our later fsync of cd covers it.
 */
static int
blob_dir(struct local *l, const char *hex)
{
	char	 ab[3], cd[3];
	int	 abfd, cdfd = -1, created;

	memcpy(ab, hex, 2);
	ab[2] = '\0';
	memcpy(cd, hex + 2, 2);
	cd[2] = '\0';
	if (vh_fsutil_mkdir(l->blobs_fd, ab, &created) != 0)
		return (-1);
	if (created && vh_fsutil_fsync(l->blobs_fd, "blobs") != 0)
		return (-1);
	if ((abfd = vh_fsutil_opendir(l->blobs_fd, ab)) == -1)
		return (-1);
	if (vh_fsutil_mkdir(abfd, cd, &created) != 0)
		goto out;
	if (created && vh_fsutil_fsync(abfd, ab) != 0)
		goto out;
	cdfd = vh_fsutil_opendir(abfd, cd);
out:
	close(abfd);
	return (cdfd);
}

static int
local_store(void *impl, int dirfd, const char *name, int fd VH_UNUSED,
    const char *hex, int64_t size)
{
	struct local	*l = impl;
	struct stat	 st;
	int		 cdfd, rc = VH_EIO;

	if ((cdfd = blob_dir(l, hex)) == -1)
		return (fail_errno("mkdir for", hex));
	if (renameat2(dirfd, name, cdfd, hex, RENAME_NOREPLACE) == 0)
		goto sync;
	if (errno == EINVAL || errno == ENOSYS) {
		/* No RENAME_NOREPLACE here; same hash, same bytes. */
		if (renameat(dirfd, name, cdfd, hex) == -1) {
			rc = fail_errno("rename to", hex);
			goto out;
		}
		goto sync;
	}
	if (errno != EEXIST) {
		rc = fail_errno("rename to", hex);
		goto out;
	}
	if (fstatat(cdfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size == size) {
		if (unlinkat(dirfd, name, 0) == -1) {
			rc = fail_errno("unlink duplicate of", hex);
			goto out;
		}
		vh_log_debug("blobstore: %s already stored", hex);
	} else {
		/* Not the bytes its name promises: ours are, so replace it. */
		vh_log_warnx("blobstore: stored %s has the wrong size, "
		    "replacing it", hex);
		if (renameat(dirfd, name, cdfd, hex) == -1) {
			rc = fail_errno("rename to", hex);
			goto out;
		}
	}
sync:
	/*
	 * Also when the blob was already there: a concurrent committer may
	 * have renamed it in but not yet fsynced the directory.
	 */
	rc = vh_fsutil_fsync(cdfd, hex);
out:
	close(cdfd);
	return (rc);
}

static int
local_exists(void *impl, const char *hex, int64_t *size)
{
	struct local	*l = impl;
	struct stat	 st;
	char		 rel[71];

	rel_path(hex, rel);
	if (fstatat(l->blobs_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return (VH_ENOENT);
		return (fail_errno("stat", hex));
	}
	if (!S_ISREG(st.st_mode))
		return (VH_ENOENT);
	if (size != NULL)
		*size = st.st_size;
	return (0);
}

static int
local_open(void *impl, const char *hex, struct vh_blob_reader **out)
{
	struct local		*l = impl;
	struct vh_blob_reader	*r;
	struct stat		 st;
	char			 rel[71];
	int			 fd;

	rel_path(hex, rel);
	fd = openat(l->blobs_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return (VH_ENOENT);
		return (fail_errno("open", hex));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (fail_errno("stat", hex));
	}
	r = vh_xcalloc(1, sizeof *r);
	r->be = &vh_blobstore_local_backend;
	r->size = st.st_size;
	r->fd = fd;
	*out = r;
	return (0);
}

static ssize_t
local_pread(struct vh_blob_reader *r, void *buf, size_t len, int64_t offset)
{
	char	*p = buf;
	size_t	 got = 0;
	ssize_t	 n;

	while (got < len) {
		n = pread(r->fd, p + got, len - got, (off_t)(offset + (int64_t)got));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (fail_errno("read", "blob"));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return ((ssize_t)got);
}

static void
local_reader_free(struct vh_blob_reader *r)
{
	close(r->fd);
	free(r);
}

/* Opens blobs/ab/cd without creating it. */
static int
existing_dir(struct local *l, const char *hex, int *cdfd)
{
	char	 rel[6];

	snprintf(rel, sizeof rel, "%.2s/%.2s", hex, hex + 2);
	if ((*cdfd = vh_fsutil_opendir(l->blobs_fd, rel)) != -1)
		return (0);
	if (errno == ENOENT || errno == ENOTDIR)
		return (VH_ENOENT);
	return (fail_errno("open directory of", hex));
}

static int
local_remove(void *impl, const char *hex)
{
	int	 cdfd, rc;

	if ((rc = existing_dir(impl, hex, &cdfd)) != 0)
		return (rc);
	if (unlinkat(cdfd, hex, 0) == -1)
		rc = errno == ENOENT ? VH_ENOENT : fail_errno("unlink", hex);
	else
		rc = vh_fsutil_fsync(cdfd, hex);
	close(cdfd);
	return (rc);
}

static int
local_quarantine(void *impl, const char *hex)
{
	struct local	*l = impl;
	int		 cdfd, rc;

	if ((rc = existing_dir(l, hex, &cdfd)) != 0)
		return (rc);
	if (renameat(cdfd, hex, l->quar_fd, hex) == -1) {
		rc = errno == ENOENT ? VH_ENOENT : fail_errno("quarantine", hex);
		goto out;
	}
	/* Both directories changed; neither may be left to the kernel. */
	if ((rc = vh_fsutil_fsync(l->quar_fd, "quarantine")) == 0)
		rc = vh_fsutil_fsync(cdfd, hex);
	if (rc == 0)
		vh_log_info("blobstore: quarantined %s", hex);
out:
	close(cdfd);
	return (rc);
}

static int
local_release(void *impl, const char *hex)
{
	struct local	*l = impl;
	int		 cdfd, rc;

	if ((rc = existing_dir(l, hex, &cdfd)) != 0)
		return (rc);
	if (renameat(l->quar_fd, hex, cdfd, hex) == -1) {
		rc = errno == ENOENT ? VH_ENOENT : fail_errno("release", hex);
		goto out;
	}
	if ((rc = vh_fsutil_fsync(cdfd, hex)) == 0)
		rc = vh_fsutil_fsync(l->quar_fd, "quarantine");
	if (rc == 0)
		vh_log_info("blobstore: %s back from quarantine", hex);
out:
	close(cdfd);
	return (rc);
}

static int
local_quarantined(void *impl, const char *hex)
{
	struct local	*l = impl;
	struct stat	 st;

	if (fstatat(l->quar_fd, hex, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return (VH_ENOENT);
	return (0);
}

/*
 * The walk of blobs/: two levels of two-hex-digit directories, then files
 * named by their whole hash, whose first four digits must match the path.
 * Anything else is reported with hex NULL and, if a directory, not
 * entered: a stray copy or an editor's backup is the operator's to judge.
 */
struct walk {
	vh_blobstore_each_fn	 fn;
	void			*arg;
	char			 ab[3], cd[3];
};

static bool
two_hex(const char *s)
{
	return (strspn(s, "0123456789abcdef") == 2 && s[2] == '\0');
}

static int
report(struct walk *w, const char *path, const char *hex,
    const struct stat *st)
{
	struct vh_blob_entry e = {
		.hex = hex, .path = path, .regular = S_ISREG(st->st_mode),
		.size = st->st_size, .mtime = st->st_mtime,
		.ctime = st->st_ctime,
	};

	return (w->fn(&e, w->arg));
}

static int
visit_file(int fd VH_UNUSED, const char *name, const struct stat *st, void *arg)
{
	struct walk	*w = arg;
	char		 path[128];
	bool		 blob;

	snprintf(path, sizeof path, "%s/%s/%.64s", w->ab, w->cd, name);
	blob = S_ISREG(st->st_mode) && vh_fsutil_valid_hex(name) &&
	    memcmp(name, w->ab, 2) == 0 && memcmp(name + 2, w->cd, 2) == 0;
	if (!blob && strlen(name) > 64)
		snprintf(path, sizeof path, "%s/%s/%.60s...", w->ab, w->cd, name);
	return (report(w, path, blob ? name : NULL, st));
}

static int
visit_cd(int fd, const char *name, const struct stat *st, void *arg)
{
	struct walk	*w = arg;
	char		 path[80];

	snprintf(path, sizeof path, "%s/%.64s", w->ab, name);
	if (!S_ISDIR(st->st_mode) || !two_hex(name))
		return (report(w, path, NULL, st));
	memcpy(w->cd, name, 3);
	return (vh_fsutil_readdir(fd, name, visit_file, w));
}

static int
visit_ab(int fd, const char *name, const struct stat *st, void *arg)
{
	struct walk	*w = arg;
	char		 path[72];

	if (!S_ISDIR(st->st_mode) || !two_hex(name)) {
		snprintf(path, sizeof path, "%.64s", name);
		return (report(w, path, NULL, st));
	}
	memcpy(w->ab, name, 3);
	return (vh_fsutil_readdir(fd, name, visit_cd, w));
}

static int
local_each(void *impl, vh_blobstore_each_fn fn, void *arg)
{
	struct local	*l = impl;
	struct walk	 w = { .fn = fn, .arg = arg };
	int		 rc;

	if ((rc = vh_fsutil_readdir(l->blobs_fd, ".", visit_ab, &w)) ==
	    VH_EIO)
		vh_log_warn("blobstore: reading blobs/");
	return (rc);
}

static void
local_free(void *impl)
{
	struct local	*l = impl;

	close(l->blobs_fd);
	close(l->quar_fd);
	free(l);
}

void *
vh_blobstore_local_new(int root_fd, char **err)
{
	struct local	*l;

	l = vh_xcalloc(1, sizeof *l);
	l->blobs_fd = vh_fsutil_opendir(root_fd, "blobs");
	l->quar_fd = vh_fsutil_opendir(root_fd, "quarantine");
	if (l->blobs_fd == -1 || l->quar_fd == -1) {
		if (err != NULL)
			*err = vh_xasprintf("blob store: open blobs/ or "
			    "quarantine/: %s", strerror(errno));
		if (l->blobs_fd != -1)
			close(l->blobs_fd);
		if (l->quar_fd != -1)
			close(l->quar_fd);
		free(l);
		return (NULL);
	}
	return (l);
}

const struct vh_blob_backend vh_blobstore_local_backend = {
	.name = "local",
	.store = local_store,
	.exists = local_exists,
	.open = local_open,
	.pread = local_pread,
	.reader_free = local_reader_free,
	.remove = local_remove,
	.quarantine = local_quarantine,
	.quarantined = local_quarantined,
	.release = local_release,
	.each = local_each,
	.free = local_free,
};
