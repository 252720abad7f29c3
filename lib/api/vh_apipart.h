#ifndef VH_APIPART_H
#define VH_APIPART_H
/*
 * The file parts of a multipart body, for the two handlers that take them
 * (vh_api_entries.c, vh_api_odk.c): each streamed into its own blob writer
 * as it arrives, then made durable by a worker. What a failure means for
 * the client is left in status, for the handler to answer in its own
 * words. The part that describes the submission (JSON, XML) is kept in
 * memory with vh_apipart_append.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VH_APIPART_MAX	20	/* files in one submission */

struct vh_blobstore;
struct vh_blob_writer;
struct vh_http_req;
struct vh_multipart_part;

struct vh_apipart {
	struct vh_blob_writer	*writer;	/* until committed */
	char			*filename;	/* as sent */
	char			*ctype;		/* as sent, "" when none */
	char			 sha256[65];	/* once committed */
	int64_t			 size;
	bool			 committed;
};

struct vh_apiparts {
	struct vh_apipart	 part[VH_APIPART_MAX];
	size_t			 n;
	int			 status;	/* of a failure: 507 disk full, else 503 */
};

/* Loop: a writer for part p (one with a file name) in bs, as the next
 * part; the names are copied. VH_ETOOBIG when VH_APIPART_MAX are open;
 * VH_EIO, logged with req's id, opens none. */
int	vh_apipart_open(struct vh_apiparts *, struct vh_blobstore *bs,
	    struct vh_http_req *req, const struct vh_multipart_part *p)
	    __attribute__((warn_unused_result));
/* Loop: appends a piece of the last part's body. 0 or VH_EIO. */
int	vh_apipart_write(struct vh_apiparts *, const char *data, size_t len)
	    __attribute__((warn_unused_result));
/* Worker: makes part i durable (its size and sha256 set). 0 or VH_EIO;
 * its writer is gone either way. */
int	vh_apipart_commit(struct vh_apiparts *, size_t i)
	    __attribute__((warn_unused_result));
/* Aborts uncommitted writers (their spool files go) and frees the
 * names; the set is empty after. */
void	vh_apipart_clear(struct vh_apiparts *);

/* Loop: appends n bytes to *buf (*len of them so far, kept NUL-ended),
 * for a part kept in memory; VH_ETOOBIG, nothing appended, past max. */
int	vh_apipart_append(char **buf, size_t *len, size_t max,
	    const char *data, size_t n) __attribute__((warn_unused_result));

#endif
