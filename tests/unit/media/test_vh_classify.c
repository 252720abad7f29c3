/*
 * Classification by content: every accepted family, audio-only MP4, 3GP,
 * WebM and MOV that libmagic calls video, a real video without audio,
 * and the rejects (HTML, SVG, ELF, zip, GIF, empty) with their reasons.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "vh_classify.h"
#include "vh_unused.h"
#include "vh_error.h"

static magic_t	magic;

static int
setup(void **state VH_UNUSED)
{
	char	*err = NULL;

	if ((magic = vh_classify_magic_open(&err)) == NULL)
		return (-1);
	if (fx_mkdir("vh_classify") != 0)
		return (-1);
	fx_sh("cd %s && espeak-ng -v nl -w s.wav 'Dit is een verhaal.' && "
	    "ffmpeg -v error -i s.wav -c:a aac a.m4a && "
	    "ffmpeg -v error -i s.wav -c:a aac -f mp4 a.mp4 && "
	    "ffmpeg -v error -i s.wav -c:a aac -f mov a.mov && "
	    "ffmpeg -v error -i s.wav -c:a libopus a.webm && "
	    "ffmpeg -v error -i s.wav -c:a libopus a.ogg && "
	    "ffmpeg -v error -i s.wav a.mp3 && ffmpeg -v error -i s.wav a.flac",
	    fx_dir);
	fx_sh("cd %s && sox s.wav -r 8000 -t amr-nb a.amr && "
	    "ffmpeg -v error -i a.amr -c:a copy a.3gp", fx_dir);
	fx_sh("cd %s && ffmpeg -v error -f lavfi -i testsrc=size=64x64:rate=5 "
	    "-t 1 -c:v mpeg4 silent.mp4 && ffmpeg -v error -f lavfi -i "
	    "testsrc=size=64x64:rate=5 -i s.wav -shortest -c:v mpeg4 -c:a aac "
	    "both.mp4 && ffmpeg -v error -f lavfi -i testsrc=size=64x64 "
	    "-frames:v 1 p.jpg && ffmpeg -v error -i p.jpg p.png && "
	    "ffmpeg -v error -i p.jpg -c:v libwebp p.webp && "
	    "ffmpeg -v error -i p.jpg p.gif", fx_dir);
	fx_sh("cd %s && printf 'Hallo buurt,\\r\\nDit is een notitie.\\r\\n' > "
	    "n.txt && printf '# Kop\\n\\nTekst met *nadruk*.\\n' > n.md && "
	    "printf '<!DOCTYPE html><html><body>hi</body></html>\\n' > "
	    "page.jpg && printf '<svg xmlns=\"http://www.w3.org/2000/svg\">"
	    "</svg>\\n' > d.svg && cp /bin/true elf.wav && "
	    "zip -q z.m4a n.txt && : > empty.wav && "
	    "printf 'not really a wav\\n' > text.wav", fx_dir);
	fx_sh("cd %s && printf '%%%%PDF-1.4\\n1 0 obj<<>>endobj\\n"
	    "trailer<<>>\\n%%%%%%%%EOF\\n' > d.pdf", fx_dir);
	return (0);
}

static int
teardown(void **state VH_UNUSED)
{
	magic_close(magic);
	return (fx_teardown(state));
}

static void
expect(const char *name, enum vh_media_family want, const char *reason)
{
	struct vh_classify_result r, r2;
	char	 path[256], *err = NULL;

	snprintf(path, sizeof(path), "%s/%s", fx_dir, name);
	assert_int_equal(vh_classify_file(magic, path, &r, &err), 0);
	printf("  %-10s %-22s %-8s %s\n", name, r.mime,
	    vh_media_family_name(r.family), r.reason);
	if (r.family != want)
		fail_msg("%s (%s): %s, want %s", name, r.mime,
		    vh_media_family_name(r.family), vh_media_family_name(want));
	if (want == VH_MEDIA_REJECTED) {
		if (strstr(r.reason, reason) == NULL)
			fail_msg("%s: '%s' lacks '%s'", name, r.reason, reason);
	} else
		assert_string_equal(r.reason, "");
	/* The confined child (seccomp, no files) says the same. */
	memset(&r2, 0xff, sizeof(r2));
	assert_int_equal(vh_classify_sandboxed(path, NULL, &r2, &err), 0);
	assert_memory_equal(&r, &r2, sizeof(r2));
}

static void
test_audio(void **state VH_UNUSED)
{
	const char *names[] = { "s.wav", "a.m4a", "a.mp3", "a.flac", "a.ogg",
	    "a.amr" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		expect(names[i], VH_MEDIA_AUDIO, NULL);
}

/* libmagic says video; the header has an audio stream. */
static void
test_video_labelled_audio(void **state VH_UNUSED)
{
	const char *names[] = { "a.mp4", "a.mov", "a.webm", "a.3gp",
	    "both.mp4" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		expect(names[i], VH_MEDIA_AUDIO, NULL);
	expect("silent.mp4", VH_MEDIA_REJECTED, "has no audio");
}

static void
test_other_families(void **state VH_UNUSED)
{
	expect("p.jpg", VH_MEDIA_IMAGE, NULL);
	expect("p.png", VH_MEDIA_IMAGE, NULL);
	expect("p.webp", VH_MEDIA_IMAGE, NULL);
	expect("n.txt", VH_MEDIA_TEXT, NULL);
	expect("n.md", VH_MEDIA_TEXT, NULL);
	expect("d.pdf", VH_MEDIA_PDF, NULL);
	if (system("test -f ../shared/data/media/photos/iphonex.heic") == 0) {
		struct vh_classify_result r;
		char	*err = NULL;

		assert_int_equal(vh_classify_file(magic,
		    "../shared/data/media/photos/iphonex.heic", &r, &err), 0);
		assert_int_equal(r.family, VH_MEDIA_IMAGE);
	} else
		printf("  skipped HEIC: ../shared/data is absent\n");
}

static void
test_rejects(void **state VH_UNUSED)
{
	struct vh_classify_result r;
	char	*err = NULL;

	expect("page.jpg", VH_MEDIA_REJECTED, "a web page (HTML)");
	expect("d.svg", VH_MEDIA_REJECTED, "an SVG drawing");
	expect("elf.wav", VH_MEDIA_REJECTED, "a program");
	expect("z.m4a", VH_MEDIA_REJECTED, "a zip archive");
	expect("p.gif", VH_MEDIA_REJECTED, "a GIF image");
	expect("empty.wav", VH_MEDIA_REJECTED, "empty");
	/* Declared .wav, really text: accepted as what it is, a note. */
	expect("text.wav", VH_MEDIA_TEXT, NULL);
	assert_int_equal(vh_classify_file(magic, "/nonexistent/x", &r, &err),
	    VH_EIO);
	assert_non_null(err);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audio),
		cmocka_unit_test(test_video_labelled_audio),
		cmocka_unit_test(test_other_families),
		cmocka_unit_test(test_rejects),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
