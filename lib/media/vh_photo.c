/*
 * Photos through libvips. The loader is looked up from the file's bytes
 * and must be one of four; the image is then opened lazily, which reads
 * only the header, so a file declaring 100000x100000 is refused before a
 * pixel is decoded. The capture time and GPS position are read from the
 * parsed EXIF at that point. Each rendition is made by vips_thumbnail,
 * which shrinks on load, turns the pixels upright from the EXIF
 * orientation (vips_autorot) and converts to sRGB through the embedded
 * ICC profile when there is one; the JPEG is saved with strip, which
 * drops EXIF, XMP, IPTC and ICC (keep=none only arrives in 8.15).
 *
 * Everything reads and writes through descriptors (VipsSource and
 * VipsTarget), so that the daemon can run it in a confined child that
 * opens nothing: vh_photo_process_sandboxed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vips/vips.h>

#include "vh_error.h"
#include "vh_photo.h"
#include "vh_xmalloc.h"

static const char *loaders[] = { "jpegload_source", "pngload_source",
	"webpload_source", "heifload_source" };

static pthread_once_t	 once = PTHREAD_ONCE_INIT;
static int		 init_failed;

void
vh_photo_limits_default(struct vh_photo_limits *l)
{
	l->max_pixels = 50000000;
	l->display_size = 1600;
	l->thumb_size = 320;
	l->quality = 82;
}

static void
init_once(void)
{
	if (VIPS_INIT("verhaal") != 0) {
		init_failed = 1;
		return;
	}
	/* The operation cache is keyed by file name: a job reusing a
	 * temporary name would get the previous photo back. */
	vips_cache_set_max(0);
}

int
vh_photo_init(char **err)
{
	pthread_once(&once, init_once);
	if (init_failed) {
		*err = vh_xasprintf("libvips: %s", vips_error_buffer());
		return (VH_EIO);
	}
	return (0);
}

/* The error libvips collected, on one line, and clears it. */
static char *
vips_reason(const char *what)
{
	char	*s, *nl;

	s = vh_xasprintf("%s: %s", what, vips_error_buffer());
	vips_error_clear();
	while ((nl = strchr(s, '\n')) != NULL) {
		if (nl[1] == '\0')
			*nl = '\0';
		else
			*nl = ' ';
	}
	return (s);
}

/* "43/1 28/1 281400000/100000000 (43, 28, ...)" to 43.4674... */
static bool
parse_dms(const char *s, double *deg)
{
	double	v[3];
	long	n, d;
	int	used;

	for (int i = 0; i < 3; i++) {
		if (sscanf(s, " %ld/%ld%n", &n, &d, &used) != 2 || d == 0)
			return (false);
		v[i] = (double)n / (double)d;
		s += used;
	}
	*deg = v[0] + v[1] / 60.0 + v[2] / 3600.0;
	return (true);
}

static bool
get_exif(VipsImage *im, const char *name, const char **out)
{
	return (vips_image_get_typeof(im, name) != 0 &&
	    vips_image_get_string(im, name, out) == 0);
}

static void
read_exif(VipsImage *im, struct vh_photo_result *res)
{
	const char	*s, *ref;
	double		 lat, lon;

	/* "2008:10:22 16:28:39 (2008:10:22 ..., ASCII, ...)" */
	if (get_exif(im, "exif-ifd2-DateTimeOriginal", &s) ||
	    get_exif(im, "exif-ifd0-DateTime", &s)) {
		unsigned Y, M, D, h, m, sec;

		if (sscanf(s, "%4u:%2u:%2u %2u:%2u:%2u", &Y, &M, &D, &h, &m,
		    &sec) == 6 && Y > 1800 && Y <= 9999 && M >= 1 && M <= 12 &&
		    D >= 1 && D <= 31 && h < 24 && m < 60 && sec < 61)
			snprintf(res->taken_at, sizeof(res->taken_at),
			    "%04u-%02u-%02uT%02u:%02u:%02u", Y, M, D, h, m, sec);
	}
	if (res->taken_at[0] != '\0' &&
	    get_exif(im, "exif-ifd2-OffsetTimeOriginal", &s) &&
	    (s[0] == '+' || s[0] == '-') && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]) && s[3] == ':' &&
	    isdigit((unsigned char)s[4]) && isdigit((unsigned char)s[5]))
		strncat(res->taken_at, s, 6);

	if (!get_exif(im, "exif-ifd3-GPSLatitude", &s) || !parse_dms(s, &lat) ||
	    !get_exif(im, "exif-ifd3-GPSLongitude", &s) || !parse_dms(s, &lon))
		return;
	if (get_exif(im, "exif-ifd3-GPSLatitudeRef", &ref) && ref[0] == 'S')
		lat = -lat;
	if (get_exif(im, "exif-ifd3-GPSLongitudeRef", &ref) && ref[0] == 'W')
		lon = -lon;
	if (lat < -90 || lat > 90 || lon < -180 || lon > 180)
		return;
	res->has_gps = true;
	res->lat = lat;
	res->lon = lon;
}

/* One rendition: upright, sRGB, 8-bit, no alpha, no metadata. */
static int
render(int in, int out, int size, int quality, int *w, int *h, char **err)
{
	VipsImage	*t[4] = { NULL, NULL, NULL, NULL }, *im;
	VipsSource	*src = NULL;
	VipsTarget	*dst = NULL;
	double		 white[3] = { 255, 255, 255 };
	int		 ret = VH_EINVAL, rc;

	/* A source per pass: it reads from its own offset. */
	if (lseek(in, 0, SEEK_SET) == -1 ||
	    (src = vips_source_new_from_descriptor(in)) == NULL) {
		*err = vips_reason("the image cannot be read");
		ret = VH_EIO;
		goto out;
	}
	/* 8.14's thumbnail_source does not pass fail_on to the loader; the
	 * option string does, so that a truncated file is an error. */
	if (vips_thumbnail_source(src, &t[0], size, "height", size, "size",
	    VIPS_SIZE_DOWN, "import_profile", "srgb", "export_profile", "srgb",
	    "fail_on", VIPS_FAIL_ON_ERROR, "option_string", "fail_on=error",
	    NULL) != 0) {
		*err = vips_reason("the image cannot be decoded");
		goto out;
	}
	im = t[0];
	if (vips_image_hasalpha(im)) {
		VipsArrayDouble *bg = vips_array_double_new(white, 3);

		rc = vips_flatten(im, &t[1], "background", bg, NULL);
		vips_area_unref(VIPS_AREA(bg));
		if (rc != 0) {
			*err = vips_reason("flatten");
			goto out;
		}
		im = t[1];
	}
	if (vips_colourspace(im, &t[2], VIPS_INTERPRETATION_sRGB, NULL) != 0 ||
	    vips_cast_uchar(t[2], &t[3], NULL) != 0) {
		*err = vips_reason("conversion to sRGB");
		goto out;
	}
	/* Decode now, so that a damaged file is told from a full disk. */
	if ((im = vips_image_copy_memory(t[3])) == NULL) {
		*err = vips_reason("the image cannot be decoded");
		goto out;
	}
	g_object_unref(t[3]);
	t[3] = im;
	if ((dst = vips_target_new_to_descriptor(out)) == NULL ||
	    vips_jpegsave_target(im, dst, "Q", quality, "strip", TRUE,
	    "optimize_coding", TRUE, NULL) != 0) {
		*err = vips_reason("cannot write the JPEG");
		ret = VH_EIO;
		goto out;
	}
	*w = vips_image_get_width(im);
	*h = vips_image_get_height(im);
	ret = 0;
out:
	for (int i = 0; i < 4; i++)
		if (t[i] != NULL)
			g_object_unref(t[i]);
	if (src != NULL)
		g_object_unref(src);
	if (dst != NULL)
		g_object_unref(dst);
	return (ret);
}

int
vh_photo_process_fd(int in, int out_display, int out_thumb,
    const struct vh_photo_limits *limits, struct vh_photo_result *res,
    char **err)
{
	struct vh_photo_limits	 def;
	const char		*type, *nick = NULL;
	char			 name[64], *suffix;
	VipsSource		*src = NULL;
	VipsImage		*im = NULL;
	int			 ret;

	*err = NULL;
	memset(res, 0, sizeof(*res));
	if (limits == NULL) {
		vh_photo_limits_default(&def);
		limits = &def;
	}
	if ((ret = vh_photo_init(err)) != 0)
		return (ret);
	if (lseek(in, 0, SEEK_SET) == -1 ||
	    (src = vips_source_new_from_descriptor(in)) == NULL) {
		*err = vips_reason("the image cannot be read");
		return (VH_EIO);
	}

	if ((type = vips_foreign_find_load_source(src)) != NULL)
		nick = vips_nickname_find(g_type_from_name(type));
	vips_error_clear();
	/* "jpegload_source" is named "jpegload", as its file loader. */
	snprintf(name, sizeof(name), "%s", nick != NULL ? nick : "unknown type");
	if ((suffix = strstr(name, "_source")) != NULL)
		*suffix = '\0';
	for (size_t i = 0; nick != NULL &&
	    i < sizeof(loaders) / sizeof(loaders[0]); i++)
		if (strcmp(nick, loaders[i]) == 0)
			snprintf(res->loader, sizeof(res->loader), "%.15s",
			    name);
	if (res->loader[0] == '\0') {
		*err = vh_xasprintf("not a supported image (%s); JPEG, PNG, "
		    "WebP and HEIC are", name);
		ret = VH_ENOTSUP;
		goto out;
	}

	/* Header only: nothing is decoded until pixels are asked for. */
	if ((im = vips_image_new_from_source(src, "", "fail_on",
	    VIPS_FAIL_ON_ERROR, NULL)) == NULL) {
		*err = vips_reason("the image cannot be read");
		ret = VH_EINVAL;
		goto out;
	}
	res->orig_width = vips_image_get_width(im);
	res->orig_height = vips_image_get_height(im);
	if ((int64_t)res->orig_width * res->orig_height > limits->max_pixels) {
		*err = vh_xasprintf("the image is too large: %d x %d pixels, "
		    "at most %lld million are accepted", res->orig_width,
		    res->orig_height, (long long)(limits->max_pixels / 1000000));
		ret = VH_ETOOBIG;
		goto out;
	}
	read_exif(im, res);
	g_object_unref(im);
	im = NULL;
	g_object_unref(src);
	src = NULL;

	if (out_display != -1 && (ret = render(in, out_display,
	    limits->display_size, limits->quality, &res->width, &res->height,
	    err)) != 0)
		goto out;
	if (out_thumb != -1 && (ret = render(in, out_thumb,
	    limits->thumb_size, limits->quality, &res->thumb_width,
	    &res->thumb_height, err)) != 0)
		goto out;
	ret = 0;
out:
	if (im != NULL)
		g_object_unref(im);
	if (src != NULL)
		g_object_unref(src);
	return (ret);
}

/* Opens in and the outputs named (created or truncated); -1 for NULL. */
static int
open_files(const char *in, const char *out_display, const char *out_thumb,
    int fds[3], char **err)
{
	const char	*out[2] = { out_display, out_thumb };

	fds[0] = fds[1] = fds[2] = -1;
	if ((fds[0] = open(in, O_RDONLY | O_CLOEXEC)) == -1) {
		/* As before descriptors: what cannot be read is no image. */
		*err = vh_xasprintf("not a supported image (cannot be opened: "
		    "%s); JPEG, PNG, WebP and HEIC are", strerror(errno));
		return (VH_ENOTSUP);
	}
	for (int i = 0; i < 2; i++)
		if (out[i] != NULL && (fds[i + 1] = open(out[i], O_WRONLY |
		    O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1) {
			*err = vh_xasprintf("cannot create %s: %s", out[i],
			    strerror(errno));
			return (VH_EIO);
		}
	return (0);
}

static void
close_files(int fds[3])
{
	for (int i = 0; i < 3; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

int
vh_photo_process(const char *in, const char *out_display,
    const char *out_thumb, const struct vh_photo_limits *limits,
    struct vh_photo_result *res, char **err)
{
	int	fds[3], rc;

	*err = NULL;
	memset(res, 0, sizeof(*res));
	if ((rc = open_files(in, out_display, out_thumb, fds, err)) == 0)
		rc = vh_photo_process_fd(fds[0], fds[1], fds[2], limits, res,
		    err);
	close_files(fds);
	return (rc);
}

/* What crosses to the child. */
struct photo_req {
	struct vh_photo_limits	limits;
	int			display, thumb;	/* present */
};

int
vh_photo_child(struct vh_sandbox_call *c)
{
	const struct photo_req	*rq = c->req;
	int			 fd[2] = { -1, -1 };
	size_t			 next = 1;
	char			*err = NULL;
	int			 rc;

	if (c->req_size != sizeof(*rq) || c->nfds < 1 ||
	    c->result_size != sizeof(struct vh_photo_result))
		return (VH_EINVAL);
	if (rq->display && next < c->nfds)
		fd[0] = c->fds[next++];
	if (rq->thumb && next < c->nfds)
		fd[1] = c->fds[next++];
	rc = vh_photo_process_fd(c->fds[0], fd[0], fd[1], &rq->limits,
	    c->result, &err);
	if (err != NULL)
		snprintf(c->err, sizeof(c->err), "%s", err);
	free(err);
	return (rc);
}

int
vh_photo_process_sandboxed(const char *in, const char *out_display,
    const char *out_thumb, const struct vh_photo_limits *limits,
    const struct vh_sandbox_limits *sl, struct vh_photo_result *res,
    char **err)
{
	struct vh_sandbox_limits def;
	struct photo_req	 rq;
	int			 fds[3], pass[3], rc;
	size_t			 nfds = 1;

	*err = NULL;
	memset(res, 0, sizeof(*res));
	memset(&rq, 0, sizeof(rq));
	if (limits != NULL)
		rq.limits = *limits;
	else
		vh_photo_limits_default(&rq.limits);
	if (sl == NULL) {
		vh_sandbox_limits_default(&def);
		def.what = "photo decoder";
		def.timeout_ms = 120 * 1000;
		def.cpu_seconds = 120;
		def.max_file_size = 256ULL * 1024 * 1024;
		sl = &def;
	}
	if ((rc = open_files(in, out_display, out_thumb, fds, err)) != 0)
		goto out;
	pass[0] = fds[0];
	if ((rq.display = fds[1] != -1))
		pass[nfds++] = fds[1];
	if ((rq.thumb = fds[2] != -1))
		pass[nfds++] = fds[2];
	rc = vh_sandbox_run(sl, "photo", &rq, sizeof(rq), pass, nfds, res,
	    sizeof(*res), err);
	/* Strings from the child are terminated here, not trusted to be. */
	res->loader[sizeof(res->loader) - 1] = '\0';
	res->taken_at[sizeof(res->taken_at) - 1] = '\0';
out:
	close_files(fds);
	return (rc);
}
