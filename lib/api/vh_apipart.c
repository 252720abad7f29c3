/*
 * Multipart file parts on their way into the blob store, written once for
 * the one-request submissions and the OpenRosa ones: a part's bytes go to
 * its blob writer as the parser hands them over, and a worker commits
 * them (fsync, rename) before any row names the file. A failure records
 * the status that answers it, 507 when the disk is full (the client may
 * try again once there is room) and 503 for any other, so that both
 * handlers say the same thing about the same failure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vh_apipart.h"
#include "vh_blobstore.h"
#include "vh_error.h"
#include "vh_http.h"
#include "vh_log.h"
#include "vh_multipart.h"
#include "vh_xmalloc.h"

/* Reads errno before anything else can change it. */
static int
failed(struct vh_apiparts *set)
{
	set->status = errno == ENOSPC ? 507 : 503;
	return (VH_EIO);
}

int
vh_apipart_open(struct vh_apiparts *set, struct vh_blobstore *bs,
    struct vh_http_req *req, const struct vh_multipart_part *p)
{
	struct vh_apipart	*f;
	char			*err = NULL;
	int			 rc;

	if (set->n == VH_APIPART_MAX)
		return (VH_ETOOBIG);
	f = &set->part[set->n];
	memset(f, 0, sizeof *f);
	if ((f->writer = vh_blob_writer_new(bs, &err)) == NULL) {
		rc = failed(set);
		vh_log_warnx("req=%s %s", vh_http_req_id(req), err);
		free(err);
		return (rc);
	}
	f->filename = vh_xstrdup(p->filename);
	f->ctype = vh_xstrdup(p->content_type != NULL ? p->content_type : "");
	set->n++;
	return (0);
}

int
vh_apipart_write(struct vh_apiparts *set, const char *data, size_t len)
{
	if (set->n == 0 || vh_blob_writer_write(set->part[set->n - 1].writer,
	    data, len) != 0)
		return (failed(set));
	return (0);
}

int
vh_apipart_commit(struct vh_apiparts *set, size_t i)
{
	struct vh_apipart	*f = &set->part[i];
	int			 rc;

	f->size = vh_blob_writer_size(f->writer);
	rc = vh_blob_writer_commit(f->writer, f->sha256);
	f->writer = NULL;	/* committed or aborted: gone */
	if (rc != 0)
		return (failed(set));
	f->committed = true;
	return (0);
}

void
vh_apipart_clear(struct vh_apiparts *set)
{
	for (size_t i = 0; i < set->n; i++) {
		vh_blob_writer_abort(set->part[i].writer);
		free(set->part[i].filename);
		free(set->part[i].ctype);
	}
	memset(set, 0, sizeof *set);
}

int
vh_apipart_append(char **buf, size_t *len, size_t max, const char *data,
    size_t n)
{
	if (*len + n > max)
		return (VH_ETOOBIG);
	*buf = vh_xreallocarray(*buf, *len + n + 1, 1);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
	return (0);
}
