#ifndef VH_CLASSIFY_H
#define VH_CLASSIFY_H
/*
 * Decides what an uploaded file is from its bytes (libmagic), never from
 * its declared Content-Type or name, against an allow-list of families.
 */
#include <magic.h>

#include "vh_sandbox.h"

enum vh_media_family {
	VH_MEDIA_REJECTED = 0,
	VH_MEDIA_AUDIO,
	VH_MEDIA_IMAGE,
	VH_MEDIA_TEXT,
	VH_MEDIA_PDF,
};

struct vh_classify_result {
	enum vh_media_family family;
	char	mime[128];	/* what libmagic said, "" if nothing */
	char	reason[256];	/* why it was rejected, for the uploader */
};

/*
 * A magic cookie for MAGIC_MIME_TYPE with the default database loaded;
 * each worker thread owns one (libmagic is not thread-safe). NULL with
 * *err set (caller frees) on failure. Close with magic_close().
 */
magic_t	vh_classify_magic_open(char **err);

/*
 * Classifies the file at path (borrowed). Returns 0 with r->family set,
 * VH_MEDIA_REJECTED and r->reason filled when the file is not accepted;
 * or VH_EIO with *err set (caller frees) when it cannot be read at all.
 * Containers that libmagic calls video (video/mp4, video/3gpp, video/webm,
 * video/quicktime, video/x-matroska) are audio when their header lists at
 * least one audio stream; their video is ignored.
 */
int	vh_classify_file(magic_t, const char *path,
	    struct vh_classify_result *r, char **err)
	    __attribute__((warn_unused_result));

/*
 * The same for an open descriptor (borrowed; read from its start, left
 * at an unspecified offset): what the confined child runs.
 */
int	vh_classify_fd(magic_t, int fd, struct vh_classify_result *r,
	    char **err) __attribute__((warn_unused_result));

/*
 * Classifies the file at path in a confined child (lib/event/vh_sandbox.c):
 * libmagic and the container probe never see untrusted bytes in this
 * process. sl NULL: the defaults, named "classifier", with a 60 s
 * timeout. A classifier that crashes or hangs returns VH_EIO with *err
 * the reason (caller frees), as does a file that cannot be opened.
 */
int	vh_classify_sandboxed(const char *path,
	    const struct vh_sandbox_limits *, struct vh_classify_result *r,
	    char **err)
	    __attribute__((warn_unused_result));

/*
 * Holds a result that came from a child to our own tables: terminates its
 * strings, and rejects it when its family does not follow from its type
 * (a subverted child must not make an HTML page a PDF).
 */
void	vh_classify_check(struct vh_classify_result *r);

/* The "classify" operation in the helper; c->state is its magic_t. */
int	vh_classify_child(struct vh_sandbox_call *c);

/* "audio", "image", "text", "pdf" or "rejected". */
const char *vh_media_family_name(enum vh_media_family);

#endif
