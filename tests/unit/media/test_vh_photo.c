/*
 * Photos: fixtures made by ffmpeg and exiftool at test time, the real
 * photos in ../shared/data/media/photos when present, and hostile files.
 * Outputs are checked for size, for being upright (pixel comparison with
 * the unrotated original), and with exiftool for any metadata left.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vips/vips.h>

#include "fixture.h"
#include "vh_error.h"
#include "vh_unused.h"
#include "vh_photo.h"

#define SHARED "../shared/data/media/photos"


/* Every metadata tag exiftool can find in the groups we must not ship. */
static void
assert_no_metadata(const char *path)
{
	char	 cmd[512], line[512];
	FILE	*f;
	int	 n = 0;

	snprintf(cmd, sizeof(cmd), "exiftool -q -s -G1 -EXIF:all -XMP:all "
	    "-IPTC:all -GPS:all -MakerNotes:all -ICC_Profile:all "
	    "-Photoshop:all -Comment '%s'", path);
	assert_non_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		printf("    left in %s: %s", path, line);
		n++;
	}
	pclose(f);
	assert_int_equal(n, 0);
}

/* Mean absolute pixel difference of two images of the same size. */
static double
difference(const char *a, const char *b)
{
	VipsImage	*x, *y, *d, *ab;
	double		 avg;

	assert_non_null(x = vips_image_new_from_file(a, NULL));
	assert_non_null(y = vips_image_new_from_file(b, NULL));
	assert_int_equal(vips_image_get_width(x), vips_image_get_width(y));
	assert_int_equal(vips_image_get_height(x), vips_image_get_height(y));
	assert_int_equal(vips_subtract(x, y, &d, NULL), 0);
	assert_int_equal(vips_abs(d, &ab, NULL), 0);
	assert_int_equal(vips_avg(ab, &avg, NULL), 0);
	g_object_unref(ab);
	g_object_unref(d);
	g_object_unref(y);
	g_object_unref(x);
	return (avg);
}

/* The same, with a turned upside down first. */
static double
flipped_difference(const char *a, const char *b)
{
	VipsImage	*x, *r;
	char		 tmp[300];
	static int	 n;

	assert_non_null(x = vips_image_new_from_file(a, NULL));
	assert_int_equal(vips_rot(x, &r, VIPS_ANGLE_D180, NULL), 0);
	snprintf(tmp, sizeof(tmp), "%s/flipped%d.png", fx_dir, n++);
	assert_int_equal(vips_image_write_to_file(r, tmp, NULL), 0);
	g_object_unref(r);
	g_object_unref(x);
	return (difference(tmp, b));
}

static int
setup(void **state VH_UNUSED)
{
	char	*err = NULL;

	if (fx_mkdir("vh_photo") != 0 || vh_photo_init(&err) != 0)
		return (-1);
	/* A 2000x1200 landscape picture, then the same pixels stored
	 * turned a quarter left and tagged Orientation 6, as phones do,
	 * with GPS, capture time, maker, XMP and IPTC on top. */
	fx_sh("cd %s && ffmpeg -v error -y -f lavfi -i testsrc=size=2000x1200 "
	    "-frames:v 1 -q:v 2 upright.jpg && ffmpeg -v error -y -i "
	    "upright.jpg -vf transpose=2 -q:v 2 stored.jpg", fx_dir);
	fx_sh("cd %s && exiftool -q -overwrite_original -n -Orientation=6 "
	    "-GPSLatitude=52.0907 -GPSLatitudeRef=N -GPSLongitude=5.1214 "
	    "-GPSLongitudeRef=E '-DateTimeOriginal=2024:05:01 10:11:12' "
	    "-OffsetTimeOriginal=+02:00 -Make=Apple '-Model=iPhone 12' "
	    "-XMP:Creator=Someone -IPTC:Keywords=buurt '-Comment=hello' "
	    "stored.jpg", fx_dir);
	/* West and south of Greenwich and the equator. */
	fx_sh("cd %s && cp upright.jpg west.jpg && exiftool -q "
	    "-overwrite_original -GPSLatitude=33.5 -GPSLatitudeRef=S "
	    "-GPSLongitude=70.25 -GPSLongitudeRef=W west.jpg", fx_dir);
	fx_sh("cd %s && ffmpeg -v error -y -f lavfi -i "
	    "color=c=red@0.5:size=300x200,format=rgba -frames:v 1 small.png && "
	    "ffmpeg -v error -y -i upright.jpg -c:v libwebp pic.webp", fx_dir);
	/* Hostile: a PNG whose header claims 100000x100000, a GIF claiming
	 * 65535x65535, a truncated JPEG, HTML named .jpg, an SVG. */
	fx_sh("cd %s && python3 -c \"import struct, zlib\n"
	    "def chunk(t, d): return struct.pack('>I', len(d)) + t + d + "
	    "struct.pack('>I', zlib.crc32(t + d))\n"
	    "ihdr = struct.pack('>IIBBBBB', 100000, 100000, 8, 2, 0, 0, 0)\n"
	    "idat = zlib.compress(bytes(1000))\n"
	    "open('bomb.png', 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + "
	    "chunk(b'IHDR', ihdr) + chunk(b'IDAT', idat) + chunk(b'IEND', b''))\n"
	    "open('bomb.gif', 'wb').write(b'GIF89a' + struct.pack('<HH', 65535, "
	    "65535) + b'\\x00\\x00\\x00' + b',' + struct.pack('<HHHH', 0, 0, "
	    "65535, 65535) + b'\\x00\\x02\\x02\\x44\\x01\\x00;')\n\"", fx_dir);
	fx_sh("cd %s && head -c 20000 upright.jpg > truncated.jpg && "
	    "printf '<html><body>hi</body></html>' > page.jpg && printf "
	    "'<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" "
	    "height=\"10\"/>' > pic.svg", fx_dir);
	return (0);
}

/* In this process and in the confined child (seccomp, no files): the
 * same answer and the same bytes. */
static void
process_ok(const char *name, struct vh_photo_result *r)
{
	struct vh_photo_result r2;
	char	*err = NULL, in[512];
	int	 rc;

	/* fx_at reuses its buffers */
	snprintf(in, sizeof(in), "%s", name);
	rc = vh_photo_process(in, fx_at("display.jpg"), fx_at("thumb.jpg"),
	    NULL, r, &err);
	if (rc != 0)
		fail_msg("%s: %s (%s)", in, vh_strerror(rc), err);
	rc = vh_photo_process_sandboxed(in, fx_at("sdisplay.jpg"),
	    fx_at("sthumb.jpg"), NULL, NULL, &r2, &err);
	if (rc != 0)
		fail_msg("%s, sandboxed: %s (%s)", in, vh_strerror(rc), err);
	assert_memory_equal(r, &r2, sizeof(r2));
	fx_sh("cmp -s %s %s && cmp -s %s %s", fx_at("display.jpg"),
	    fx_at("sdisplay.jpg"), fx_at("thumb.jpg"), fx_at("sthumb.jpg"));
}

static void
test_rotated_gps(void **state VH_UNUSED)
{
	struct vh_photo_result r;
	char	*err = NULL;

	process_ok(fx_at("stored.jpg"), &r);
	assert_string_equal(r.loader, "jpegload");
	assert_int_equal(r.orig_width, 1200);
	assert_int_equal(r.orig_height, 2000);
	/* Upright is landscape again: width and height swapped back. */
	assert_int_equal(r.width, 1600);
	assert_int_equal(r.height, 960);
	assert_int_equal(r.thumb_width, 320);
	assert_int_equal(r.thumb_height, 192);
	assert_true(r.has_gps);
	assert_true(fabs(r.lat - 52.0907) < 1e-6);
	assert_true(fabs(r.lon - 5.1214) < 1e-6);
	assert_string_equal(r.taken_at, "2024-05-01T10:11:12+02:00");
	assert_no_metadata(fx_at("display.jpg"));
	assert_no_metadata(fx_at("thumb.jpg"));

	/* The pixels, not only the box, are upright. */
	assert_int_equal(vh_photo_process(fx_at("upright.jpg"),
	    fx_at("ref.jpg"), NULL, NULL, &r, &err), 0);
	assert_false(r.has_gps);
	assert_string_equal(r.taken_at, "");
	assert_true(difference(fx_at("display.jpg"), fx_at("ref.jpg")) < 4.0);
}

static void
test_south_west(void **state VH_UNUSED)
{
	struct vh_photo_result r;

	process_ok(fx_at("west.jpg"), &r);
	assert_true(r.has_gps);
	assert_true(fabs(r.lat + 33.5) < 1e-6);
	assert_true(fabs(r.lon + 70.25) < 1e-6);
	assert_no_metadata(fx_at("display.jpg"));
}

static void
test_formats(void **state VH_UNUSED)
{
	struct vh_photo_result r;

	/* Never upscaled; alpha flattened onto white. */
	process_ok(fx_at("small.png"), &r);
	assert_string_equal(r.loader, "pngload");
	assert_int_equal(r.width, 300);
	assert_int_equal(r.height, 200);
	assert_int_equal(r.thumb_width, 300);
	fx_sh("vipsheader -f bands %s | grep -qx 3", fx_at("display.jpg"));
	process_ok(fx_at("pic.webp"), &r);
	assert_string_equal(r.loader, "webpload");
	assert_int_equal(r.width, 1600);
	assert_int_equal(r.height, 960);
}

static void
expect_reject(const char *name, int want, const char *reason)
{
	struct vh_photo_result r;
	char	*err = NULL;
	int	 rc;

	rc = vh_photo_process(fx_at(name), fx_at("bad.jpg"), fx_at("badt.jpg"),
	    NULL, &r, &err);
	printf("  %-13s -> %s: %s\n", name, vh_strerror(rc), err);
	assert_int_equal(rc, want);
	if (strstr(err, reason) == NULL)
		fail_msg("%s: '%s' lacks '%s'", name, err, reason);
	free(err);
	rc = vh_photo_process_sandboxed(fx_at(name), fx_at("bad.jpg"),
	    fx_at("badt.jpg"), NULL, NULL, &r, &err);
	assert_int_equal(rc, want);
	if (strstr(err, reason) == NULL)
		fail_msg("%s, sandboxed: '%s' lacks '%s'", name, err, reason);
	free(err);
}

static void
test_hostile(void **state VH_UNUSED)
{
	struct vh_photo_limits l;
	struct vh_photo_result r;
	char	*err = NULL;

	expect_reject("bomb.png", VH_ETOOBIG, "100000 x 100000");
	expect_reject("bomb.gif", VH_ENOTSUP, "not a supported image");
	expect_reject("truncated.jpg", VH_EINVAL, "cannot be decoded");
	expect_reject("page.jpg", VH_ENOTSUP, "not a supported image");
	expect_reject("pic.svg", VH_ENOTSUP, "not a supported image");
	expect_reject("absent.jpg", VH_ENOTSUP, "not a supported image");

	vh_photo_limits_default(&l);
	l.max_pixels = 2000 * 1200 - 1;
	assert_int_equal(vh_photo_process(fx_at("upright.jpg"), NULL, NULL, &l,
	    &r, &err), VH_ETOOBIG);
	free(err);
}

/* The real photos: JPEG and HEIC with GPS and orientation tags. */
static void
test_shared(void **state VH_UNUSED)
{
	struct vh_photo_result r;
	struct dirent	*de;
	char		 path[512], ref[512];
	DIR		*d;
	int		 n = 0;

	if ((d = opendir(SHARED)) == NULL) {
		printf("  skipped: %s is absent\n", SHARED);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", SHARED, de->d_name);
		process_ok(path, &r);
		printf("  %-28s %-9s %4dx%-4d -> %4dx%-4d %-20s %s\n",
		    de->d_name, r.loader, r.orig_width, r.orig_height,
		    r.width, r.height, r.taken_at[0] ? r.taken_at : "-",
		    r.has_gps ? "gps" : "");
		assert_no_metadata(fx_at("display.jpg"));
		assert_no_metadata(fx_at("thumb.jpg"));
		assert_true(r.width <= 1600 && r.height <= 1600);
		assert_true(r.thumb_width <= 320 && r.thumb_height <= 320);
		if (strncmp(de->d_name, "orientation_landscape_", 22) == 0) {
			/* Each looks like _1 once upright. */
			assert_int_equal(r.width, 600);
			assert_int_equal(r.height, 450);
			snprintf(ref, sizeof(ref), "%s/%s", fx_dir, "o.jpg");
			if (strcmp(de->d_name, "orientation_landscape_1.jpg")
			    != 0) {
				struct vh_photo_result r1;
				char	*err = NULL;

				snprintf(path, sizeof(path), "%s/"
				    "orientation_landscape_1.jpg", SHARED);
				assert_int_equal(vh_photo_process(path, ref,
				    NULL, NULL, &r1, &err), 0);
				/* The sample photos are separate shots of one
				 * scene, so compare with the wrong way up. */
				double up = difference(fx_at("display.jpg"),
				    ref);
				double down = flipped_difference(
				    fx_at("display.jpg"), ref);

				printf("    vs _1: %.3f, upside down %.3f\n", up,
				    down);
				assert_true(up < 0.6 * down);
			}
		}
		if (strcmp(de->d_name, "DSCN0010.jpg") == 0) {
			assert_true(r.has_gps);
			assert_true(fabs(r.lat - 43.4674) < 0.001);
			assert_true(fabs(r.lon - 11.8851) < 0.001);
			assert_string_equal(r.taken_at, "2008-10-22T16:28:39");
		}
		if (strcmp(de->d_name, "iphonex.heic") == 0) {
			/* Stored landscape, tagged Rotate 90 CW. */
			assert_string_equal(r.loader, "heifload");
			assert_true(r.height > r.width);
		}
		n++;
	}
	closedir(d);
	assert_true(n > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotated_gps),
		cmocka_unit_test(test_south_west),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_shared),
	};

	return (cmocka_run_group_tests(tests, setup, fx_teardown));
}
