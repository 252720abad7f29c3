/* Blob store under pressure: memory stays flat for a 200 MiB blob, a
 * committed blob survives its writer's abrupt exit, a killed writer leaves
 * only a sweepable spool file, write errors (short writes then EFBIG)
 * break the writer cleanly, and put_file refuses what is not a file. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "vh_blobstore.h"
#include "vh_error.h"
#include "blobstore_testlib.h"

#define PIECE		(64 * 1024)
#define BIG		(200 * 1024 * 1024)

static long
max_rss_kib(void)
{
	struct rusage	 ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return (ru.ru_maxrss);
}

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
evp_hex(EVP_MD_CTX *md, char hex[65])
{
	unsigned char	 out[EVP_MAX_MD_SIZE];
	unsigned int	 n;

	assert_int_equal(EVP_DigestFinal_ex(md, out, &n), 1);
	assert_int_equal(n, 32);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
}

/* Reads the whole blob back through a reader and hashes it. */
static void
hash_blob(struct bt *t, const char *hex, char out[65], int64_t *size)
{
	struct vh_blob_reader	*r;
	EVP_MD_CTX		*md = EVP_MD_CTX_new();
	char			*buf = malloc(PIECE);
	int64_t			 off = 0;
	ssize_t			 n;

	assert_int_equal(vh_blobstore_open(t->bs, hex, &r), 0);
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	while ((n = vh_blob_reader_pread(r, buf, PIECE, off)) > 0) {
		EVP_DigestUpdate(md, buf, (size_t)n);
		off += n;
	}
	assert_int_equal(n, 0);
	evp_hex(md, out);
	*size = off;
	vh_blob_reader_free(r);
	EVP_MD_CTX_free(md);
	free(buf);
}

static void
test_memory_flat(void **state)
{
	struct bt		*t = *state;
	struct vh_blob_writer	*w;
	EVP_MD_CTX		*md = EVP_MD_CTX_new();
	unsigned char		*buf = malloc(PIECE);
	char			 hex[65], want[65], back[65];
	uint64_t		 rng = 1;
	int64_t			 size;
	long			 before, after;
	double			 t0, t1, t2;

	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	bt_fill(buf, PIECE, &rng);
	before = max_rss_kib();
	t0 = now_s();
	assert_non_null(w = vh_blob_writer_new(t->bs, NULL));
	for (uint32_t i = 0; i < BIG / PIECE; i++) {
		memcpy(buf, &i, sizeof i);	/* no two pieces alike */
		assert_int_equal(vh_blob_writer_write(w, buf, PIECE), 0);
		EVP_DigestUpdate(md, buf, PIECE);
	}
	assert_int_equal(vh_blob_writer_size(w), BIG);
	t1 = now_s();
	assert_int_equal(vh_blob_writer_commit(w, hex), 0);
	t2 = now_s();
	after = max_rss_kib();
	evp_hex(md, want);
	assert_string_equal(hex, want);
	fprintf(stderr, "# 200 MiB: max RSS %ld -> %ld KiB; write %.0f MiB/s, "
	    "commit (fdatasync) %.2f s\n", before, after,
	    200 / (t1 - t0), t2 - t1);
	/* A writer that buffered the blob would add 204800 KiB. */
	assert_true(after - before < 8 * 1024);

	/* Reading it back in pieces is flat too. */
	hash_blob(t, hex, back, &size);
	assert_string_equal(back, want);
	assert_int_equal(size, BIG);
	assert_true(max_rss_kib() - before < 8 * 1024);
	assert_int_equal(vh_blobstore_delete(t->bs, hex), 0);
	EVP_MD_CTX_free(md);
	free(buf);
}

static void
test_crash_after_commit(void **state)
{
	struct bt	*t = *state;
	char		 hex[65] = "", back[65], buf[4096];
	int		 p[2], status;
	int64_t		 size;
	pid_t		 pid;

	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		struct vh_blob_writer *w = vh_blob_writer_new(t->bs, NULL);
		char h[65];

		memset(buf, 'c', sizeof buf);
		for (int i = 0; i < 256; i++)
			if (w == NULL || vh_blob_writer_write(w, buf,
			    sizeof buf) != 0)
				_exit(2);
		if (vh_blob_writer_commit(w, h) != 0)
			_exit(3);
		if (write(p[1], h, 65) != 65)
			_exit(4);
		/* No free, no atexit, no stdio flush. */
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], hex, 65), 65);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	assert_int_equal(vh_blobstore_exists(t->bs, hex, &size), 0);
	assert_int_equal(size, 256 * 4096);
	hash_blob(t, hex, back, &size);
	assert_string_equal(back, hex);
	assert_int_equal(bt_count_files(t, "/spool"), 0);
}

static void
test_killed_writer_leaves_spool(void **state)
{
	struct bt		*t = *state;
	struct vh_blobstore	*again;
	char			 c, buf[4096];
	int			 p[2], status;
	pid_t			 pid;

	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		struct vh_blob_writer *w = vh_blob_writer_new(t->bs, NULL);

		memset(buf, 'k', sizeof buf);
		for (int i = 0; i < 128; i++)
			if (w == NULL || vh_blob_writer_write(w, buf,
			    sizeof buf) != 0)
				_exit(2);
		if (write(p[1], "x", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));

	/* Half a blob is never a blob; the restart sweeps the leftover. */
	assert_int_equal(bt_count_files(t, "/blobs"), 0);
	assert_int_equal(bt_count_files(t, "/spool"), 1);
	assert_non_null(again = vh_blobstore_new(t->root, NULL));
	assert_int_equal(vh_blobstore_sweep_spool(again,
	    VH_BLOBSTORE_WRITER_PREFIX, 3600), 0);
	bt_age_all(t, "/spool", 7200);
	assert_int_equal(vh_blobstore_sweep_spool(again,
	    VH_BLOBSTORE_WRITER_PREFIX, 3600), 1);
	assert_int_equal(bt_count_files(t, "/spool"), 0);
	vh_blobstore_free(again);
}

static void
test_write_error(void **state)
{
	struct bt	*t = *state;
	int		 status;
	pid_t		 pid;

	/*
	 * In a child limited to 4 KiB files: the first write is cut short at
	 * 4096 bytes, the retry of the rest fails with EFBIG. The writer is
	 * then broken, commit fails with "" and removes the spool file.
	 */
	if ((pid = fork()) == 0) {
		struct rlimit rl = { 4096, 4096 };
		struct vh_blob_writer *w;
		char buf[8192] = { 0 }, h[65] = "x";

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(10);
		if ((w = vh_blob_writer_new(t->bs, NULL)) == NULL)
			_exit(11);
		if (vh_blob_writer_write(w, buf, sizeof buf) != VH_EIO)
			_exit(12);
		if (errno != EFBIG)
			_exit(13);
		if (vh_blob_writer_write(w, buf, 1) != VH_EIO)
			_exit(14);
		if (vh_blob_writer_commit(w, h) != VH_EIO || h[0] != '\0')
			_exit(15);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(bt_count_files(t, "/spool"), 0);
	assert_int_equal(bt_count_files(t, "/blobs"), 0);
}

static void
test_put_file_rejects(void **state)
{
	struct bt	*t = *state;
	char		 hex[65], *dir, *link, *target;

	dir = vh_blobstore_spool_path(t->bs, "d");
	link = vh_blobstore_spool_path(t->bs, "l");
	target = bt_path(t, "/../outside");
	bt_write_file(target, "secret", 6);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(vh_blobstore_put_file(t->bs, dir, hex), VH_EINVAL);
	assert_string_equal(hex, "");
	/* A symlink is not followed: its target must not become a blob. */
	assert_int_equal(vh_blobstore_put_file(t->bs, link, hex), VH_EIO);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(bt_count_files(t, "/blobs"), 0);
	assert_int_equal(access(target, F_OK), 0);
	rmdir(dir);
	unlink(link);
	free(dir);
	free(link);
	free(target);
}

static void
test_damaged_blob_replaced(void **state)
{
	struct bt	*t = *state;
	char		 hex[65], *dir, *blob;
	const char	*abc =
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

	/* A file under abc's name holding other bytes of another size. */
	dir = bt_path(t, "/blobs/ba");
	assert_int_equal(mkdir(dir, 0750), 0);
	free(dir);
	dir = bt_path(t, "/blobs/ba/78");
	assert_int_equal(mkdir(dir, 0750), 0);
	blob = bt_path(t, "/blobs/ba/78/%s", abc);
	bt_write_file(blob, "ab", 2);
	bt_store_bytes(t, "abc", 3, hex);
	assert_string_equal(hex, abc);
	assert_true(bt_file_is(blob, "abc", 3));
	assert_int_equal(bt_count_files(t, "/spool"), 0);
	free(dir);
	free(blob);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BT_TEST(test_memory_flat),
		BT_TEST(test_crash_after_commit),
		BT_TEST(test_killed_writer_leaves_spool),
		BT_TEST(test_write_error),
		BT_TEST(test_put_file_rejects),
		BT_TEST(test_damaged_blob_replaced),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
