#ifndef VH_APIPART_H
#define VH_APIPART_H
/*
 * Request bodies on their way into spool files, off the loop where that
 * can wait. For the two handlers that take multipart bodies
 * (vh_api_entries.c, vh_api_odk.c) it is the whole part-state skeleton:
 * each file part streams into its own blob writer, whose spool file a
 * worker creates while the body is paused; the parts that describe the
 * submission (JSON, XML, a form field) are kept in the handler's text
 * buffers; the handler only says what each part is and how a failure
 * reads in its own words. For vh_api_tus.c (and the parts) it starts
 * writeback on the pool and removes spool files there.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VH_APIPART_MAX	20	/* files in one submission */

struct vh_blobstore;
struct vh_blob_writer;
struct vh_http_req;
struct vh_multipart;
struct vh_multipart_part;
struct vh_pool;
struct open_job;
struct vh_apipart_wb;

/* What a part is, as the handler's begin callback says. */
enum vh_apipart_kind {
	VH_APIPART_SKIP,	/* read and dropped */
	VH_APIPART_TEXT,	/* into the text buffer named */
	VH_APIPART_FILE,	/* into a blob writer of its own */
};

/* A part kept in memory, NUL-ended. data is NULL until such a part
 * begins (so a handler sees whether one came); each part starts it
 * again empty. Past max: cut keeps the first max bytes, else the body
 * fails with VH_APIPART_TOO_LARGE. The handler frees data. */
struct vh_apipart_text {
	char	*data;
	size_t	 len, max;
	bool	 cut;
};

/* What went wrong, for the handler's fail callback. */
enum vh_apipart_why {
	VH_APIPART_TOO_MANY,	/* more file parts than max_files: 413 */
	VH_APIPART_TOO_LARGE,	/* a text part past its max: 413 */
	VH_APIPART_NO_FILE,	/* no spool file could be created */
	VH_APIPART_WRITE,	/* a file part could not be written */
	VH_APIPART_MALFORMED,	/* not valid multipart: 400 */
};

struct vh_apiparts_cbs {
	/* Loop: what part p is; for VH_APIPART_TEXT *text names the buffer.
	 * A negative return (the handler recorded its error) stops. */
	int	(*begin)(void *arg, const struct vh_multipart_part *p,
		    struct vh_apipart_text **text);
	/* Loop: records the handler's error for why; status is 413, or 507
	 * (disk full) / 503 for the storage ones. */
	void	(*fail)(void *arg, enum vh_apipart_why why, int status);
	/* Loop: a spool file failed after the body was paused for it: the
	 * error is recorded (fail); answer now. */
	void	(*respond)(void *arg);
};

struct vh_apipart {
	struct vh_blob_writer	*writer;	/* until committed */
	char			*filename;	/* as sent */
	char			*ctype;		/* as sent, "" when none */
	char			 sha256[65];	/* once committed */
	int64_t			 size;
	bool			 committed;
	/* while a worker creates its file: the bytes that came meanwhile
	 * (at most one body piece, the body is paused) */
	struct open_job		*job;
	char			*held;
	size_t			 held_len;
	struct vh_apipart_wb	*wb;
};

struct vh_apiparts {
	struct vh_apipart	 part[VH_APIPART_MAX];
	size_t			 n;
	int			 status;	/* of a failure: 507 disk full, else 503 */
	/* the handler's, from vh_apipart_start (borrowed) */
	struct vh_pool		*pool;
	struct vh_blobstore	*bs;
	struct vh_http_req	*req;
	const struct vh_apiparts_cbs *cbs;
	void			*arg;
	size_t			 max_files;
	/* the handler's end and abort callbacks (vh_apipart_read_body) */
	void			(*on_end)(struct vh_http_req *, void *);
	void			(*on_abort)(struct vh_http_req *, void *);
	/* the parser and the part being read */
	struct vh_multipart	*mp;
	enum vh_apipart_kind	 kind;
	bool			 reading;	/* a part began, not yet ended */
	struct vh_apipart_text	*text;
	int			 opening;	/* spool files being created */
	bool			 paused, broken;
};

/* Loop: prepares set for a multipart body with boundary (copied);
 * VH_EINVAL when it is not a valid one (nothing to clear then). */
int	vh_apipart_start(struct vh_apiparts *, struct vh_pool *,
	    struct vh_blobstore *, struct vh_http_req *, const char *boundary,
	    size_t max_files, const struct vh_apiparts_cbs *, void *arg)
	    __attribute__((warn_unused_result));
/*
 * Loop: reads the body (at most max bytes) into the parts; a body that
 * fails (malformed: fail with VH_APIPART_MALFORMED, or any callback's
 * error) is answered through the respond callback. on_end and on_abort
 * are the handler's (vh_http_req_read_body's), called with its arg.
 */
void	vh_apipart_read_body(struct vh_apiparts *, int64_t max,
	    void (*on_end)(struct vh_http_req *, void *),
	    void (*on_abort)(struct vh_http_req *, void *));
/* Loop: VH_EINVAL unless the closing delimiter came. */
int	vh_apipart_finish(struct vh_apiparts *)
	    __attribute__((warn_unused_result));
/* Worker: makes part i durable (its size and sha256 set). 0 or VH_EIO;
 * its writer is gone either way. */
int	vh_apipart_commit(struct vh_apiparts *, size_t i)
	    __attribute__((warn_unused_result));
/* Loop: removes the uncommitted parts' spool files on the pool (also
 * those still being created) and frees the rest; the set is empty. */
void	vh_apipart_clear(struct vh_apiparts *);

/* Loop: appends n bytes to *buf (*len of them so far, kept NUL-ended),
 * for a part kept in memory; VH_ETOOBIG, nothing appended, past max. */
int	vh_apipart_append(char **buf, size_t *len, size_t max,
	    const char *data, size_t n) __attribute__((warn_unused_result));

/* Loop: aborts w (takes ownership) on the pool, where its spool file is
 * removed; NULL is a no-op. */
void	vh_apipart_discard(struct vh_pool *, struct vh_blob_writer *w);

/*
 * Writeback of a spool file that the loop appends to: every
 * VH_FSUTIL_WRITEBACK_STEP bytes a tiny pool job starts writeback of the
 * new range (vh_blobstore_spool_writeback), at most one in flight per
 * file; the bytes passed over meanwhile go with the next one. All three
 * run on the loop; an object freed with a job in flight lives until it
 * ends. name (under spool/) is copied; start is the offset written so
 * far.
 */
struct vh_apipart_wb *vh_apipart_writeback_new(struct vh_pool *,
	    struct vh_blobstore *, const char *name, int64_t start);
/* end: the file offset written up to. NULL is a no-op. */
void	vh_apipart_writeback_note(struct vh_apipart_wb *, int64_t end);
void	vh_apipart_writeback_free(struct vh_apipart_wb *);

#endif
