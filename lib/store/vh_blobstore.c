/*
 * Blob store front end: the spool and the writer, shared by every backend.
 * A writer appends to <root>/spool/blob.<random> with plain write(2) while
 * hashing with EVP SHA-256, so the event loop can feed it; commit (on a
 * worker) fdatasyncs the file and hands it with its hash to the backend,
 * which moves it into place durably. put_file does the same for a file
 * that was written some other way. Every path built from a hash is checked
 * by vh_blobstore_valid_hex first; everything else uses directory fds
 * opened once, so the working directory never matters.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vh_blobstore.h"
#include "vh_unused.h"
#include "vh_blobstore_backend.h"
#include "vh_error.h"
#include "vh_fsutil.h"
#include "vh_log.h"
#include "vh_thread.h"
#include "vh_xmalloc.h"

#define READ_CHUNK	(64 * 1024)
#define PREFIX_MAX	32

struct vh_blobstore {
	char				*root;
	int				 root_fd;
	int				 spool_fd;
	const struct vh_blob_backend	*be;
	void				*impl;
};

struct vh_blob_writer {
	struct vh_blobstore	*bs;
	int			 fd;
	char			*name;		/* under spool/ */
	EVP_MD_CTX		*md;
	int64_t			 size;
	int			 broken;	/* a write failed */
};

bool
vh_blobstore_valid_hex(const char *hex)
{
	return (vh_fsutil_valid_hex(hex));
}

static bool
valid_prefix(const char *p)
{
	size_t	 n;

	if (p == NULL)
		return (false);
	n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-");
	return (n > 0 && n <= PREFIX_MAX && p[n] == '\0');
}




static void
to_hex(const unsigned char *md, char hex[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[64] = '\0';
}

static int
finish_hash(EVP_MD_CTX *md, char hex[65])
{
	unsigned char	 out[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0;

	if (EVP_DigestFinal_ex(md, out, &n) != 1 || n != 32) {
		vh_log_warnx("blobstore: SHA-256 failed");
		return (VH_EIO);
	}
	to_hex(out, hex);
	return (0);
}

static EVP_MD_CTX *
new_hash(void)
{
	EVP_MD_CTX	*md;

	if ((md = EVP_MD_CTX_new()) == NULL)
		vh_fatal("blobstore: out of memory for a digest");
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		vh_fatal("blobstore: SHA-256 is not available");
	return (md);
}

/* "<prefix>.<32 random hex digits>"; caller frees. */
static char *
spool_name(const char *prefix)
{
	unsigned char	 r[16];
	char		 hex[33];
	size_t		 got = 0;
	ssize_t		 n;

	while (got < sizeof r) {
		n = getrandom(r + got, sizeof r - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			vh_fatal("blobstore: getrandom: %s", strerror(errno));
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	return (vh_xasprintf("%s.%s", prefix, hex));
}

struct vh_blobstore *
vh_blobstore_new(const char *root, char **err)
{
	static const char	*dirs[] = { "spool", "blobs", "quarantine" };
	struct vh_blobstore	*bs;
	char			*parent = NULL, *slash;
	int			 created, fd, rc;

	bs = vh_xcalloc(1, sizeof *bs);
	bs->root_fd = bs->spool_fd = -1;
	bs->root = vh_xstrdup(root);
	if (vh_fsutil_mkdir(AT_FDCWD, root, &created) != 0)
		goto syserr;
	if (created) {
		/* Make the new root's own name durable too. */
		parent = vh_xstrdup(root);
		while ((slash = strrchr(parent, '/')) != NULL &&
		    slash[1] == '\0' && slash != parent)
			*slash = '\0';
		if ((slash = strrchr(parent, '/')) == NULL)
			strcpy(parent, ".");
		else
			slash[slash == parent ? 1 : 0] = '\0';
		if ((fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
			goto syserr;
		rc = vh_fsutil_fsync(fd, parent);
		close(fd);
		if (rc != 0)
			goto syserr;
	}
	/* The root may be a symlink (to another disk); nothing below it. */
	if ((bs->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto syserr;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (vh_fsutil_mkdir(bs->root_fd, dirs[i], &created) != 0)
			goto syserr;
		if ((fd = vh_fsutil_opendir(bs->root_fd, dirs[i])) == -1)
			goto syserr;
		rc = vh_fsutil_fsync(fd, dirs[i]);
		if (i == 0)
			bs->spool_fd = fd;
		else
			close(fd);
		if (rc != 0)
			goto syserr;
	}
	if (vh_fsutil_fsync(bs->root_fd, root) != 0)
		goto syserr;
	bs->be = &vh_blobstore_local_backend;
	if ((bs->impl = vh_blobstore_local_new(bs->root_fd, err)) == NULL)
		goto fail;
	free(parent);
	return (bs);
syserr:
	if (err != NULL)
		*err = vh_xasprintf("blob store %s: %s", root, strerror(errno));
fail:
	free(parent);
	vh_blobstore_free(bs);
	return (NULL);
}

void
vh_blobstore_free(struct vh_blobstore *bs)
{
	if (bs == NULL)
		return;
	if (bs->impl != NULL)
		bs->be->free(bs->impl);
	if (bs->spool_fd != -1)
		close(bs->spool_fd);
	if (bs->root_fd != -1)
		close(bs->root_fd);
	free(bs->root);
	free(bs);
}

const char *
vh_blobstore_root(const struct vh_blobstore *bs)
{
	return (bs->root);
}

char *
vh_blobstore_spool_path(struct vh_blobstore *bs, const char *prefix)
{
	char	*name, *path;

	if (!valid_prefix(prefix))
		return (NULL);
	name = spool_name(prefix);
	path = vh_xasprintf("%s/spool/%s", bs->root, name);
	free(name);
	return (path);
}

int
vh_blobstore_space(struct vh_blobstore *bs, int64_t *avail)
{
	struct statvfs	sv;

	if (fstatvfs(bs->root_fd, &sv) == -1)
		return (VH_EIO);
	*avail = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
	return (0);
}

int
vh_blobstore_lock_fd(int fd, bool wait)
{
	struct flock	fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	/* An open file description lock: it belongs to this descriptor, so
	 * another thread of this process opening the file conflicts too,
	 * and it goes away with the descriptor (or the process). */
	while (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == -1) {
		if (errno == EINTR)
			continue;
		return (errno == EAGAIN || errno == EACCES ? VH_ECONFLICT :
		    VH_EIO);
	}
	return (0);
}

int
vh_blobstore_spool_claim(struct vh_blobstore *bs, const char *name, int *fd)
{
	int	rc;

	*fd = -1;
	if (name[0] == '.' || strchr(name, '/') != NULL)
		return (VH_EINVAL);
	if ((*fd = openat(bs->spool_fd, name, O_RDWR | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK)) == -1)
		return (errno == ENOENT ? VH_ENOENT : VH_EIO);
	if ((rc = vh_blobstore_lock_fd(*fd, false)) != 0) {
		close(*fd);
		*fd = -1;
	}
	return (rc);
}

int
vh_blobstore_spool_remove(struct vh_blobstore *bs, const char *name)
{
	VH_ASSERT_OFF_LOOP();
	if (name[0] == '.' || strchr(name, '/') != NULL)
		return (VH_EINVAL);
	if (unlinkat(bs->spool_fd, name, 0) == -1)
		return (errno == ENOENT ? VH_ENOENT : VH_EIO);
	vh_log_info("blobstore: swept spool/%s", name);
	return (0);
}

struct vh_blob_writer *
vh_blob_writer_new(struct vh_blobstore *bs, char **err)
{
	struct vh_blob_writer	*w;
	int			 tries = 0;

	/* Creating a file waits on the directory (and the journal): a
	 * worker's job, never the loop's (issue 9). */
	VH_ASSERT_OFF_LOOP();
	w = vh_xcalloc(1, sizeof *w);
	w->bs = bs;
	do {
		free(w->name);
		w->name = spool_name(VH_BLOBSTORE_WRITER_PREFIX);
		w->fd = openat(bs->spool_fd, w->name,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	} while (w->fd == -1 && errno == EEXIST && ++tries < 4);
	/* Held until commit or abort: the litter sweep of another process
	 * (vh_blobstore_spool_claim) sees that this file is alive. */
	if (w->fd != -1 && vh_blobstore_lock_fd(w->fd, true) != 0) {
		close(w->fd);
		unlinkat(bs->spool_fd, w->name, 0);
		w->fd = -1;
	}
	if (w->fd == -1) {
		if (err != NULL)
			*err = vh_xasprintf("%s/spool/%s: %s", bs->root,
			    w->name, strerror(errno));
		free(w->name);
		free(w);
		return (NULL);
	}
	w->md = new_hash();
	return (w);
}

int
vh_blob_writer_write(struct vh_blob_writer *w, const void *buf, size_t len)
{
	const char	*p = buf;
	size_t		 left = len;
	ssize_t		 n;
	int		 saved;

	if (w->broken) {
		errno = EIO;
		return (VH_EIO);
	}
	while (left > 0) {
		n = write(w->fd, p, left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			/* Part may be on disk already: the file is unusable. */
			saved = errno;
			w->broken = 1;
			vh_log_warn("blobstore: write spool/%s", w->name);
			errno = saved;
			return (VH_EIO);
		}
		p += n;
		left -= (size_t)n;
	}
	if (EVP_DigestUpdate(w->md, buf, len) != 1) {
		w->broken = 1;
		errno = EIO;
		return (VH_EIO);
	}
	w->size += (int64_t)len;
	return (0);
}

int64_t
vh_blob_writer_size(const struct vh_blob_writer *w)
{
	return (w->size);
}

const char *
vh_blob_writer_name(const struct vh_blob_writer *w)
{
	return (w->name);
}

void
vh_blobstore_spool_writeback(struct vh_blobstore *bs, const char *name,
    int64_t off, int64_t len)
{
	int	fd;

	VH_ASSERT_OFF_LOOP();
	if (name[0] == '.' || strchr(name, '/') != NULL)
		return;
	/* A description of its own, without the writer's lock: closing it
	 * releases nothing, and the writer may close (or commit, rename,
	 * remove) its file meanwhile; then there is nothing left to start. */
	if ((fd = openat(bs->spool_fd, name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK)) == -1)
		return;
	vh_fsutil_writeback_range(fd, off, len);
	close(fd);
}

static void
writer_free(struct vh_blob_writer *w, int unlink_spool)
{
	if (unlink_spool)
		VH_ASSERT_OFF_LOOP();
	if (w->fd != -1)
		close(w->fd);
	if (unlink_spool && unlinkat(w->bs->spool_fd, w->name, 0) == -1 &&
	    errno != ENOENT)
		vh_log_warn("blobstore: unlink spool/%s", w->name);
	EVP_MD_CTX_free(w->md);
	free(w->name);
	free(w);
}

void
vh_blob_writer_abort(struct vh_blob_writer *w)
{
	if (w == NULL)
		return;
	writer_free(w, 1);
}

static int
datasync(int fd, const char *what)
{
	int	 saved;

	while (fdatasync(fd) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		vh_log_warn("blobstore: fdatasync %s", what);
		errno = saved;
		return (VH_EIO);
	}
	return (0);
}

int
vh_blob_writer_commit(struct vh_blob_writer *w, char hex[65])
{
	int	 rc, saved;

	hex[0] = '\0';
	if (w == NULL)
		return (VH_EINVAL);
	if (w->broken) {
		rc = VH_EIO;
		goto fail;
	}
	if ((rc = datasync(w->fd, w->name)) != 0)
		goto fail;
	if ((rc = finish_hash(w->md, hex)) != 0)
		goto fail;
	rc = w->bs->be->store(w->bs->impl, w->bs->spool_fd, w->name, w->fd,
	    hex, w->size);
	if (rc != 0)
		goto fail;
	writer_free(w, 0);
	return (0);
fail:
	saved = errno;
	hex[0] = '\0';
	writer_free(w, 1);
	errno = saved;
	return (rc);
}

/* Hashes fd from its start; *size gets the number of bytes read. */
static int
hash_fd(int fd, const char *path, char hex[65], int64_t *size)
{
	EVP_MD_CTX	*md = new_hash();
	char		*buf = vh_xmalloc(READ_CHUNK);
	int64_t		 off = 0;
	ssize_t		 n;
	int		 rc = VH_EIO, saved;

	for (;;) {
		n = pread(fd, buf, READ_CHUNK, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			vh_log_warn("blobstore: read %s", path);
			errno = saved;
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1)
			goto out;
		off += n;
	}
	if ((rc = finish_hash(md, hex)) == 0)
		*size = off;
out:
	free(buf);
	EVP_MD_CTX_free(md);
	return (rc);
}

int
vh_blobstore_copy_out(struct vh_blobstore *bs, const char *hex,
    const char *path, char **err)
{
	struct vh_blob_reader	*rd = NULL;
	char			*buf = NULL;
	int64_t			 off = 0;
	ssize_t			 n = 0;
	int			 fd = -1, rc;

	if ((rc = vh_blobstore_open(bs, hex, &rd)) != 0) {
		*err = vh_xasprintf("blob %s: %s", hex, vh_strerror(rc));
		return (rc);
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		*err = vh_xasprintf("%s: %s", path, strerror(errno));
		rc = VH_EIO;
		goto out;
	}
	buf = vh_xmalloc(READ_CHUNK);
	while ((n = vh_blob_reader_pread(rd, buf, READ_CHUNK, off)) > 0) {
		if (write(fd, buf, (size_t)n) != n) {
			*err = vh_xasprintf("%s: %s", path, strerror(errno));
			rc = VH_EIO;
			goto out;
		}
		off += n;
	}
	if (n < 0) {
		*err = vh_xasprintf("reading blob %s", hex);
		rc = VH_EIO;
	}
out:
	if (fd != -1 && close(fd) == -1 && rc == 0) {
		*err = vh_xasprintf("%s: %s", path, strerror(errno));
		rc = VH_EIO;
	}
	if (rc != 0 && fd != -1)
		unlink(path);
	free(buf);
	vh_blob_reader_free(rd);
	return (rc);
}

int
vh_blobstore_open_fd(struct vh_blobstore *bs, const char *hex, int *fd,
    int64_t *size)
{
	struct vh_blob_reader	*rd = NULL;
	int			 rc;

	*fd = -1;
	if ((rc = vh_blobstore_open(bs, hex, &rd)) != 0)
		return (rc);
	if (vh_blob_reader_fd(rd) == -1)
		rc = VH_ENOTSUP;
	else if ((*fd = dup(vh_blob_reader_fd(rd))) == -1)
		rc = VH_EIO;
	else
		*size = vh_blob_reader_size(rd);
	vh_blob_reader_free(rd);
	return (rc);
}

int
vh_blobstore_hash_file(const char *path, char hex[65], int64_t *size)
{
	int	fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (errno == ENOENT ? VH_ENOENT : VH_EIO);
	rc = hash_fd(fd, path, hex, size);
	close(fd);
	return (rc);
}

int
vh_blobstore_put_file(struct vh_blobstore *bs, const char *path,
    char hex[65])
{
	struct stat	 st;
	int64_t		 size;
	int		 fd, rc = VH_EIO, saved;

	hex[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		saved = errno;
		vh_log_warn("blobstore: open %s", path);
		errno = saved;
		return (errno == ENOENT ? VH_ENOENT : VH_EIO);
	}
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		vh_log_warnx("blobstore: %s is not a regular file", path);
		rc = VH_EINVAL;
		goto out;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if ((rc = hash_fd(fd, path, hex, &size)) != 0)
		goto out;
	/* fsync works on a read-only descriptor and covers every writer. */
	if ((rc = datasync(fd, path)) != 0)
		goto out;
	rc = bs->be->store(bs->impl, AT_FDCWD, path, fd, hex, size);
out:
	saved = errno;
	if (rc != 0)
		hex[0] = '\0';
	close(fd);
	errno = saved;
	return (rc);
}

int
vh_blobstore_exists(struct vh_blobstore *bs, const char *hex, int64_t *size)
{
	if (!vh_blobstore_valid_hex(hex))
		return (VH_EINVAL);
	return (bs->be->exists(bs->impl, hex, size));
}

int
vh_blobstore_open(struct vh_blobstore *bs, const char *hex,
    struct vh_blob_reader **r)
{
	*r = NULL;
	if (!vh_blobstore_valid_hex(hex))
		return (VH_EINVAL);
	return (bs->be->open(bs->impl, hex, r));
}

int64_t
vh_blob_reader_size(const struct vh_blob_reader *r)
{
	return (r->size);
}

ssize_t
vh_blob_reader_pread(struct vh_blob_reader *r, void *buf, size_t len,
    int64_t offset)
{
	if (offset < 0)
		return (VH_EINVAL);
	if (offset >= r->size || len == 0)
		return (0);
	if ((uint64_t)len > (uint64_t)(r->size - offset))
		len = (size_t)(r->size - offset);
	return (r->be->pread(r, buf, len, offset));
}

int
vh_blob_reader_fd(const struct vh_blob_reader *r)
{
	return (r->fd);
}

void
vh_blob_reader_free(struct vh_blob_reader *r)
{
	if (r == NULL)
		return;
	r->be->reader_free(r);
}

int
vh_blobstore_delete(struct vh_blobstore *bs, const char *hex)
{
	if (!vh_blobstore_valid_hex(hex))
		return (VH_EINVAL);
	return (bs->be->remove(bs->impl, hex));
}

int
vh_blobstore_quarantine(struct vh_blobstore *bs, const char *hex)
{
	if (!vh_blobstore_valid_hex(hex))
		return (VH_EINVAL);
	return (bs->be->quarantine(bs->impl, hex));
}

int
vh_blobstore_release(struct vh_blobstore *bs, const char *hex)
{
	if (!vh_blobstore_valid_hex(hex))
		return (VH_EINVAL);
	return (bs->be->release(bs->impl, hex));
}

bool
vh_blobstore_quarantined(struct vh_blobstore *bs, const char *hex)
{
	if (!vh_blobstore_valid_hex(hex))
		return (false);
	return (bs->be->quarantined(bs->impl, hex) == 0);
}


int
vh_blobstore_each(struct vh_blobstore *bs, vh_blobstore_each_fn fn, void *arg)
{
	return (bs->be->each(bs->impl, fn, arg));
}

struct spool_walk {
	vh_blobstore_each_fn	 fn;
	void			*arg;
};

static int
spool_visit(int fd VH_UNUSED, const char *name, const struct stat *st,
    void *arg)
{
	struct spool_walk	*w = arg;
	struct vh_blob_entry	 e = {
		.path = name, .regular = S_ISREG(st->st_mode),
		.size = st->st_size, .mtime = st->st_mtime,
		.ctime = st->st_ctime,
	};

	return (w->fn(&e, w->arg));
}

int
vh_blobstore_each_spool(struct vh_blobstore *bs, vh_blobstore_each_fn fn,
    void *arg)
{
	struct spool_walk	 w = { fn, arg };
	int			 rc;

	if ((rc = vh_fsutil_readdir(bs->spool_fd, ".", spool_visit,
	    &w)) == VH_EIO)
		vh_log_warn("blobstore: read %s/spool", bs->root);
	return (rc);
}

struct sweep {
	struct vh_blobstore	*bs;
	const char		*prefix;
	size_t			 plen;
	int64_t			 max_age_s, now;
	int			 n;
};

static int
sweep_one(const struct vh_blob_entry *e, void *arg)
{
	struct sweep	*sw = arg;

	if (e->path[0] == '.' || !e->regular)
		return (0);
	if (sw->prefix != NULL && (strncmp(e->path, sw->prefix, sw->plen) != 0 ||
	    e->path[sw->plen] != '.'))
		return (0);
	if (sw->now - e->mtime <= sw->max_age_s)
		return (0);
	if (unlinkat(sw->bs->spool_fd, e->path, 0) == -1) {
		if (errno != ENOENT)
			vh_log_warn("blobstore: unlink spool/%s", e->path);
		return (0);
	}
	vh_log_info("blobstore: swept spool/%s", e->path);
	sw->n++;
	return (0);
}

int
vh_blobstore_sweep_spool(struct vh_blobstore *bs, const char *prefix,
    int64_t max_age_s)
{
	struct sweep	 sw = { bs, prefix, 0, max_age_s, (int64_t)time(NULL), 0 };
	int		 rc;

	/* No role check: the media runners' sweep runs once at start, on
	 * the thread that will run the loop, before it serves anything. */
	if (prefix != NULL) {
		if (!valid_prefix(prefix))
			return (VH_EINVAL);
		sw.plen = strlen(prefix);
	}
	if (max_age_s < 0)
		return (VH_EINVAL);
	if ((rc = vh_blobstore_each_spool(bs, sweep_one, &sw)) != 0)
		return (rc);
	return (sw.n);
}
