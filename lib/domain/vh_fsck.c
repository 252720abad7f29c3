/*
 * fsck: the blob store against the database. The blob rows and the names
 * unfinished uploads hold are read into sorted arrays first; then one walk
 * of the store (vh_blobstore_each) matches files to rows, a second pass
 * hashes the files (all or a random sample), and the rows no file matched
 * are asked about again, because an entry erased during the walk takes its
 * row and file away and is no loss. The spool and the upload table follow.
 *
 * Age decides what may be removed: a blob is first a file and only then a
 * row (vh_blobgc_pin), so a young unnamed file may be an upload in flight.
 * Its age is the later of mtime and ctime, since the rename into the store
 * changes ctime; spool files are judged by mtime, which every write moves.
 *
 * Lost or damaged content can only come back from a backup (repair with
 * from): its copy is checked against the name before it enters the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vh_blobgc.h"
#include "vh_blobstore.h"
#include "vh_db.h"
#include "vh_error.h"
#include "vh_fsck.h"
#include "vh_upload.h"
#include "vh_xmalloc.h"

#define LOCK_KEY	"hashtextextended($1, 1347)"	/* as vh_blobgc.c */
#define CHUNK		(256 * 1024)

struct row {
	char	 name[65];	/* a hash, or a spool file's name */
	int64_t	 size;
	bool	 seen;
};

struct rows {
	struct row	*v;
	size_t		 n;
};

struct fsck {
	PGconn			*db;
	struct vh_blobstore	*bs;
	const struct vh_fsck_opts *o;
	vh_fsck_fn		 fn;
	void			*arg;
	struct vh_fsck_stats	*st;
	struct rows		 blobs;		/* blob rows */
	struct rows		 named;		/* upload.blob_sha256 */
	struct rows		 spool;		/* unfinished uploads' files */
	char			(*present)[65];	/* files to hash */
	size_t			 npresent;
	struct row		*damaged;	/* wrong size: name, file size */
	size_t			 ndamaged;
	int64_t			 now;
	char			*err;
};

const char *
vh_fsck_kind_name(enum vh_fsck_kind k)
{
	switch (k) {
	case VH_FSCK_MISSING: return ("missing-file");
	case VH_FSCK_CORRUPT: return ("hash-mismatch");
	case VH_FSCK_ORPHAN: return ("orphan-file");
	case VH_FSCK_FOREIGN: return ("foreign-file");
	case VH_FSCK_SPOOL: return ("stale-spool");
	case VH_FSCK_EXPIRED: return ("expired-upload");
	}
	return ("unknown");
}

const char *
vh_fsck_outcome_name(enum vh_fsck_outcome o)
{
	switch (o) {
	case VH_FSCK_FOUND: return ("found");
	case VH_FSCK_REPAIRED: return ("repaired");
	case VH_FSCK_BUSY: return ("busy");
	case VH_FSCK_FAILED: return ("repair-failed");
	}
	return ("unknown");
}

static void
found(struct fsck *f, enum vh_fsck_kind kind, enum vh_fsck_outcome out,
    const char *name, const char *detail)
{
	struct vh_fsck_finding fd = { kind, out, name, detail };

	if (out == VH_FSCK_REPAIRED)
		f->st->repaired++;
	else
		f->st->problems++;
	f->fn(&fd, f->arg);
}

static int
cmp_row(const void *a, const void *b)
{
	return (strcmp(((const struct row *)a)->name,
	    ((const struct row *)b)->name));
}

static struct row *
lookup(struct rows *rs, const char *name)
{
	struct row key;

	if (rs->n == 0 || strlen(name) >= sizeof key.name)
		return (NULL);
	strcpy(key.name, name);
	return (bsearch(&key, rs->v, rs->n, sizeof *rs->v, cmp_row));
}

/* Column 0 a name, column 1 (when there) a size. */
static int
load(struct fsck *f, struct rows *rs, const char *sql)
{
	PGresult	*r;

	if ((r = vh_db_exec(f->db, sql, 0, NULL, &f->err)) == NULL)
		return (VH_EDB);
	rs->n = (size_t)PQntuples(r);
	rs->v = vh_xcalloc(rs->n + 1, sizeof *rs->v);
	for (size_t i = 0; i < rs->n; i++) {
		snprintf(rs->v[i].name, sizeof rs->v[i].name, "%s",
		    PQgetvalue(r, (int)i, 0));
		if (PQnfields(r) > 1)
			rs->v[i].size = strtoll(PQgetvalue(r, (int)i, 1), NULL, 10);
	}
	PQclear(r);
	qsort(rs->v, rs->n, sizeof *rs->v, cmp_row);
	return (0);
}

static int
visit_blob(const struct vh_blob_entry *e, void *arg)
{
	struct fsck	*f = arg;
	struct row	*row;
	char		*detail, *rel, *err = NULL;
	int64_t		 age;
	int		 rc;

	if (e->hex == NULL) {
		rel = vh_xasprintf("blobs/%s", e->path);
		found(f, VH_FSCK_FOREIGN, VH_FSCK_FOUND, rel, e->regular ?
		    "not a blob's name or place; look at it and remove it by hand" :
		    "not a regular file; look at it and remove it by hand");
		free(rel);
		return (0);
	}
	f->st->files++;
	if ((row = lookup(&f->blobs, e->hex)) != NULL) {
		row->seen = true;
		if (row->size != e->size) {
			/* Judged after the walk: a repair changes the directory
			 * being read. No need to hash it too. */
			f->damaged = vh_xreallocarray(f->damaged, f->ndamaged + 1,
			    sizeof *f->damaged);
			memcpy(f->damaged[f->ndamaged].name, e->hex, 65);
			f->damaged[f->ndamaged++].size = e->size;
			return (0);
		}
	} else if (lookup(&f->named, e->hex) == NULL) {
		age = f->now - (e->ctime > e->mtime ? e->ctime : e->mtime);
		if (age < f->o->grace_s) {
			f->st->young++;
			return (0);
		}
		detail = vh_xasprintf("%lld bytes that no row names", (long long)
		    e->size);
		if (!f->o->repair)
			found(f, VH_FSCK_ORPHAN, VH_FSCK_FOUND, e->hex, detail);
		else if ((rc = vh_blobgc_remove_orphan(f->db, f->bs, e->hex,
		    &err)) == 0)
			found(f, VH_FSCK_ORPHAN, VH_FSCK_REPAIRED, e->hex, detail);
		else {
			free(detail);
			detail = rc == VH_ECONFLICT ? vh_xstrdup("a writer is "
			    "storing it right now; left alone") : vh_xasprintf(
			    "could not remove it: %s", err != NULL ? err :
			    vh_strerror(rc));
			found(f, VH_FSCK_ORPHAN, rc == VH_ECONFLICT ?
			    VH_FSCK_BUSY : VH_FSCK_FAILED, e->hex, detail);
			free(err);
		}
		free(detail);
		return (0);
	}
	f->present = vh_xreallocarray(f->present, f->npresent + 1,
	    sizeof *f->present);
	memcpy(f->present[f->npresent++], e->hex, 65);
	return (0);
}

/* 0 and the blob's SHA-256 in hex, or the store's error. */
static int
hash_blob(struct vh_blobstore *bs, const char *hex, char out[65], char *buf)
{
	struct vh_blob_reader	*rd = NULL;
	EVP_MD_CTX		*md = NULL;
	unsigned char		 d[EVP_MAX_MD_SIZE];
	unsigned int		 dn = 0;
	int64_t			 off = 0;
	ssize_t			 n;
	int			 rc;

	if ((rc = vh_blobstore_open(bs, hex, &rd)) != 0)
		return (rc);
	rc = VH_EIO;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = vh_blob_reader_pread(rd, buf, CHUNK, off)) > 0) {
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1)
			goto out;
		off += n;
	}
	if (n < 0 || EVP_DigestFinal_ex(md, d, &dn) != 1 || dn != 32)
		goto out;
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	vh_blob_reader_free(rd);
	return (rc);
}

/* Copies src into a new file at dst; 0 or VH_ENOENT / VH_EIO. */
static int
copy_file(const char *src, const char *dst, char *buf)
{
	ssize_t	 n;
	int	 in, out, rc = 0;

	if ((in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (errno == ENOENT ? VH_ENOENT : VH_EIO);
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0640)) == -1) {
		close(in);
		return (VH_EIO);
	}
	while ((n = read(in, buf, CHUNK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || write(out, buf, (size_t)n) != n) {
			rc = VH_EIO;
			break;
		}
	}
	close(in);
	if (close(out) == -1)
		rc = VH_EIO;
	if (rc != 0)
		unlink(dst);
	return (rc);
}

/*
 * Puts the backup's copy of blob hex into the store, after checking it:
 * it enters through the spool like any upload (put_file syncs it). A
 * damaged file in the way (replace) goes first, or the store would keep
 * it as "already stored". Under the collector's lock, so that an erasure
 * running now does not see its file come back.
 */
static int
restore_blob(struct fsck *f, const char *hex, bool replace)
{
	const char	*p[1] = { hex };
	PGresult	*r;
	char		*src, *tmp, got[65], *buf;
	int64_t		 size;
	int		 rc;

	if ((r = vh_db_exec(f->db, "SELECT pg_try_advisory_lock(" LOCK_KEY ")",
	    1, p, NULL)) == NULL)
		return (VH_EDB);
	rc = strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? 0 : VH_ECONFLICT;
	PQclear(r);
	if (rc != 0)
		return (rc);
	src = vh_xasprintf("%s/blobs/%.2s/%.2s/%s", f->o->from, hex, hex + 2,
	    hex);
	tmp = vh_blobstore_spool_path(f->bs, "fsck");
	buf = vh_xmalloc(CHUNK);
	if ((rc = copy_file(src, tmp, buf)) != 0)
		goto out;
	if ((rc = vh_blobstore_hash_file(tmp, got, &size)) == 0 &&
	    strcmp(got, hex) != 0)
		rc = VH_ECHECKSUM;
	if (rc == 0 && replace && (rc = vh_blobstore_delete(f->bs, hex)) ==
	    VH_ENOENT)
		rc = 0;
	if (rc == 0)
		rc = vh_blobstore_put_file(f->bs, tmp, got);
	if (rc != 0)
		unlink(tmp);
out:
	PQclear(PQexecParams(f->db, "SELECT pg_advisory_unlock(" LOCK_KEY ")", 1,
	    NULL, p, NULL, NULL, 0));
	free(buf);
	free(tmp);
	free(src);
	return (rc);
}

/* Reports lost (replace false) or damaged content, repairing it from the
 * backup when there is one. */
static void
bad_content(struct fsck *f, enum vh_fsck_kind kind, const char *hex,
    const char *what, bool replace)
{
	char			*detail;
	enum vh_fsck_outcome	 out = VH_FSCK_FOUND;
	int			 rc;

	if (!f->o->repair || f->o->from == NULL) {
		detail = vh_xasprintf("%s; restore the file from a backup", what);
		found(f, kind, out, hex, detail);
		free(detail);
		return;
	}
	rc = restore_blob(f, hex, replace);
	if (rc == 0) {
		out = VH_FSCK_REPAIRED;
		detail = vh_xasprintf("%s; copied back from %s", what, f->o->from);
	} else {
		out = rc == VH_ECONFLICT ? VH_FSCK_BUSY : VH_FSCK_FAILED;
		detail = vh_xasprintf("%s; %s", what, rc == VH_ENOENT ?
		    "the backup has no copy" : rc == VH_ECHECKSUM ?
		    "the backup's copy is damaged too" : rc == VH_ECONFLICT ?
		    "a writer holds it now" : "copying it back failed");
	}
	found(f, kind, out, hex, detail);
	free(detail);
}

static void
check_sizes(struct fsck *f)
{
	struct row	*row;
	char		*what;

	for (size_t i = 0; i < f->ndamaged; i++) {
		row = lookup(&f->blobs, f->damaged[i].name);
		what = vh_xasprintf("%lld bytes, its row says %lld",
		    (long long)f->damaged[i].size, (long long)row->size);
		bad_content(f, VH_FSCK_CORRUPT, f->damaged[i].name, what, true);
		free(what);
	}
}

static void
check_hashes(struct fsck *f)
{
	char	*buf, got[65], *detail;
	size_t	 n = f->npresent, j;
	int	 rc;

	if (f->o->sample >= 0 && (size_t)f->o->sample < n) {
		/* The first sample slots of a partial Fisher-Yates shuffle. */
		for (size_t i = 0; i < (size_t)f->o->sample; i++) {
			j = i + (size_t)arc4random_uniform((uint32_t)(f->npresent -
			    i > UINT32_MAX ? UINT32_MAX : f->npresent - i));
			memcpy(got, f->present[i], 65);
			memcpy(f->present[i], f->present[j], 65);
			memcpy(f->present[j], got, 65);
		}
		n = (size_t)f->o->sample;
	}
	buf = vh_xmalloc(CHUNK);
	for (size_t i = 0; i < n; i++) {
		const char *hex = f->present[i];

		if ((rc = hash_blob(f->bs, hex, got, buf)) == VH_ENOENT)
			continue;	/* erased since the walk */
		f->st->hashed++;
		if (rc != 0)
			detail = vh_xasprintf("cannot be read: %s", vh_strerror(rc));
		else if (strcmp(got, hex) != 0)
			detail = vh_xasprintf("its bytes hash to %s", got);
		else
			continue;
		bad_content(f, VH_FSCK_CORRUPT, hex, detail, true);
		free(detail);
	}
	free(buf);
}

/* The media rows that name hex, for the report of a lost file. */
static char *
users_of(struct fsck *f, const char *hex)
{
	const char	*p[1] = { hex };
	PGresult	*r;
	char		*s;

	r = vh_db_exec(f->db, "SELECT coalesce(string_agg('media ' || id ||"
	    " ' of entry ' || entry_id, ', ' ORDER BY id), '') FROM media WHERE"
	    " blob_sha256 = $1 OR ARRAY[opus_sha256, m4a_sha256, peaks_sha256,"
	    " display_sha256, thumb_sha256] @> ARRAY[$1::text]", 1, p, NULL);
	s = vh_xstrdup(r != NULL ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return (s);
}

/* A row whose file is gone: nothing lost when no row refers to it. */
static void
drop_unused_row(struct fsck *f, const char *hex, const char *users)
{
	const char	*p[1] = { hex };
	PGresult	*r;
	char		*detail;
	bool		 locked, gone = false;

	if (users[0] != '\0') {
		detail = vh_xasprintf("named by %s", users);
		bad_content(f, VH_FSCK_MISSING, hex, detail, false);
		free(detail);
		return;
	}
	if ((r = vh_db_exec(f->db, "SELECT pg_try_advisory_lock(" LOCK_KEY ")",
	    1, p, NULL)) == NULL) {
		found(f, VH_FSCK_MISSING, VH_FSCK_FAILED, hex, "unused row; "
		    "the database did not answer");
		return;
	}
	locked = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (locked) {
		r = vh_db_exec(f->db, "DELETE FROM blob WHERE sha256 = $1 AND NOT"
		    " vh_blob_in_use($1) AND NOT EXISTS (SELECT 1 FROM upload"
		    " WHERE blob_sha256 = $1)", 1, p, NULL);
		gone = r != NULL && strcmp(PQcmdTuples(r), "1") == 0;
		PQclear(r);
		PQclear(PQexecParams(f->db, "SELECT pg_advisory_unlock(" LOCK_KEY
		    ")", 1, NULL, p, NULL, NULL, 0));
	}
	found(f, VH_FSCK_MISSING, gone ? VH_FSCK_REPAIRED : locked ?
	    VH_FSCK_FAILED : VH_FSCK_BUSY, hex, gone ? "no row referred to it; "
	    "its row was removed" : "no media refers to it, but its row stays");
}

static void
check_missing(struct fsck *f)
{
	PGresult	*r;
	char		*users, *detail;

	for (size_t i = 0; i < f->blobs.n; i++) {
		const char *hex = f->blobs.v[i].name;
		const char *p[1] = { hex };

		if (f->blobs.v[i].seen || vh_blobstore_exists(f->bs, hex,
		    NULL) == 0 || vh_blobstore_quarantined(f->bs, hex))
			continue;
		/* Erased during the walk: its row went with its file. */
		r = vh_db_exec(f->db, "SELECT 1 FROM blob WHERE sha256 = $1", 1, p,
		    NULL);
		if (r != NULL && PQntuples(r) == 0) {
			PQclear(r);
			continue;
		}
		PQclear(r);
		users = users_of(f, hex);
		if (f->o->repair)
			drop_unused_row(f, hex, users);
		else {
			detail = users[0] != '\0' ? vh_xasprintf("named by %s; "
			    "restore the file from a backup", users) :
			    vh_xstrdup("no media refers to it");
			found(f, VH_FSCK_MISSING, VH_FSCK_FOUND, hex, detail);
			free(detail);
		}
		free(users);
	}
}

static int
visit_spool(const struct vh_blob_entry *e, void *arg)
{
	struct fsck	*f = arg;
	struct row	*row;
	char		*rel, *path, *detail;
	enum vh_fsck_outcome out = VH_FSCK_FOUND;

	rel = vh_xasprintf("spool/%s", e->path);
	if (!e->regular) {
		found(f, VH_FSCK_FOREIGN, VH_FSCK_FOUND, rel, "not a regular "
		    "file; look at it and remove it by hand");
		goto out;
	}
	if ((row = lookup(&f->spool, e->path)) != NULL)
		goto out;	/* an upload's; expired ones are reaped below */
	if (f->now - e->mtime < f->o->grace_s) {
		f->st->young++;
		goto out;
	}
	if (f->o->repair) {
		path = vh_xasprintf("%s/%s", vh_blobstore_root(f->bs), rel);
		out = unlink(path) == 0 || errno == ENOENT ? VH_FSCK_REPAIRED :
		    VH_FSCK_FAILED;
		free(path);
	}
	detail = vh_xasprintf("%lld bytes, last written %lld s ago, no "
	    "unfinished upload uses it", (long long)e->size,
	    (long long)(f->now - e->mtime));
	found(f, VH_FSCK_SPOOL, out, rel, detail);
	free(detail);
out:
	free(rel);
	return (0);
}

static int
check_uploads(struct fsck *f)
{
	PGresult	*r;
	char		*detail;
	int		 n = 0;
	bool		 reaped = false;

	r = vh_db_exec(f->db, "SELECT id, (extract(epoch FROM now() -"
	    " expires_at))::bigint FROM upload WHERE completed_at IS NULL AND"
	    " expires_at < now() ORDER BY id", 0, NULL, &f->err);
	if (r == NULL)
		return (VH_EDB);
	/* The daemon's own reaper, so that row and file go the same way. */
	if (PQntuples(r) > 0 && f->o->repair)
		reaped = vh_upload_reap(f->db, f->bs, &n, &f->err) == 0;
	for (int i = 0; i < PQntuples(r); i++) {
		detail = vh_xasprintf("unfinished, expired %s s ago",
		    PQgetvalue(r, i, 1));
		found(f, VH_FSCK_EXPIRED, !f->o->repair ? VH_FSCK_FOUND :
		    reaped ? VH_FSCK_REPAIRED : VH_FSCK_FAILED,
		    PQgetvalue(r, i, 0), detail);
		free(detail);
	}
	PQclear(r);
	return (0);
}

int
vh_fsck_run(PGconn *db, struct vh_blobstore *bs, const struct vh_fsck_opts *o,
    vh_fsck_fn fn, void *arg, struct vh_fsck_stats *st, char **err)
{
	struct fsck	 f = { .db = db, .bs = bs, .o = o, .fn = fn, .arg = arg,
			    .st = st };
	int		 rc;

	memset(st, 0, sizeof *st);
	f.now = (int64_t)time(NULL);
	if ((rc = load(&f, &f.blobs, "SELECT sha256, size FROM blob")) != 0 ||
	    (rc = load(&f, &f.named, "SELECT blob_sha256 FROM upload WHERE"
	    " blob_sha256 IS NOT NULL")) != 0 ||
	    (rc = load(&f, &f.spool, "SELECT spool_name FROM upload WHERE completed_at IS NULL AND spool_name <> ''")) != 0)
		goto out;
	st->rows = (int64_t)f.blobs.n;
	if ((rc = vh_blobstore_each(bs, visit_blob, &f)) != 0) {
		f.err = vh_xasprintf("reading %s/blobs: %s", vh_blobstore_root(bs),
		    strerror(errno));
		goto out;
	}
	check_sizes(&f);
	check_hashes(&f);
	check_missing(&f);
	if ((rc = vh_blobstore_each_spool(bs, visit_spool, &f)) != 0) {
		f.err = vh_xasprintf("reading %s/spool: %s", vh_blobstore_root(bs),
		    strerror(errno));
		goto out;
	}
	rc = check_uploads(&f);
out:
	free(f.blobs.v);
	free(f.named.v);
	free(f.spool.v);
	free(f.present);
	free(f.damaged);
	if (rc != 0)
		*err = f.err != NULL ? f.err : vh_xstrdup(vh_strerror(rc));
	else
		free(f.err);
	return (rc);
}
