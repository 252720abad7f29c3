/*
 * File classification. libmagic (MAGIC_MIME_TYPE) names the type from the
 * bytes; an allow-list maps types to families. libmagic calls audio-only
 * MP4, 3GP, WebM and QuickTime files video, because the container can hold
 * video: for those the container header is read through vh_audio_probe
 * and the file is audio when it has an audio stream. Everything else is
 * rejected with a reason the uploader can read. The daemon classifies in
 * a confined child (vh_classify_sandboxed), which reads the file only
 * through the descriptor it is given.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vh_audio.h"
#include "vh_classify.h"
#include "vh_error.h"
#include "vh_xmalloc.h"

struct allowed {
	const char		*mime;
	enum vh_media_family	 family;
};

static const struct allowed allowed[] = {
	{ "audio/mpeg", VH_MEDIA_AUDIO },
	{ "audio/ogg", VH_MEDIA_AUDIO },
	{ "audio/opus", VH_MEDIA_AUDIO },
	{ "audio/x-wav", VH_MEDIA_AUDIO },
	{ "audio/wav", VH_MEDIA_AUDIO },
	{ "audio/vnd.wave", VH_MEDIA_AUDIO },
	{ "audio/flac", VH_MEDIA_AUDIO },
	{ "audio/x-flac", VH_MEDIA_AUDIO },
	{ "audio/aac", VH_MEDIA_AUDIO },
	{ "audio/x-aac", VH_MEDIA_AUDIO },
	{ "audio/x-hx-aac-adts", VH_MEDIA_AUDIO },
	{ "audio/mp4", VH_MEDIA_AUDIO },
	{ "audio/x-m4a", VH_MEDIA_AUDIO },
	{ "audio/amr", VH_MEDIA_AUDIO },
	{ "audio/amr-wb", VH_MEDIA_AUDIO },
	{ "audio/3gpp", VH_MEDIA_AUDIO },
	{ "audio/3gpp2", VH_MEDIA_AUDIO },
	{ "audio/webm", VH_MEDIA_AUDIO },
	{ "audio/x-matroska", VH_MEDIA_AUDIO },
	{ "image/jpeg", VH_MEDIA_IMAGE },
	{ "image/png", VH_MEDIA_IMAGE },
	{ "image/webp", VH_MEDIA_IMAGE },
	{ "image/heic", VH_MEDIA_IMAGE },
	{ "image/heif", VH_MEDIA_IMAGE },
	{ "text/plain", VH_MEDIA_TEXT },
	{ "text/markdown", VH_MEDIA_TEXT },
	{ "text/x-markdown", VH_MEDIA_TEXT },
	{ "application/pdf", VH_MEDIA_PDF },
};

/* Containers libmagic calls video that phones use for audio-only files. */
static const char *probe_audio[] = {
	"video/mp4", "video/3gpp", "video/3gpp2", "video/webm",
	"video/quicktime", "video/x-matroska",
};

/* Friendlier words for the rejects people are likely to meet. */
static const struct {
	const char	*prefix;
	const char	*words;
} kinds[] = {
	{ "application/x-executable", "a program" },
	{ "application/x-pie-executable", "a program" },
	{ "application/x-sharedlib", "a program library" },
	{ "application/x-mach-binary", "a program" },
	{ "application/x-dosexec", "a Windows program" },
	{ "text/html", "a web page (HTML)" },
	{ "image/svg", "an SVG drawing" },
	{ "application/zip", "a zip archive" },
	{ "application/x-tar", "an archive" },
	{ "application/gzip", "a compressed archive" },
	{ "application/x-7z", "an archive" },
	{ "application/x-rar", "an archive" },
	{ "image/gif", "a GIF image" },
	{ "text/x-shellscript", "a script" },
	{ "inode/x-empty", "empty" },
	{ "application/x-empty", "empty" },
	{ "application/octet-stream", "of an unknown type" },
};

magic_t
vh_classify_magic_open(char **err)
{
	magic_t	m;

	if ((m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR)) == NULL) {
		if (err != NULL)
			*err = vh_xstrdup("magic_open failed");
		return (NULL);
	}
	if (magic_load(m, NULL) == -1) {
		if (err != NULL)
			*err = vh_xasprintf("magic_load: %s", magic_error(m));
		magic_close(m);
		return (NULL);
	}
	return (m);
}

const char *
vh_media_family_name(enum vh_media_family f)
{
	switch (f) {
	case VH_MEDIA_AUDIO:	return ("audio");
	case VH_MEDIA_IMAGE:	return ("image");
	case VH_MEDIA_TEXT:	return ("text");
	case VH_MEDIA_PDF:	return ("pdf");
	case VH_MEDIA_REJECTED:	break;
	}
	return ("rejected");
}

static void
reject(struct vh_classify_result *r, const char *why)
{
	const char	*words = NULL;

	r->family = VH_MEDIA_REJECTED;
	if (why != NULL) {
		snprintf(r->reason, sizeof(r->reason), "%s", why);
		return;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(r->mime, kinds[i].prefix,
		    strlen(kinds[i].prefix)) == 0)
			words = kinds[i].words;
	if (words != NULL)
		snprintf(r->reason, sizeof(r->reason), "the file is %s (%s); "
		    "only audio, photos, text notes and PDF are accepted",
		    words, r->mime);
	else
		snprintf(r->reason, sizeof(r->reason), "files of type %s are "
		    "not accepted; only audio, photos, text notes and PDF are",
		    r->mime);
}

int
vh_classify_fd(magic_t m, int fd, struct vh_classify_result *r, char **err)
{
	struct vh_audio_probe	 p;
	const char		*mime;
	char			*perr = NULL, why[256];

	*err = NULL;
	memset(r, 0, sizeof(*r));
	if (lseek(fd, 0, SEEK_SET) == -1 ||
	    (mime = magic_descriptor(m, fd)) == NULL) {
		*err = vh_xasprintf("libmagic: %s", magic_error(m) != NULL ?
		    magic_error(m) : strerror(errno));
		return (VH_EIO);
	}
	snprintf(r->mime, sizeof(r->mime), "%s", mime);

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (strcmp(r->mime, allowed[i].mime) == 0) {
			r->family = allowed[i].family;
			return (0);
		}
	}
	for (size_t i = 0; i < sizeof(probe_audio) / sizeof(probe_audio[0]);
	    i++) {
		if (strcmp(r->mime, probe_audio[i]) != 0)
			continue;
		if (lseek(fd, 0, SEEK_SET) == -1 ||
		    vh_audio_probe_fd(fd, &p, &perr) != 0) {
			snprintf(why, sizeof(why), "the %s file cannot be "
			    "read: %s", r->mime, perr);
			free(perr);
			reject(r, why);
		} else if (p.audio_streams == 0) {
			snprintf(why, sizeof(why), "the %s file has no audio; "
			    "video is not accepted", r->mime);
			reject(r, why);
		} else
			r->family = VH_MEDIA_AUDIO;
		return (0);
	}
	reject(r, NULL);
	return (0);
}

int
vh_classify_file(magic_t m, const char *path, struct vh_classify_result *r,
    char **err)
{
	int	fd, rc;

	*err = NULL;
	memset(r, 0, sizeof(*r));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*err = vh_xasprintf("%s: %s", path, strerror(errno));
		return (VH_EIO);
	}
	rc = vh_classify_fd(m, fd, r, err);
	close(fd);
	return (rc);
}

/* Does the family follow from the type by our own tables? */
static bool
consistent(const struct vh_classify_result *r)
{
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(r->mime, allowed[i].mime) == 0)
			return (r->family == allowed[i].family);
	for (size_t i = 0; i < sizeof(probe_audio) / sizeof(probe_audio[0]);
	    i++)
		if (strcmp(r->mime, probe_audio[i]) == 0)
			return (r->family == VH_MEDIA_AUDIO);
	return (false);
}

int
vh_classify_child(struct vh_sandbox_call *c)
{
	char	*err = NULL;
	int	 rc;

	if (c->nfds != 1 || c->result_size != sizeof(struct vh_classify_result))
		return (VH_EINVAL);
	rc = vh_classify_fd(c->state, c->fds[0], c->result, &err);
	if (err != NULL)
		snprintf(c->err, sizeof(c->err), "%s", err);
	free(err);
	return (rc);
}

int
vh_classify_sandboxed(const char *path, const struct vh_sandbox_limits *sl,
    struct vh_classify_result *r, char **err)
{
	struct vh_sandbox_limits def;
	int			 fd, rc;

	*err = NULL;
	memset(r, 0, sizeof(*r));
	if (sl == NULL) {
		vh_sandbox_limits_default(&def);
		def.what = "classifier";
		def.timeout_ms = 60 * 1000;
		def.cpu_seconds = 30;
		def.max_memory = 512ULL * 1024 * 1024;
		def.max_file_size = 1;	/* it writes nothing */
		sl = &def;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*err = vh_xasprintf("%s: %s", path, strerror(errno));
		return (VH_EIO);
	}
	rc = vh_sandbox_run(sl, "classify", NULL, 0, &fd, 1, r, sizeof(*r),
	    err);
	close(fd);
	if (rc != 0)
		return (rc);
	/* The answer comes from a process that parsed hostile bytes: hold
	 * it to the same table, so that a subverted child cannot make an
	 * HTML page a PDF. */
	vh_classify_check(r);
	return (0);
}

void
vh_classify_check(struct vh_classify_result *r)
{
	r->mime[sizeof(r->mime) - 1] = '\0';
	r->reason[sizeof(r->reason) - 1] = '\0';
	if (r->family != VH_MEDIA_REJECTED && !consistent(r)) {
		snprintf(r->reason, sizeof(r->reason), "the classifier gave an "
		    "inconsistent answer");
		r->family = VH_MEDIA_REJECTED;
	}
}
