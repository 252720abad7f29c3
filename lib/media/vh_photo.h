#ifndef VH_PHOTO_H
#define VH_PHOTO_H
/*
 * Photos: from an uploaded JPEG, PNG, WebP or HEIC/HEIF to an upright
 * sRGB display JPEG and thumbnail with no metadata at all, keeping only
 * the capture time and (for the caller to map to an area) the position.
 */
#include <stdbool.h>
#include <stdint.h>

#include "vh_sandbox.h"

struct vh_photo_limits {
	int64_t	max_pixels;	/* width * height; default 50 000 000 */
	int	display_size;	/* long side; default 1600, never upscaled */
	int	thumb_size;	/* long side; default 320, never upscaled */
	int	quality;	/* JPEG quality; default 82 */
};

struct vh_photo_result {
	int	width, height;		/* of the display JPEG */
	int	thumb_width, thumb_height;
	int	orig_width, orig_height; /* as stored, before rotation */
	char	loader[16];		/* "jpegload", "heifload", ... */
	char	taken_at[32];		/* "2008-10-22T16:28:39", with the
					 * offset when EXIF has one; "" */
	bool	has_gps;
	double	lat, lon;		/* decimal degrees, north/east > 0 */
};

void	vh_photo_limits_default(struct vh_photo_limits *);

/*
 * Starts libvips once per process (later calls do nothing). Returns 0 or
 * VH_EIO with *err set (caller frees). vh_photo_process calls it too.
 */
int	vh_photo_init(char **err) __attribute__((warn_unused_result));

/*
 * Reads in (borrowed) and writes out_display and out_thumb (created or
 * truncated; either may be NULL). The loader must be jpegload, pngload,
 * webpload or heifload; the header's width * height must be within
 * limits->max_pixels, checked before any pixel is decoded; a damaged or
 * truncated image is an error. limits NULL: the defaults. Returns 0 and
 * fills *res; or VH_ENOTSUP (not an allowed image type), VH_ETOOBIG
 * (pixel bomb), VH_EINVAL (damaged) or VH_EIO (writing), with *err a
 * reason for the uploader (caller frees). Safe from several threads.
 * The coordinates in *res are the only copy: the outputs carry no EXIF,
 * XMP, IPTC, ICC or GPS data, and the caller is to discard them once
 * mapped to an area.
 */
int	vh_photo_process(const char *in, const char *out_display,
	    const char *out_thumb, const struct vh_photo_limits *,
	    struct vh_photo_result *res, char **err)
	    __attribute__((warn_unused_result));

/* The same on descriptors (borrowed; in is read from its start, -1
 * skips an output). This is what the confined child runs. */
int	vh_photo_process_fd(int in, int out_display, int out_thumb,
	    const struct vh_photo_limits *, struct vh_photo_result *res,
	    char **err) __attribute__((warn_unused_result));

/*
 * vh_photo_process in a confined child (lib/event/vh_sandbox.c) under sl
 * (NULL: "photo decoder", 1 GiB, 120 s): libvips, libjpeg, libheif,
 * libpng, libwebp and libexif never parse the upload in this process. A
 * crash, forbidden system call or timeout returns VH_EIO with *err the
 * reason (caller frees).
 */
int	vh_photo_process_sandboxed(const char *in, const char *out_display,
	    const char *out_thumb, const struct vh_photo_limits *,
	    const struct vh_sandbox_limits *, struct vh_photo_result *res,
	    char **err) __attribute__((warn_unused_result));

/* The "photo" operation in the helper (after vh_photo_init). */
int	vh_photo_child(struct vh_sandbox_call *);

#endif
