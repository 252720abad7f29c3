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
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "vh_error.h"
#include "vh_photo.h"
#include "vh_xmalloc.h"

static const char *loaders[] = { "jpegload", "pngload", "webpload",
	"heifload" };

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
render(const char *in, const char *out, int size, int quality, int *w,
    int *h, char **err)
{
	VipsImage	*t[4] = { NULL, NULL, NULL, NULL }, *im;
	double		 white[3] = { 255, 255, 255 };
	int		 ret = VH_EINVAL, rc;

	if (vips_thumbnail(in, &t[0], size, "height", size, "size",
	    VIPS_SIZE_DOWN, "import_profile", "srgb", "export_profile", "srgb",
	    "fail_on", VIPS_FAIL_ON_ERROR, NULL) != 0) {
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
	if (vips_jpegsave(im, out, "Q", quality, "strip", TRUE,
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
	return (ret);
}

int
vh_photo_process(const char *in, const char *out_display,
    const char *out_thumb, const struct vh_photo_limits *limits,
    struct vh_photo_result *res, char **err)
{
	struct vh_photo_limits	 def;
	const char		*type, *nick = NULL;
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

	if ((type = vips_foreign_find_load(in)) != NULL)
		nick = vips_nickname_find(g_type_from_name(type));
	vips_error_clear();
	for (size_t i = 0; nick != NULL &&
	    i < sizeof(loaders) / sizeof(loaders[0]); i++)
		if (strcmp(nick, loaders[i]) == 0)
			snprintf(res->loader, sizeof(res->loader), "%s", nick);
	if (res->loader[0] == '\0') {
		*err = vh_xasprintf("not a supported image (%s); JPEG, PNG, "
		    "WebP and HEIC are", nick != NULL ? nick : "unknown type");
		return (VH_ENOTSUP);
	}

	/* Header only: nothing is decoded until pixels are asked for. */
	if ((im = vips_image_new_from_file(in, "fail_on", VIPS_FAIL_ON_ERROR,
	    NULL)) == NULL) {
		*err = vips_reason("the image cannot be read");
		return (VH_EINVAL);
	}
	res->orig_width = vips_image_get_width(im);
	res->orig_height = vips_image_get_height(im);
	if ((int64_t)res->orig_width * res->orig_height > limits->max_pixels) {
		*err = vh_xasprintf("the image is too large: %d x %d pixels, "
		    "at most %lld million are accepted", res->orig_width,
		    res->orig_height, (long long)(limits->max_pixels / 1000000));
		g_object_unref(im);
		return (VH_ETOOBIG);
	}
	read_exif(im, res);
	g_object_unref(im);

	if (out_display != NULL && (ret = render(in, out_display,
	    limits->display_size, limits->quality, &res->width, &res->height,
	    err)) != 0)
		return (ret);
	if (out_thumb != NULL && (ret = render(in, out_thumb,
	    limits->thumb_size, limits->quality, &res->thumb_width,
	    &res->thumb_height, err)) != 0)
		return (ret);
	return (0);
}
