/* Blob store: hashing against sha256sum, the on-disk layout, dedup, abort,
 * put_file, ranged reads, delete/quarantine, hex validation and spool
 * sweeping. Memory use and crashes are in test_vh_blobstore_stress.c. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vh_blobstore.h"
#include "vh_error.h"
#include "vh_thread.h"
#include "blobstore_testlib.h"

#define ABC_HEX \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_HEX \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
test_valid_hex(void **state)
{
	struct bt	*t = *state;
	char		 up[65];
	int64_t		 size;
	struct vh_blob_reader *r = (void *)1;
	const char	*bad[] = {
		"../../etc/passwd",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a/",
		"../../../../../../../../../../../../../../../../../../etc/passwd",
		"ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"",
	};

	assert_true(vh_blobstore_valid_hex(ABC_HEX));
	assert_true(vh_blobstore_valid_hex(EMPTY_HEX));
	assert_false(vh_blobstore_valid_hex(NULL));
	for (int i = 0; i < 64; i++)
		up[i] = ABC_HEX[i] >= 'a' ? ABC_HEX[i] - 'a' + 'A' : ABC_HEX[i];
	up[64] = '\0';
	assert_false(vh_blobstore_valid_hex(up));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(vh_blobstore_valid_hex(bad[i]));
		assert_int_equal(vh_blobstore_exists(t->bs, bad[i], &size),
		    VH_EINVAL);
		assert_int_equal(vh_blobstore_open(t->bs, bad[i], &r),
		    VH_EINVAL);
		assert_null(r);
		assert_int_equal(vh_blobstore_delete(t->bs, bad[i]), VH_EINVAL);
		assert_int_equal(vh_blobstore_quarantine(t->bs, bad[i]),
		    VH_EINVAL);
		assert_false(vh_blobstore_quarantined(t->bs, bad[i]));
	}
	/* Upper case names the same bytes but must not reach the disk. */
	bt_store_bytes(t, "abc", 3, NULL);
	assert_int_equal(vh_blobstore_exists(t->bs, ABC_HEX, NULL), 0);
	assert_int_equal(vh_blobstore_exists(t->bs, up, NULL), VH_EINVAL);
}

static void
test_new_layout(void **state)
{
	struct bt	*t = *state;
	const char	*dirs[] = { "", "/spool", "/blobs", "/quarantine" };
	struct vh_blobstore *bs;
	struct stat	 st;
	mode_t		 um;
	char		*p, *err = NULL;

	um = umask(0);
	umask(um);
	assert_string_equal(vh_blobstore_root(t->bs), t->root);
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		p = bt_path(t, "%s", dirs[i]);
		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0750 & ~um);
		free(p);
	}
	/* Opening an existing store again is fine, also through a symlink. */
	assert_non_null(bs = vh_blobstore_new(t->root, NULL));
	vh_blobstore_free(bs);
	p = bt_path(t, "/../link");
	assert_int_equal(symlink(t->root, p), 0);
	assert_non_null(bs = vh_blobstore_new(p, &err));
	assert_int_equal(vh_blobstore_exists(bs, ABC_HEX, NULL), VH_ENOENT);
	vh_blobstore_free(bs);
	free(p);
	p = bt_path(t, "/no/such/parent");
	assert_null(vh_blobstore_new(p, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "No such file"));
	free(err);
	free(p);
	vh_blobstore_free(NULL);
}

static void
test_known_vectors(void **state)
{
	struct bt	*t = *state;
	char		 hex[65];

	bt_store_bytes(t, "abc", 3, hex);
	assert_string_equal(hex, ABC_HEX);
	bt_store_bytes(t, "", 0, hex);
	assert_string_equal(hex, EMPTY_HEX);
	assert_int_equal(bt_count_files(t, "/blobs"), 2);
}

static void
test_stream_matches_sha256sum(void **state)
{
	struct bt		*t = *state;
	struct vh_blob_writer	*w;
	unsigned char		 buf[1024];
	char			 hex[65], want[65], *copy, *blob, *err = NULL;
	uint64_t		 rng = 42;
	int64_t			 total = 0, size;
	FILE			*f;

	copy = bt_path(t, "/copy");
	assert_non_null(f = fopen(copy, "wb"));
	assert_non_null(w = vh_blob_writer_new(t->bs, &err));
	/* 3000 pieces of 1..1024 bytes: odd sizes and odd boundaries. */
	for (int i = 0; i < 3000; i++) {
		size_t n = 1 + bt_rand(&rng) % sizeof buf;

		bt_fill(buf, n, &rng);
		assert_int_equal(vh_blob_writer_write(w, buf, n), 0);
		assert_int_equal(fwrite(buf, 1, n, f), n);
		total += (int64_t)n;
		assert_int_equal(vh_blob_writer_size(w), total);
	}
	fclose(f);
	assert_int_equal(bt_count_files(t, "/spool"), 1);
	assert_int_equal(vh_blob_writer_commit(w, hex), 0);
	bt_sha256sum(copy, want);
	assert_string_equal(hex, want);

	/* blobs/ab/cd/<hex>, nothing left in spool/. */
	blob = bt_path(t, "/blobs/%.2s/%.2s/%s", hex, hex + 2, hex);
	assert_true(bt_same_file(blob, copy));
	assert_int_equal(bt_count_files(t, "/spool"), 0);
	assert_int_equal(bt_count_files(t, "/blobs"), 1);
	assert_int_equal(vh_blobstore_exists(t->bs, hex, &size), 0);
	assert_int_equal(size, total);
	free(blob);
	free(copy);
}

static void
test_dedup(void **state)
{
	struct bt		*t = *state;
	struct vh_blob_writer	*a, *b;
	struct stat		 st1, st2;
	char			 ha[65], hb[65], *blob;

	assert_non_null(a = vh_blob_writer_new(t->bs, NULL));
	assert_non_null(b = vh_blob_writer_new(t->bs, NULL));
	assert_int_equal(vh_blob_writer_write(a, "same bytes", 10), 0);
	assert_int_equal(vh_blob_writer_write(b, "same ", 5), 0);
	assert_int_equal(vh_blob_writer_write(b, "bytes", 5), 0);
	assert_int_equal(bt_count_files(t, "/spool"), 2);
	assert_int_equal(vh_blob_writer_commit(a, ha), 0);
	blob = bt_path(t, "/blobs/%.2s/%.2s/%s", ha, ha + 2, ha);
	assert_int_equal(stat(blob, &st1), 0);
	assert_int_equal(vh_blob_writer_commit(b, hb), 0);
	assert_string_equal(ha, hb);
	/* The first file stays: the second was dropped, not renamed over. */
	assert_int_equal(stat(blob, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	assert_int_equal(bt_count_files(t, "/blobs"), 1);
	assert_int_equal(bt_count_files(t, "/spool"), 0);
	free(blob);
}

struct racer {
	struct bt	*t;
	pthread_barrier_t *go;
	char		 hex[65];
	int		 rc;
};

static void *
race_commit(void *arg)
{
	struct racer		*r = arg;
	struct vh_blob_writer	*w;
	char			 buf[4096];

	memset(buf, 'r', sizeof buf);
	if ((w = vh_blob_writer_new(r->t->bs, NULL)) == NULL ||
	    vh_blob_writer_write(w, buf, sizeof buf) != 0) {
		r->rc = -100;
		vh_blob_writer_abort(w);
		pthread_barrier_wait(r->go);
		return (NULL);
	}
	pthread_barrier_wait(r->go);
	r->rc = vh_blob_writer_commit(w, r->hex);
	return (NULL);
}

static void
test_dedup_concurrent(void **state)
{
	struct bt		*t = *state;
	struct racer		 r[8];
	pthread_t		 th[8];
	pthread_barrier_t	 go;

	pthread_barrier_init(&go, NULL, 8);
	for (int i = 0; i < 8; i++) {
		r[i] = (struct racer){ .t = t, .go = &go };
		assert_int_equal(pthread_create(&th[i], NULL, race_commit,
		    &r[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(r[i].rc, 0);
		assert_string_equal(r[i].hex, r[0].hex);
	}
	assert_int_equal(bt_count_files(t, "/blobs"), 1);
	assert_int_equal(bt_count_files(t, "/spool"), 0);
}

static void
test_abort(void **state)
{
	struct bt		*t = *state;
	struct vh_blob_writer	*w;

	assert_non_null(w = vh_blob_writer_new(t->bs, NULL));
	assert_int_equal(vh_blob_writer_write(w, "partial", 7), 0);
	assert_int_equal(bt_count_files(t, "/spool"), 1);
	vh_blob_writer_abort(w);
	vh_blob_writer_abort(NULL);
	assert_int_equal(bt_count_files(t, "/spool"), 0);
	assert_int_equal(bt_count_files(t, "/blobs"), 0);
}

/* Runs step in a child that says it is the loop; how the child ended. */
static int
as_loop(struct bt *t, int step)
{
	struct vh_blob_writer	*w;
	pid_t			 pid;
	int			 st;

	if ((pid = fork()) == 0) {
		/* A writer made before the role is stated, for the removal. */
		w = step == 0 ? NULL : vh_blob_writer_new(t->bs, NULL);
		vh_thread_set_role(VH_THREAD_LOOP);
		if (step == 0)
			w = vh_blob_writer_new(t->bs, NULL);
		else if (step == 1)
			vh_blob_writer_abort(w);
		else
			vh_blobstore_spool_writeback(t->bs,
			    vh_blob_writer_name(w), 0, 4096);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return (st);
}

/* Creating or removing a spool file and starting writeback wait on the
 * disk: on the loop they abort a debug build (issue 9). */
static void
test_loop_does_no_file_work(void **state)
{
	struct bt	*t = *state;
	int		 st;

#ifdef NDEBUG
	skip();
#endif
	for (int step = 0; step < 3; step++) {
		st = as_loop(t, step);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGABRT);
	}
}

static void
test_put_file(void **state)
{
	struct bt	*t = *state;
	char		 hex[65], want[65], *p, *p2, *spool;
	unsigned char	 buf[70000];
	uint64_t	 rng = 7;

	assert_null(vh_blobstore_spool_path(t->bs, "../x"));
	assert_null(vh_blobstore_spool_path(t->bs, ""));
	assert_null(vh_blobstore_spool_path(t->bs, "a.b"));
	assert_non_null(p = vh_blobstore_spool_path(t->bs, "tus"));
	assert_non_null(p2 = vh_blobstore_spool_path(t->bs, "tus"));
	assert_string_not_equal(p, p2);
	spool = bt_path(t, "/spool/tus.");
	assert_memory_equal(p, spool, strlen(spool));
	assert_int_equal(strlen(p), strlen(spool) + 32);

	bt_fill(buf, sizeof buf, &rng);
	bt_write_file(p, buf, sizeof buf);
	bt_sha256sum(p, want);
	assert_int_equal(vh_blobstore_put_file(t->bs, p, hex), 0);
	assert_string_equal(hex, want);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(vh_blobstore_exists(t->bs, hex, NULL), 0);

	/* The same bytes again: the file goes, the blob stays one. */
	bt_write_file(p2, buf, sizeof buf);
	assert_int_equal(vh_blobstore_put_file(t->bs, p2, hex), 0);
	assert_string_equal(hex, want);
	assert_int_equal(access(p2, F_OK), -1);
	assert_int_equal(bt_count_files(t, "/blobs"), 1);
	assert_int_equal(bt_count_files(t, "/spool"), 0);

	assert_int_equal(vh_blobstore_put_file(t->bs, p, hex), VH_ENOENT);
	assert_string_equal(hex, "");
	free(spool);
	free(p);
	free(p2);
}

static void
test_reader_ranges(void **state)
{
	struct bt		*t = *state;
	struct vh_blob_reader	*r = NULL;
	unsigned char		 data[10000], got[200];
	char			 hex[65];
	uint64_t		 rng = 99;
	int64_t			 size;

	bt_fill(data, sizeof data, &rng);
	bt_store_bytes(t, data, sizeof data, hex);
	assert_int_equal(vh_blobstore_exists(t->bs, hex, &size), 0);
	assert_int_equal(size, 10000);
	assert_int_equal(vh_blobstore_open(t->bs, hex, &r), 0);
	assert_int_equal(vh_blob_reader_size(r), 10000);

	assert_int_equal(vh_blob_reader_pread(r, got, 100, 0), 100);
	assert_memory_equal(got, data, 100);
	assert_int_equal(vh_blob_reader_pread(r, got, 200, 4321), 200);
	assert_memory_equal(got, data + 4321, 200);
	assert_int_equal(vh_blob_reader_pread(r, got, 200, 9950), 50);
	assert_memory_equal(got, data + 9950, 50);
	assert_int_equal(vh_blob_reader_pread(r, got, 1, 9999), 1);
	assert_int_equal(got[0], data[9999]);
	assert_int_equal(vh_blob_reader_pread(r, got, 200, 10000), 0);
	assert_int_equal(vh_blob_reader_pread(r, got, 200, 1 << 30), 0);
	assert_int_equal(vh_blob_reader_pread(r, got, 200, -1), VH_EINVAL);

	/* The borrowed fd reads the same bytes (what sendfile would send). */
	assert_true(vh_blob_reader_fd(r) >= 0);
	assert_int_equal(pread(vh_blob_reader_fd(r), got, 10, 5000), 10);
	assert_memory_equal(got, data + 5000, 10);
	vh_blob_reader_free(r);
	vh_blob_reader_free(NULL);

	r = (void *)1;
	assert_int_equal(vh_blobstore_open(t->bs, ABC_HEX, &r), VH_ENOENT);
	assert_null(r);
	assert_int_equal(vh_blobstore_exists(t->bs, ABC_HEX, NULL), VH_ENOENT);
}

static void
test_delete_quarantine(void **state)
{
	struct bt		*t = *state;
	struct vh_blob_reader	*r;
	char			 h1[65], h2[65], *q;

	bt_store_bytes(t, "to delete", 9, h1);
	bt_store_bytes(t, "to quarantine", 13, h2);
	assert_int_equal(vh_blobstore_delete(t->bs, h1), 0);
	assert_int_equal(vh_blobstore_exists(t->bs, h1, NULL), VH_ENOENT);
	assert_int_equal(vh_blobstore_delete(t->bs, h1), VH_ENOENT);
	assert_int_equal(vh_blobstore_delete(t->bs, ABC_HEX), VH_ENOENT);

	assert_false(vh_blobstore_quarantined(t->bs, h2));
	assert_int_equal(vh_blobstore_quarantine(t->bs, h2), 0);
	assert_int_equal(vh_blobstore_exists(t->bs, h2, NULL), VH_ENOENT);
	assert_int_equal(vh_blobstore_open(t->bs, h2, &r), VH_ENOENT);
	assert_true(vh_blobstore_quarantined(t->bs, h2));
	q = bt_path(t, "/quarantine/%s", h2);
	assert_true(bt_file_is(q, "to quarantine", 13));
	assert_int_equal(vh_blobstore_quarantine(t->bs, h2), VH_ENOENT);
	assert_int_equal(vh_blobstore_quarantine(t->bs, h1), VH_ENOENT);
	assert_int_equal(bt_count_files(t, "/blobs"), 0);
	free(q);
}

static void
test_sweep_spool(void **state)
{
	struct bt		*t = *state;
	struct vh_blob_writer	*w;
	char			*old1, *old2, *fresh, *other, *dir;

	old1 = vh_blobstore_spool_path(t->bs, "tus");
	old2 = vh_blobstore_spool_path(t->bs, "tus");
	fresh = vh_blobstore_spool_path(t->bs, "tus");
	other = vh_blobstore_spool_path(t->bs, "tusx");
	bt_write_file(old1, "a", 1);
	bt_write_file(old2, "b", 1);
	bt_write_file(fresh, "c", 1);
	bt_write_file(other, "d", 1);
	bt_age(old1, 7200);
	bt_age(old2, 7200);
	bt_age(other, 7200);
	/* A directory is never swept, however old. */
	dir = bt_path(t, "/spool/tus.dir");
	assert_int_equal(mkdir(dir, 0700), 0);
	bt_age(dir, 7200);
	assert_non_null(w = vh_blob_writer_new(t->bs, NULL));
	assert_int_equal(vh_blob_writer_write(w, "live", 4), 0);

	assert_int_equal(vh_blobstore_sweep_spool(t->bs, "tus", 3600), 2);
	assert_int_equal(access(old1, F_OK), -1);
	assert_int_equal(access(old2, F_OK), -1);
	assert_int_equal(access(fresh, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);	/* "tusx" is not "tus" */
	assert_int_equal(access(dir, F_OK), 0);
	assert_int_equal(vh_blobstore_sweep_spool(t->bs, "tus", 3600), 0);
	assert_int_equal(vh_blobstore_sweep_spool(t->bs,
	    VH_BLOBSTORE_WRITER_PREFIX, 3600), 0);
	assert_int_equal(vh_blobstore_sweep_spool(t->bs, "../", 0), VH_EINVAL);
	/* NULL: every old file; the fresh ones and the live writer stay. */
	assert_int_equal(vh_blobstore_sweep_spool(t->bs, NULL, 3600), 1);
	assert_int_equal(access(other, F_OK), -1);
	assert_int_equal(bt_count_files(t, "/spool"), 2);
	assert_int_equal(vh_blob_writer_commit(w, (char[65]){ 0 }), 0);
	rmdir(dir);
	free(old1);
	free(old2);
	free(fresh);
	free(other);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BT_TEST(test_valid_hex),
		BT_TEST(test_new_layout),
		BT_TEST(test_known_vectors),
		BT_TEST(test_stream_matches_sha256sum),
		BT_TEST(test_dedup),
		BT_TEST(test_dedup_concurrent),
		BT_TEST(test_loop_does_no_file_work),
		BT_TEST(test_abort),
		BT_TEST(test_put_file),
		BT_TEST(test_reader_ranges),
		BT_TEST(test_delete_quarantine),
		BT_TEST(test_sweep_spool),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
