#ifndef BLOBSTORE_TESTLIB_H
#define BLOBSTORE_TESTLIB_H
/*
 * Fixtures shared by the blob store tests: a fresh store in a mkdtemp
 * directory under $TMPDIR (removed afterwards), deterministic bytes, and
 * independent checks (sha256sum(1), file comparison, file counts). Header
 * only, because the Makefile builds each test from a single file. Include
 * after cmocka.h.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vh_blobstore.h"
#include "vh_unused.h"
#include "vh_xmalloc.h"

struct bt {
	char			*tmp;		/* the mkdtemp directory */
	char			*root;		/* tmp/store, made by the store */
	struct vh_blobstore	*bs;
};

static inline int
bt_setup(void **state)
{
	struct bt	*t = vh_xcalloc(1, sizeof *t);
	const char	*dir = getenv("TMPDIR");
	char		*err = NULL;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	t->tmp = vh_xasprintf("%s/vh_blobstore.XXXXXX", dir);
	if (mkdtemp(t->tmp) == NULL)
		fail_msg("mkdtemp %s: %s", t->tmp, strerror(errno));
	t->root = vh_xasprintf("%s/store", t->tmp);
	if ((t->bs = vh_blobstore_new(t->root, &err)) == NULL)
		fail_msg("vh_blobstore_new: %s", err);
	*state = t;
	return (0);
}

static inline int
bt_rm(const char *path, const struct stat *st VH_UNUSED, int flag VH_UNUSED,
    struct FTW *ftw VH_UNUSED)
{
	return (remove(path) == -1 ? -1 : 0);
}

static inline int
bt_teardown(void **state)
{
	struct bt	*t = *state;

	vh_blobstore_free(t->bs);
	if (nftw(t->tmp, bt_rm, 16, FTW_DEPTH | FTW_PHYS) == -1)
		fprintf(stderr, "cannot remove %s\n", t->tmp);
	free(t->root);
	free(t->tmp);
	free(t);
	return (0);
}

#define BT_TEST(f) cmocka_unit_test_setup_teardown(f, bt_setup, bt_teardown)

/* The store root followed by a formatted suffix; caller frees. */
static inline char *
__attribute__((format(printf, 2, 3)))
bt_path(struct bt *t, const char *fmt, ...)
{
	va_list	 ap;
	char	*suffix, *p;

	va_start(ap, fmt);
	if (vasprintf(&suffix, fmt, ap) == -1)
		abort();
	va_end(ap);
	p = vh_xasprintf("%s%s", t->root, suffix);
	free(suffix);
	return (p);
}

static inline uint64_t
bt_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

static inline void
bt_fill(void *buf, size_t n, uint64_t *s)
{
	unsigned char	*p = buf;

	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(bt_rand(s) >> 24);
}

/* Stores len bytes through a writer; hex may be NULL. */
static inline void
bt_store_bytes(struct bt *t, const void *buf, size_t len, char *hex)
{
	struct vh_blob_writer	*w;
	char			 h[65], *err = NULL;

	if ((w = vh_blob_writer_new(t->bs, &err)) == NULL)
		fail_msg("vh_blob_writer_new: %s", err);
	assert_int_equal(vh_blob_writer_write(w, buf, len), 0);
	assert_int_equal(vh_blob_writer_commit(w, h), 0);
	if (hex != NULL)
		memcpy(hex, h, 65);
}

static int bt_nfiles;

static inline int
bt_count_one(const char *path VH_UNUSED, const struct stat *st, int flag,
    struct FTW *ftw VH_UNUSED)
{
	if (flag == FTW_F && S_ISREG(st->st_mode))
		bt_nfiles++;
	return (0);
}

/* Regular files below root/sub, at any depth. */
static inline int
bt_count_files(struct bt *t, const char *sub)
{
	char	*p = bt_path(t, "%s", sub);

	bt_nfiles = 0;
	if (nftw(p, bt_count_one, 16, FTW_PHYS) == -1)
		fail_msg("nftw %s: %s", p, strerror(errno));
	free(p);
	return (bt_nfiles);
}

/* The digest sha256sum(1) prints for path. */
static inline void
bt_sha256sum(const char *path, char out[65])
{
	char	*cmd, line[256];
	FILE	*f;

	cmd = vh_xasprintf("sha256sum -- '%s'", path);
	if ((f = popen(cmd, "r")) == NULL || fgets(line, sizeof line, f) == NULL)
		fail_msg("%s failed", cmd);
	assert_int_equal(pclose(f), 0);
	assert_true(strlen(line) > 64 && line[64] == ' ');
	memcpy(out, line, 64);
	out[64] = '\0';
	free(cmd);
}

static inline void
bt_write_file(const char *path, const void *buf, size_t len)
{
	FILE	*f = fopen(path, "wb");

	if (f == NULL)
		fail_msg("fopen %s: %s", path, strerror(errno));
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Whether path holds exactly these bytes. */
static inline int
bt_file_is(const char *path, const void *buf, size_t len)
{
	FILE	*f = fopen(path, "rb");
	char	*got = vh_xmalloc(len + 1);
	size_t	 n;
	int	 same;

	if (f == NULL) {
		free(got);
		return (0);
	}
	n = fread(got, 1, len + 1, f);
	fclose(f);
	same = n == len && memcmp(got, buf, len) == 0;
	free(got);
	return (same);
}

static inline int
bt_same_file(const char *a, const char *b)
{
	FILE	*f = fopen(b, "rb");
	char	*buf;
	long	 len = 0;
	int	 same;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0)
		fail_msg("cannot read %s", b);
	rewind(f);
	buf = vh_xmalloc((size_t)len + 1);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	same = bt_file_is(a, buf, (size_t)len);
	free(buf);
	return (same);
}

/* Sets path's times secs into the past. */
static inline void
bt_age(const char *path, time_t secs)
{
	struct timespec	 ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= secs;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static time_t bt_age_secs;

static inline int
bt_age_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw VH_UNUSED)
{
	if (flag == FTW_F && S_ISREG(st->st_mode))
		bt_age(path, bt_age_secs);
	return (0);
}

/* Ages every regular file below root/sub. */
static inline void
bt_age_all(struct bt *t, const char *sub, time_t secs)
{
	char	*p = bt_path(t, "%s", sub);

	bt_age_secs = secs;
	assert_int_equal(nftw(p, bt_age_one, 16, FTW_PHYS), 0);
	free(p);
}

#endif
