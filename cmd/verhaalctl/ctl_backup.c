/*
 * verhaalctl backup DIR and restore DIR.
 *
 * A backup is a pg_dump custom-format dump and a copy of every blob the
 * dump names, with a MANIFEST in sha256sum(1) format (`sha256sum -c
 * MANIFEST` in DIR checks it). Order makes the pair consistent: blobs are
 * content-addressed and never change, so the dump is taken first, from an
 * exported snapshot that this connection keeps open, and the blob rows of
 * that same snapshot say which files to copy. A blob erased after the
 * snapshot (a withdrawal meanwhile) has no file left to copy: it is
 * reported, and the entry it belonged to is in the dump without it.
 *
 * restore DIR wants an empty database and an empty data directory. Every
 * blob is copied into the store and checked against its name before the
 * database is touched, so a damaged backup is found first; then
 * pg_restore loads the dump in one transaction. Partial resumable uploads
 * are not in a backup (their files change while it runs): restore expires
 * their rows, so clients start those uploads again.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ctl.h"
#include "vh_blobstore.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_xmalloc.h"

extern char **environ;

#define DUMP		"database.dump"
#define MANIFEST	"MANIFEST"
#define CHUNK		(256 * 1024)

struct blobref {
	char	 hex[65];
	int64_t	 size;
};

/* Runs argv[0] from PATH and waits; its exit status, or -1. */
static int
run(const char *const argv[])
{
	pid_t	 pid;
	int	 status;

	if ((errno = posix_spawnp(&pid, argv[0], NULL, NULL,
	    (char *const *)argv, environ)) != 0)
		ctl_die("cannot run %s: %s (install postgresql-client)", argv[0],
		    strerror(errno));
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			ctl_die("waitpid %s: %s", argv[0], strerror(errno));
	return (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void
to_hex(const unsigned char *d, char hex[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/*
 * Copies from a reader (rd) or a descriptor (fd) into a new file at dst,
 * fsynced, hashing on the way. 0, or -1 with errno.
 */
static int
copy_hashed(struct vh_blob_reader *rd, int fd, const char *dst, char hex[65],
    int64_t *size)
{
	EVP_MD_CTX	*md = EVP_MD_CTX_new();
	unsigned char	 d[EVP_MAX_MD_SIZE];
	unsigned int	 dn;
	char		*buf = vh_xmalloc(CHUNK);
	int64_t		 off = 0;
	ssize_t		 n;
	int		 out, rc = -1, saved;

	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0640)) == -1)
		goto done;
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		ctl_die("SHA-256 is not available");
	for (;;) {
		n = rd != NULL ? vh_blob_reader_pread(rd, buf, CHUNK, off) :
		    pread(fd, buf, CHUNK, off);
		if (n == -1 && rd == NULL && errno == EINTR)
			continue;
		if (n < 0) {
			errno = EIO;
			goto done;
		}
		if (n == 0)
			break;
		if (write(out, buf, (size_t)n) != n ||
		    EVP_DigestUpdate(md, buf, (size_t)n) != 1)
			goto done;
		off += n;
	}
	if (fsync(out) == -1 || EVP_DigestFinal_ex(md, d, &dn) != 1)
		goto done;
	to_hex(d, hex);
	*size = off;
	rc = 0;
done:
	saved = errno;
	if (out != -1 && close(out) == -1 && rc == 0)
		rc = -1;
	if (rc != 0 && out != -1)
		unlink(dst);
	free(buf);
	EVP_MD_CTX_free(md);
	errno = saved;
	return (rc);
}

static int
hash_path(const char *path, char hex[65])
{
	int64_t size;

	return (vh_blobstore_hash_file(path, hex, &size));
}

static void
fsync_dir(const char *path)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		ctl_die("fsync %s: %s", path, strerror(errno));
	close(fd);
}

static void
make_dir(const char *path)
{
	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		ctl_die("cannot create %s: %s", path, strerror(errno));
}

/* Whether path is absent or a directory with nothing in it. */
static bool
empty_dir(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	bool		 empty = true;

	if ((d = opendir(path)) == NULL)
		return (errno == ENOENT);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = false;
	closedir(d);
	return (empty);
}

static PGresult *
query(PGconn *db, const char *sql)
{
	PGresult	*r;
	char		*err = NULL;

	if ((r = vh_db_exec(db, sql, 0, NULL, &err)) == NULL)
		ctl_die("database: %s", err);
	return (r);
}

/* The blob rows of the exported snapshot, and the snapshot's name. */
static struct blobref *
snapshot_blobs(PGconn *db, char **snap, size_t *n)
{
	struct blobref	*v;
	PGresult	*r;

	PQclear(query(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
	r = query(db, "SELECT pg_export_snapshot()");
	*snap = vh_xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	r = query(db, "SELECT sha256, size FROM blob ORDER BY sha256");
	*n = (size_t)PQntuples(r);
	v = vh_xcalloc(*n + 1, sizeof *v);
	for (size_t i = 0; i < *n; i++) {
		snprintf(v[i].hex, sizeof v[i].hex, "%s", PQgetvalue(r, (int)i, 0));
		v[i].size = strtoll(PQgetvalue(r, (int)i, 1), NULL, 10);
	}
	PQclear(r);
	return (v);
}

/* Copies one blob (from the store, or its quarantine) into dir. */
static int
backup_blob(struct vh_blobstore *bs, const char *dir, const struct blobref *b,
    FILE *man, bool *quarantined)
{
	struct vh_blob_reader	*rd = NULL;
	char			 got[65], *path, *q = NULL;
	int64_t			 size;
	int			 rc, fd = -1;

	*quarantined = false;
	if ((rc = vh_blobstore_open(bs, b->hex, &rd)) == VH_ENOENT &&
	    vh_blobstore_quarantined(bs, b->hex)) {
		/* A rejected original: outside the backend, still a row's. */
		q = vh_xasprintf("%s/quarantine/%s", vh_blobstore_root(bs), b->hex);
		if ((fd = open(q, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
			free(q);
			return (VH_ENOENT);
		}
		*quarantined = true;
		rc = 0;
	}
	if (rc != 0)
		return (rc);
	if (*quarantined)
		path = vh_xasprintf("%s/quarantine/%s", dir, b->hex);
	else {
		path = vh_xasprintf("%s/blobs/%.2s", dir, b->hex);
		make_dir(path);
		free(path);
		path = vh_xasprintf("%s/blobs/%.2s/%.2s", dir, b->hex, b->hex + 2);
		make_dir(path);
		free(path);
		path = vh_xasprintf("%s/blobs/%.2s/%.2s/%s", dir, b->hex,
		    b->hex + 2, b->hex);
	}
	if (copy_hashed(rd, fd, path, got, &size) != 0)
		ctl_die("copying blob %s to %s: %s", b->hex, path, strerror(errno));
	vh_blob_reader_free(rd);
	if (fd != -1)
		close(fd);
	free(q);
	if (strcmp(got, b->hex) != 0) {
		unlink(path);
		free(path);
		return (VH_ECHECKSUM);
	}
	fprintf(man, "%s  %s\n", b->hex, path + strlen(dir) + 1);
	free(path);
	return (0);
}

int
ctl_backup(struct ctl *c, int argc, char **argv)
{
	struct vh_blobstore	*bs;
	struct blobref		*blobs;
	PGconn			*db;
	FILE			*man;
	char			*dir, *snap, *path, *tmp, *err = NULL, hex[65];
	char			*dbarg, *snaparg, *filearg;
	size_t			 n;
	int			 copied = 0, gone = 0, damaged = 0, rc, fd;
	bool			 q;
	time_t			 now = time(NULL);
	char			 when[32];

	if (argc != 2 || argv[1][0] == '-')
		ctl_die("usage: backup DIR");
	dir = argv[1];
	if (!empty_dir(dir))
		ctl_die("%s is not empty: a backup goes into a new directory", dir);
	make_dir(dir);
	path = vh_xasprintf("%s/blobs", c->cfg->data_dir);
	if (access(path, F_OK) == -1)
		ctl_die("no blob store at %s (is data_dir right?)",
		    c->cfg->data_dir);
	free(path);
	if ((bs = vh_blobstore_new(c->cfg->data_dir, &err)) == NULL)
		ctl_die("%s", err);
	db = ctl_db(c);
	blobs = snapshot_blobs(db, &snap, &n);

	/* The dump sees exactly what this transaction sees. */
	dbarg = vh_xasprintf("--dbname=%s", c->cfg->database_url);
	snaparg = vh_xasprintf("--snapshot=%s", snap);
	filearg = vh_xasprintf("--file=%s/%s", dir, DUMP);
	{
		const char *args[] = { "pg_dump", "--format=custom", snaparg, filearg,
		    c->cfg->database_url[0] != '\0' ? dbarg : NULL, NULL };

		if ((rc = run(args)) != 0)
			ctl_die("pg_dump failed (exit %d); nothing usable in %s",
			    rc, dir);
	}
	free(dbarg);
	free(snaparg);
	free(filearg);
	PQclear(query(db, "COMMIT"));

	path = vh_xasprintf("%s/blobs", dir);
	make_dir(path);
	free(path);
	path = vh_xasprintf("%s/quarantine", dir);
	make_dir(path);
	free(path);
	tmp = vh_xasprintf("%s/%s.tmp", dir, MANIFEST);
	if ((man = fopen(tmp, "w")) == NULL)
		ctl_die("%s: %s", tmp, strerror(errno));
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(man, "# verhaal backup 1\n# created %s\n# blobs %zu\n", when, n);
	path = vh_xasprintf("%s/%s", dir, DUMP);
	if (hash_path(path, hex) != 0)
		ctl_die("cannot read %s", path);
	free(path);
	fprintf(man, "%s  %s\n", hex, DUMP);

	for (size_t i = 0; i < n; i++) {
		switch (backup_blob(bs, dir, &blobs[i], man, &q)) {
		case 0:
			copied++;
			break;
		case VH_ENOENT:
			/* Erased after the snapshot, or lost before it. */
			fprintf(stderr, "verhaalctl: blob %s has no file (erased "
			    "since the dump, or lost: see verhaalctl fsck)\n",
			    blobs[i].hex);
			gone++;
			break;
		case VH_ECHECKSUM:
			fprintf(stderr, "verhaalctl: blob %s in the store is "
			    "damaged and was not copied (see verhaalctl fsck)\n",
			    blobs[i].hex);
			damaged++;
			break;
		default:
			ctl_die("cannot read blob %s", blobs[i].hex);
		}
	}
	/*
	 * Every file was fsynced, but not the directories that name them:
	 * one syncfs covers those (and the dump) before the manifest claims
	 * them. The manifest last: its presence says the backup is complete.
	 */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    syncfs(fd) == -1)
		ctl_die("syncing %s: %s", dir, strerror(errno));
	close(fd);
	if (fflush(man) != 0 || fsync(fileno(man)) == -1 || fclose(man) != 0)
		ctl_die("%s: %s", tmp, strerror(errno));
	path = vh_xasprintf("%s/%s", dir, MANIFEST);
	if (rename(tmp, path) == -1)
		ctl_die("rename %s: %s", tmp, strerror(errno));
	fsync_dir(dir);
	printf("backup in %s: database dump and %d blob%s (%d without a file, "
	    "%d damaged)\n", dir, copied, copied == 1 ? "" : "s", gone, damaged);
	free(path);
	free(tmp);
	free(snap);
	free(blobs);
	vh_blobstore_free(bs);
	return (damaged > 0 ? 1 : 0);
}

/* Whether the database holds anything but what extensions brought. */
static long
user_relations(PGconn *db)
{
	PGresult	*r;
	long		 n;

	r = query(db, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON"
	    " n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog',"
	    " 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND"
	    " n.nspname NOT LIKE 'pg\\_temp%' AND NOT EXISTS (SELECT 1 FROM"
	    " pg_depend d WHERE d.classid = 'pg_class'::regclass AND"
	    " d.objid = c.oid AND d.deptype = 'e')");
	n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return (n);
}

/* Copies one manifest line's file into the store, checking its hash. */
static void
restore_file(struct vh_blobstore *bs, const char *dir, const char *hex,
    const char *rel)
{
	char	*src, *dst, got[65];
	int64_t	 size;
	int	 fd;
	bool	 quar = strncmp(rel, "quarantine/", 11) == 0;

	src = vh_xasprintf("%s/%s", dir, rel);
	if ((fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		ctl_die("backup file %s: %s", src, strerror(errno));
	/* Quarantined files keep their place; blobs enter through the
	 * spool like any upload, so the store sees one more ordinary put. */
	dst = quar ? vh_xasprintf("%s/quarantine/%s", vh_blobstore_root(bs), hex) :
	    vh_blobstore_spool_path(bs, "restore");
	if (copy_hashed(NULL, fd, dst, got, &size) != 0)
		ctl_die("copying %s: %s", src, strerror(errno));
	close(fd);
	if (strcmp(got, hex) != 0) {
		unlink(dst);
		ctl_die("backup file %s is damaged (its bytes hash to %s); "
		    "nothing was written to the database", src, got);
	}
	if (!quar) {
		if (vh_blobstore_put_file(bs, dst, got) != 0)
			ctl_die("storing %s: %s", src, strerror(errno));
	}
	free(src);
	free(dst);
}

int
ctl_restore(struct ctl *c, int argc, char **argv)
{
	struct vh_blobstore	*bs;
	PGconn			*db;
	PGresult		*r;
	FILE			*man;
	char			*dir, *path, *err = NULL, *line = NULL, *dbarg;
	char			 hex[65], want[65];
	size_t			 cap = 0;
	long			 rel;
	int			 nblobs = 0, rc;
	bool			 dump_ok = false;

	if (argc != 2 || argv[1][0] == '-')
		ctl_die("usage: restore DIR");
	dir = argv[1];
	path = vh_xasprintf("%s/%s", dir, MANIFEST);
	if ((man = fopen(path, "r")) == NULL)
		ctl_die("%s: %s (not a complete backup)", path, strerror(errno));
	free(path);

	/* Refuse before writing anything. */
	db = ctl_db(c);
	if ((rel = user_relations(db)) > 0)
		ctl_die("database %s is not empty (%ld tables, views or "
		    "sequences): restore needs a new, empty database", PQdb(db),
		    rel);
	for (int i = 0; i < 3; i++) {
		static const char *sub[] = { "blobs", "quarantine", "spool" };

		path = vh_xasprintf("%s/%s", c->cfg->data_dir, sub[i]);
		if (!empty_dir(path))
			ctl_die("data directory %s is not empty (%s/ holds "
			    "files): restore needs an empty one",
			    c->cfg->data_dir, sub[i]);
		free(path);
	}
	if (mkdir(c->cfg->data_dir, 0750) == -1 && errno != EEXIST)
		ctl_die("cannot create %s: %s", c->cfg->data_dir, strerror(errno));
	if ((bs = vh_blobstore_new(c->cfg->data_dir, &err)) == NULL)
		ctl_die("%s", err);

	while (getline(&line, &cap, man) != -1) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (strlen(line) < 67 || line[64] != ' ' || line[65] != ' ')
			ctl_die("MANIFEST: malformed line '%.80s'", line);
		memcpy(want, line, 64);
		want[64] = '\0';
		if (strcmp(line + 66, DUMP) == 0) {
			path = vh_xasprintf("%s/%s", dir, DUMP);
			if (hash_path(path, hex) != 0 || strcmp(hex, want) != 0)
				ctl_die("%s is missing or damaged", path);
			free(path);
			dump_ok = true;
			continue;
		}
		/* Only paths of the shape backup writes: nothing may point
		 * outside the backup or the store. */
		if (!vh_blobstore_valid_hex(want) ||
		    (strncmp(line + 66, "quarantine/", 11) != 0 &&
		    strncmp(line + 66, "blobs/", 6) != 0) ||
		    strcmp(strrchr(line + 66, '/') + 1, want) != 0 ||
		    strstr(line + 66, "..") != NULL)
			ctl_die("MANIFEST: unexpected entry '%.80s'", line + 66);
		restore_file(bs, dir, want, line + 66);
		nblobs++;
	}
	free(line);
	fclose(man);
	if (!dump_ok)
		ctl_die("MANIFEST names no %s", DUMP);
	/* put_file made the blobs durable; quarantine/ is ours to sync. */
	path = vh_xasprintf("%s/quarantine", vh_blobstore_root(bs));
	fsync_dir(path);
	free(path);

	/* Without a URL, libpq's defaults (PG* variables) name it for both. */
	dbarg = vh_xasprintf("--dbname=%s", c->cfg->database_url[0] != '\0' ?
	    c->cfg->database_url : PQdb(db));
	path = vh_xasprintf("%s/%s", dir, DUMP);
	{
		/* Owned by whoever restores: the old owner may not exist. */
		const char *args[] = { "pg_restore", "--exit-on-error",
		    "--single-transaction", "--no-owner", dbarg, path, NULL };

		if ((rc = run(args)) != 0)
			ctl_die("pg_restore failed (exit %d); the database is as "
			    "it was, the blobs are in %s", rc, c->cfg->data_dir);
	}
	free(path);
	free(dbarg);
	/* Their partial files were not saved: clients start them again. */
	r = query(db, "UPDATE upload SET expires_at = now() WHERE completed_at"
	    " IS NULL AND expires_at > now()");
	printf("restored %s into database %s and %s: %d file%s checked by "
	    "SHA-256, %s unfinished upload%s expired\n", dir, PQdb(db),
	    c->cfg->data_dir, nblobs, nblobs == 1 ? "" : "s", PQcmdTuples(r),
	    strcmp(PQcmdTuples(r), "1") == 0 ? "" : "s");
	PQclear(r);
	vh_blobstore_free(bs);
	return (0);
}
