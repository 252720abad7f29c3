#ifndef VH_FSCK_H
#define VH_FSCK_H
/*
 * Consistency check of the blob store against the database (verhaalctl
 * fsck): blob rows whose file is gone, files no row names, files whose
 * bytes no longer hash to their name, things under blobs/ that are no
 * blob, stale spool files and unfinished uploads past their expiry. With
 * repair set, what is safe to remove goes: orphans older than the grace
 * period (so an upload another daemon is storing right now is never
 * touched), stale spool files, expired uploads, and rows of lost files
 * that nothing refers to. Lost or damaged content stays a problem unless a
 * backup to copy it from is given: only a backup has the bytes. Blocking
 * throughout; for verhaalctl.
 */
#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

struct vh_blobstore;

enum vh_fsck_kind {
	VH_FSCK_MISSING,	/* a blob row whose file is gone */
	VH_FSCK_CORRUPT,	/* a file whose bytes or size are not its row's */
	VH_FSCK_ORPHAN,		/* a blob file that no row names */
	VH_FSCK_FOREIGN,	/* under blobs/ or spool/ but no blob or file */
	VH_FSCK_SPOOL,		/* a spool file no unfinished upload uses */
	VH_FSCK_EXPIRED,	/* an unfinished upload past its expiry */
};

enum vh_fsck_outcome {
	VH_FSCK_FOUND,		/* reported; not repaired (or not asked to) */
	VH_FSCK_REPAIRED,
	VH_FSCK_BUSY,		/* a writer holds it now; not touched */
	VH_FSCK_FAILED,		/* the repair was tried and failed */
};

struct vh_fsck_opts {
	bool	 repair;
	int64_t	 grace_s;	/* orphans and spool files younger are kept */
	int64_t	 sample;	/* blobs to hash, chosen at random; -1: all */
	const char *from;	/* with repair: a backup (verhaalctl backup)
				 * to copy lost or damaged blobs back from */
};

/* One problem; every string borrowed for the duration of the callback. */
struct vh_fsck_finding {
	enum vh_fsck_kind	 kind;
	enum vh_fsck_outcome	 outcome;
	const char		*name;	/* a hash, a path below the root, an upload id */
	const char		*detail;	/* what is wrong, in words */
};

struct vh_fsck_stats {
	int64_t	 rows;		/* blob rows */
	int64_t	 files;		/* blob files found */
	int64_t	 hashed;	/* files whose SHA-256 was computed */
	int64_t	 young;		/* unnamed files within the grace period */
	int64_t	 problems;	/* findings not repaired */
	int64_t	 repaired;
};

typedef void (*vh_fsck_fn)(const struct vh_fsck_finding *, void *);

/*
 * Runs the check, calling fn for each finding as it is made (after any
 * repair of it); *stats (zeroed first) counts. 0 when the check ran to
 * its end, whatever it found; VH_EDB or VH_EIO with *err set (caller
 * frees) when it could not.
 */
int	vh_fsck_run(PGconn *, struct vh_blobstore *, const struct vh_fsck_opts *,
	    vh_fsck_fn fn, void *arg, struct vh_fsck_stats *stats, char **err)
	    __attribute__((warn_unused_result));

/* The finding's name for people and scripts: "missing-file", ... */
const char *vh_fsck_kind_name(enum vh_fsck_kind);
const char *vh_fsck_outcome_name(enum vh_fsck_outcome);

#endif
