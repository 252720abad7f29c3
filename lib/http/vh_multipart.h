#ifndef VH_MULTIPART_H
#define VH_MULTIPART_H
/* Streaming multipart/form-data (RFC 7578, RFC 2046 section 5.1). */
#include <stddef.h>

#define VH_MULTIPART_MAX_HEADER	(16 * 1024)

/*
 * Extracts the boundary parameter of a multipart/form-data Content-Type
 * (quoted or token; 1..70 chars of the RFC 2046 bchars, not ending in a
 * space). VH_EINVAL if not multipart/form-data or no valid boundary. Caller
 * frees *boundary; NULL on error.
 */
int	vh_multipart_boundary(const char *content_type, char **boundary)
	    __attribute__((warn_unused_result));

/* Borrowed strings, valid until the part's part_end returns. */
struct vh_multipart_part {
	const char	*name;
	const char	*filename;	/* without directories; NULL if none */
	const char	*content_type;	/* NULL if none */
};

/* A callback returning a negative value stops parsing with that value. */
struct vh_multipart_cbs {
	int	(*part_begin)(void *arg, const struct vh_multipart_part *);
	int	(*part_data)(void *arg, const char *data, size_t len);
	int	(*part_end)(void *arg);
};

/* boundary is copied; cbs and arg are borrowed for the parser's life.
 * NULL if boundary is not 1..70 bchars. Unset callbacks are skipped. */
struct vh_multipart *vh_multipart_new(const char *boundary,
	    const struct vh_multipart_cbs *, void *arg);
void	vh_multipart_free(struct vh_multipart *);
/*
 * Feeds body bytes in any split; memory stays bounded (only a boundary's
 * length of lookahead plus one part header block of at most 16 KiB is
 * held). Returns 0, VH_EINVAL for malformed input (missing
 * Content-Disposition: form-data; name=..., header block too big, garbage),
 * or a callback's negative return unchanged. Bytes after the closing
 * delimiter are ignored. After an error the parser stays failed.
 */
int	vh_multipart_feed(struct vh_multipart *, const char *, size_t)
	    __attribute__((warn_unused_result));
/* VH_EINVAL unless the closing delimiter has been seen. */
int	vh_multipart_finish(struct vh_multipart *)
	    __attribute__((warn_unused_result));

#endif
