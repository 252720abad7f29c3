/*
 * The audio pipeline on recordings made at test time by espeak-ng, sox
 * and ffmpeg in every form phones and browsers send, on the real
 * recordings in ../shared/data/media/audio when present, and on hostile
 * files. Outputs are checked with ffprobe, ffmpeg and libebur128.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <ebur128.h>
#include <jansson.h>
#include <libavutil/log.h>

#include "fixture.h"
#include "vh_audio.h"
#include "vh_unused.h"
#include "vh_error.h"

#define SHARED "../shared/data/media/audio"


/* Seconds, as ffprobe reads the container. */
static double
probe_duration(const char *path)
{
	char	 cmd[512], line[64] = "";
	FILE	*f;

	snprintf(cmd, sizeof(cmd), "ffprobe -v error -show_entries "
	    "format=duration -of csv=p=0 '%s'", path);
	assert_non_null(f = popen(cmd, "r"));
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	pclose(f);
	return (atof(line));
}

static off_t
file_size(const char *path)
{
	struct stat	sb;

	assert_int_equal(stat(path, &sb), 0);
	return (sb.st_size);
}

/* Integrated loudness and true peak of a file as ffmpeg decodes it. */
static void
loudness_of(const char *path, double *lufs, double *tp_db)
{
	char		 cmd[512];
	float		 buf[4800];
	size_t		 n;
	double		 tp;
	ebur128_state	*st;
	FILE		*f;

	snprintf(cmd, sizeof(cmd), "ffmpeg -v error -i '%s' -f f32le -ac 1 "
	    "-ar 48000 -", path);
	assert_non_null(f = popen(cmd, "r"));
	st = ebur128_init(1, 48000, EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
	while ((n = fread(buf, sizeof(float), 4800, f)) > 0)
		ebur128_add_frames_float(st, buf, n);
	assert_int_equal(pclose(f), 0);
	ebur128_loudness_global(st, lufs);
	ebur128_true_peak(st, 0, &tp);
	*tp_db = 20 * log10(tp);
	ebur128_destroy(&st);
}

static int
setup(void **state VH_UNUSED)
{
	if (fx_mkdir("vh_audio") != 0)
		return (-1);
	/* About 20 s of Dutch speech, then every form phones send. */
	fx_sh("espeak-ng -v nl -s 150 -w %s 'Wij wonen al dertig jaar in deze "
	    "buurt. Vroeger was hier een bakker op de hoek en iedereen kende "
	    "elkaar. Nu zijn er veel nieuwe mensen gekomen, en dat is goed, "
	    "maar de speeltuin is weg en de kinderen spelen op straat. Ik "
	    "hoop dat de gemeente luistert naar wat wij te vertellen hebben, "
	    "want wij weten hoe het hier echt is.'", fx_at("raw.wav"));
	/* espeak's peaks stand 18.5 dB over its loudness; a phone's voice
	 * recorder compresses, leaving room to reach -18 LUFS under a
	 * -1 dBTP ceiling with one gain. */
	fx_sh("cd %s && ffmpeg -v error -y -i raw.wav -af "
	    "acompressor=threshold=0.05:ratio=4:attack=5:release=100:makeup=4 "
	    "speech.wav", fx_dir);
	fx_sh("cd %s && ffmpeg -v error -y -i speech.wav -ar 44100 -ac 2 "
	    "-c:a pcm_f32le stereo_f32.wav", fx_dir);
	fx_sh("cd %s && ffmpeg -v error -y -i speech.wav -c:a aac -b:a 64k "
	    "mono.m4a && ffmpeg -v error -y -i stereo_f32.wav -c:a aac "
	    "stereo.m4a", fx_dir);
	fx_sh("cd %s && ffmpeg -v error -y -i speech.wav -c:a aac -brand mp42 "
	    "mp42.mp4 && ffmpeg -v error -y -i speech.wav -c:a aac -movflags "
	    "+frag_keyframe+empty_moov frag.mp4", fx_dir);
	fx_sh("cd %s && ffmpeg -v error -y -i speech.wav -c:a libopus "
	    "opus.webm && ffmpeg -v error -y -i speech.wav -c:a libopus "
	    "opus.ogg && ffmpeg -v error -y -i speech.wav -c:a libvorbis "
	    "vorbis.ogg", fx_dir);
	fx_sh("cd %s && ffmpeg -v error -y -i speech.wav speech.flac && "
	    "ffmpeg -v error -y -i speech.wav speech.mp3", fx_dir);
	fx_sh("cd %s && sox speech.wav -r 8000 -c 1 -t amr-nb speech.amr && "
	    "ffmpeg -v error -y -i speech.amr -c:a copy speech.3gp", fx_dir);
	fx_sh("cd %s && ffmpeg -v error -y -f lavfi -i "
	    "testsrc=size=64x64:rate=10 -i speech.wav -shortest -c:v mpeg4 "
	    "-c:a aac video.mp4", fx_dir);
	fx_sh("cd %s && ffmpeg -v error -y -i speech.wav -af volume=-32dB "
	    "quiet.wav && ffmpeg -v error -y -i speech.wav -af "
	    "volume=12dB,alimiter=limit=0.99 -c:a pcm_f32le loud.wav", fx_dir);
	/* Identical full-scale sines on both channels. */
	fx_sh("cd %s && ffmpeg -v error -y -f lavfi -i "
	    "\"aevalsrc=sin(2*PI*1000*t)|sin(2*PI*1000*t):s=48000:d=5\" "
	    "-c:a pcm_f32le sines.wav", fx_dir);
	/* Hostile files. */
	fx_sh("cd %s && printf 'this is not audio at all\\n' > text.wav && "
	    "head -c 100000 speech.wav > truncated.wav && "
	    "cp mono.m4a nomoov.mp4 && zip -q z.zip text.wav && "
	    "cp z.zip zip.m4a", fx_dir);
	fx_sh("cd %s && python3 -c \"import sys; "
	    "d=open('mono.m4a','rb').read(); i=d.find(b'moov'); "
	    "open('nomoov.mp4','wb').write(d[:i-4])\"", fx_dir);
	return (0);
}

static void
transcode_ok(const char *in, struct vh_audio_result *r)
{
	char	*err = NULL;
	int	 rc;

	rc = vh_audio_transcode(in, fx_at("out.opus"), fx_at("out.m4a"),
	    fx_at("out.json"), NULL, r, &err);
	if (rc != 0)
		fail_msg("%s: %s (%s)", in, vh_strerror(rc), err);
}

/* Every form: outputs exist, play, and last as long as the input. */
static void
test_formats(void **state VH_UNUSED)
{
	const char *names[] = {
		"speech.wav", "stereo_f32.wav", "mono.m4a", "stereo.m4a",
		"mp42.mp4", "frag.mp4", "opus.webm", "opus.ogg", "vorbis.ogg",
		"speech.flac", "speech.mp3", "speech.amr", "speech.3gp",
		"video.mp4",
	};
	struct vh_audio_result r;
	double	 want, got;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* All were made from speech.wav: that is the right length
		 * (ffprobe only estimates raw AMR's, from its bitrate). */
		want = probe_duration(fx_at("speech.wav"));
		transcode_ok(fx_at(names[i]), &r);
		if (fabs(r.duration_ms / 1000.0 - want) > want * 0.01)
			fail_msg("%s: %lld ms, want %.3f s", names[i],
			    (long long)r.duration_ms, want);
		got = probe_duration(fx_at("out.opus"));
		if (fabs(got - want) > want * 0.01)
			fail_msg("%s: opus %.3f s, want %.3f", names[i], got,
			    want);
		got = probe_duration(fx_at("out.m4a"));
		if (fabs(got - want) > want * 0.01)
			fail_msg("%s: m4a %.3f s, want %.3f", names[i], got,
			    want);
		printf("  %-15s %-24s %-8s %6lld ms  in %6.1f LUFS "
		    "gain %+5.1f dB\n", names[i], r.in_format, r.in_codec,
		    (long long)r.duration_ms, r.loudness_in_lufs, r.gain_db);
		/* About -18 LUFS, unless the true-peak ceiling (-1 dBTP)
		 * bounded the gain: then quieter is right. */
		if (fabs(r.loudness_out_lufs + 18) >= 1.0 &&
		    !(r.loudness_out_lufs < -18 && r.true_peak_out_dbtp > -1.6))
			fail_msg("%s: out %.2f LUFS, peak %.2f dBTP, want -18 +- 1",
			    names[i], r.loudness_out_lufs, r.true_peak_out_dbtp);
		if (r.true_peak_out_dbtp > -0.5)
			fail_msg("%s: true peak %.2f dBTP, want at most -1",
			    names[i], r.true_peak_out_dbtp);
	}
}

/* The renditions are what they claim: Opus in Ogg, AAC-LC mono in MP4
 * with the moov before the mdat, and about 24 kbps for speech. */
static void
test_renditions(void **state VH_UNUSED)
{
	struct vh_audio_result r;
	char	 line[256] = "";
	FILE	*f;
	double	 kbps;
	long	 moov, mdat;

	transcode_ok(fx_at("speech.wav"), &r);
	fx_sh("ffprobe -v error -show_entries stream=codec_name,channels,"
	    "sample_rate -of csv=p=0 %s | grep -qx 'opus,48000,1'",
	    fx_at("out.opus"));
	fx_sh("ffprobe -v error -show_entries "
	    "stream=codec_name,profile,channels -of csv=p=0 %s | "
	    "grep -qx 'aac,LC,1'", fx_at("out.m4a"));
	kbps = file_size(fx_at("out.opus")) * 8.0 / r.duration_ms;
	printf("  opus: %.1f kbit/s over %.1f s\n", kbps,
	    r.duration_ms / 1000.0);
	assert_true(kbps > 16.0 && kbps < 30.0);
	kbps = file_size(fx_at("out.m4a")) * 8.0 / r.duration_ms;
	/* FFmpeg 5.1's aac encoder overshoots 64k on mono speech by about
	 * a quarter, with or without us (ffmpeg -b:a 64k does the same). */
	printf("  m4a: %.1f kbit/s\n", kbps);
	assert_true(kbps > 40.0 && kbps < 96.0);

	snprintf(line, sizeof(line), "python3 -c \"d=open('%s','rb').read(); "
	    "print(d.find(b'moov'), d.find(b'mdat'))\"", fx_at("out.m4a"));
	assert_non_null(f = popen(line, "r"));
	assert_int_equal(fscanf(f, "%ld %ld", &moov, &mdat), 2);
	pclose(f);
	assert_true(moov > 0 && moov < mdat);
}

/* A whisper and a shout both come out at -18 LUFS, peaks under -1 dBTP. */
/* RMS (dBFS) of [from_ms, to_ms) of path as ffmpeg decodes it. */
static double
rms_db(const char *path, int from_ms, int to_ms)
{
	char	 cmd[512];
	float	 buf[4800];
	double	 sum = 0;
	size_t	 n, count = 0;
	FILE	*f;

	snprintf(cmd, sizeof(cmd), "ffmpeg -v error -i '%s' -ss %.3f -t %.3f "
	    "-f f32le -ac 1 -ar 48000 -", path, from_ms / 1000.0,
	    (to_ms - from_ms) / 1000.0);
	assert_non_null(f = popen(cmd, "r"));
	while ((n = fread(buf, sizeof(float), 4800, f)) > 0)
		for (size_t i = 0; i < n; i++, count++)
			sum += (double)buf[i] * buf[i];
	assert_int_equal(pclose(f), 0);
	assert_true(count > 0);
	return (sum > 0 ? 10 * log10(sum / count) : -200.0);
}

/* Redaction: muted ranges are silent in both renditions, the rest is not. */
static void
test_mute(void **state)
{
	struct vh_audio_limits	 l;
	struct vh_audio_result	 res;
	struct vh_audio_range	 r[2] = { { 2000, 3500 }, { 5000, 5400 } };
	char			 outs[2][256], tone[256];
	char			*err = NULL;
	double			 in, out;

	(void)state;
	snprintf(outs[0], sizeof outs[0], "%s", fx_at("mute.opus"));
	snprintf(outs[1], sizeof outs[1], "%s", fx_at("mute.m4a"));
	snprintf(tone, sizeof tone, "%s", fx_at("tone.wav"));
	fx_sh("sox -n -r 44100 -c 2 %s synth 7 sine 440 gain -12", tone);
	vh_audio_limits_default(&l);
	l.mute = r;
	l.nmute = 2;
	assert_int_equal(vh_audio_transcode(tone, outs[0], outs[1],
	    fx_at("mute.json"), &l, &res, &err), 0);
	assert_null(err);
	assert_int_equal(res.duration_ms, 7000);
	for (int i = 0; i < 2; i++) {
		/* A few ms at each edge belong to the codecs' windows. */
		out = rms_db(outs[i], 2030, 3470);
		in = rms_db(outs[i], 500, 1900);
		print_message("%s: muted %.1f dBFS, kept %.1f dBFS\n", outs[i],
		    out, in);
		assert_true(out < -60.0);
		assert_true(in > -30.0);
		assert_true(rms_db(outs[i], 5030, 5370) < -60.0);
		assert_true(rms_db(outs[i], 3600, 4900) > -30.0);
	}
	/* Without the ranges, the same stretch is loud. */
	l.mute = NULL;
	l.nmute = 0;
	assert_int_equal(vh_audio_transcode(tone, outs[0], NULL, NULL,
	    &l, &res, &err), 0);
	assert_true(rms_db(outs[0], 2030, 3470) > -30.0);
}

static void
test_loudness(void **state VH_UNUSED)
{
	const char *names[] = { "quiet.wav", "loud.wav", "speech.wav" };
	struct vh_audio_result r;
	double	 lufs, tp;

	for (size_t i = 0; i < 3; i++) {
		transcode_ok(fx_at(names[i]), &r);
		loudness_of(fx_at("out.opus"), &lufs, &tp);
		printf("  %-10s in %6.1f LUFS %5.1f dBTP gain %+5.1f -> "
		    "opus %5.1f LUFS %5.1f dBTP\n", names[i],
		    r.loudness_in_lufs, r.true_peak_in_dbtp, r.gain_db, lufs,
		    tp);
		assert_true(fabs(lufs + 18.0) <= 1.0);
		assert_true(r.true_peak_out_dbtp <= -1.0 + 1e-6);
		loudness_of(fx_at("out.m4a"), &lufs, &tp);
		assert_true(fabs(lufs + 18.0) <= 1.0);
	}
	/* Uncompressed speech: the ceiling wins, and it comes out quieter. */
	transcode_ok(fx_at("raw.wav"), &r);
	loudness_of(fx_at("out.opus"), &lufs, &tp);
	printf("  raw.wav    in %6.1f LUFS %5.1f dBTP gain %+5.1f -> "
	    "%5.1f LUFS\n", r.loudness_in_lufs, r.true_peak_in_dbtp,
	    r.gain_db, r.loudness_out_lufs);
	assert_true(fabs(r.gain_db - (-1.0 - r.true_peak_in_dbtp)) < 1e-9);
	assert_true(r.loudness_out_lufs < -18.5);
	assert_true(fabs(lufs - r.loudness_out_lufs) < 0.5);

	transcode_ok(fx_at("quiet.wav"), &r);
	assert_true(r.loudness_in_lufs < -40.0);
	assert_true(r.gain_db > 20.0);
	transcode_ok(fx_at("loud.wav"), &r);
	assert_true(r.gain_db < 0.0);
}

/* Full-scale identical channels mix to full scale, not +3 dB over it. */
static void
test_downmix(void **state VH_UNUSED)
{
	struct vh_audio_result r;

	transcode_ok(fx_at("sines.wav"), &r);
	printf("  sines: %.2f LUFS, %.2f dBTP after the mix\n",
	    r.loudness_in_lufs, r.true_peak_in_dbtp);
	assert_true(r.true_peak_in_dbtp <= 0.1);
	assert_true(r.true_peak_in_dbtp > -0.5);
	assert_true(fabs(r.loudness_in_lufs + 3.0) < 0.5);
	assert_int_equal(r.in_channels, 2);
}

static void
test_peaks(void **state VH_UNUSED)
{
	struct vh_audio_limits l;
	struct vh_audio_result r;
	json_error_t	 je;
	json_t		*j, *data;
	char		*err = NULL;
	int		 lo = 0, hi = 0;

	transcode_ok(fx_at("speech.wav"), &r);
	assert_non_null(j = json_load_file(fx_at("out.json"), 0, &je));
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "channels")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "sample_rate")),
	    48000);
	assert_int_equal(json_integer_value(json_object_get(j, "bits")), 8);
	assert_int_equal(json_integer_value(json_object_get(j,
	    "samples_per_pixel")), 480);
	data = json_object_get(j, "data");
	assert_int_equal(json_integer_value(json_object_get(j, "length")),
	    r.peaks_length);
	assert_int_equal(json_array_size(data), 2 * (size_t)r.peaks_length);
	assert_true(abs(r.peaks_length - (int)(r.duration_ms / 10)) <= 1);
	for (size_t i = 0; i < json_array_size(data); i += 2) {
		int a = (int)json_integer_value(json_array_get(data, i));
		int b = (int)json_integer_value(json_array_get(data, i + 1));

		assert_true(a <= b);
		lo = a < lo ? a : lo;
		hi = b > hi ? b : hi;
	}
	/* Normalised speech peaks well below full scale but not near 0. */
	assert_true(hi > 20 && hi < 127 && lo < -20);
	json_decref(j);

	vh_audio_limits_default(&l);
	l.peaks_max_length = 500;
	assert_int_equal(vh_audio_transcode(fx_at("speech.wav"), NULL, NULL,
	    fx_at("small.json"), &l, &r, &err), 0);
	assert_true(r.peaks_length <= 500 && r.peaks_length > 250);
	assert_true(r.peaks_samples_per_pixel > 480);
}

static void
expect_reject(const char *name, int want, const char *reason)
{
	struct vh_audio_result r;
	char	*err = NULL;
	int	 rc;

	rc = vh_audio_transcode_sandboxed(fx_at(name), fx_at("bad.opus"),
	    fx_at("bad.m4a"), fx_at("bad.json"), NULL, NULL, &r, &err);
	printf("  %-14s -> %s: %s\n", name, vh_strerror(rc), err);
	assert_int_equal(rc, want);
	assert_non_null(err);
	if (strstr(err, reason) == NULL)
		fail_msg("%s: '%s' lacks '%s'", name, err, reason);
	free(err);
}

static void
test_hostile(void **state VH_UNUSED)
{
	struct vh_audio_limits l;
	struct vh_audio_result r;
	char	*err = NULL;

	expect_reject("text.wav", VH_EINVAL, "not a readable audio file");
	expect_reject("truncated.wav", VH_EINVAL, "truncated");
	expect_reject("nomoov.mp4", VH_EINVAL, "not a readable audio file");
	expect_reject("zip.m4a", VH_EINVAL, "not a readable audio file");
	expect_reject("nonexistent.wav", VH_ENOENT, "No such file");

	vh_audio_limits_default(&l);
	l.max_duration_ms = 5000;
	assert_int_equal(vh_audio_transcode(fx_at("speech.wav"), NULL, NULL,
	    NULL, &l, &r, &err), VH_ETOOBIG);
	assert_non_null(strstr(err, "longer than"));
	free(err);
	vh_audio_limits_default(&l);
	l.max_file_size = 1000;
	assert_int_equal(vh_audio_transcode(fx_at("speech.wav"), NULL, NULL,
	    NULL, &l, &r, &err), VH_ETOOBIG);
	free(err);
}

/* In the sandbox the result crosses the pipe intact; a child that runs
 * out of time is killed and reported. */
static void
test_sandboxed(void **state VH_UNUSED)
{
	struct vh_sandbox_limits sl;
	struct vh_audio_result a, b;
	char	*err = NULL;

	transcode_ok(fx_at("mono.m4a"), &a);
	assert_int_equal(vh_audio_transcode_sandboxed(fx_at("mono.m4a"),
	    fx_at("s.opus"), fx_at("s.m4a"), fx_at("s.json"), NULL, NULL, &b,
	    &err), 0);
	assert_int_equal(a.duration_ms, b.duration_ms);
	assert_true(a.loudness_in_lufs == b.loudness_in_lufs);
	assert_string_equal(b.in_codec, "aac");
	assert_true(file_size(fx_at("s.opus")) > 1000);

	vh_sandbox_limits_default(&sl);
	sl.timeout_ms = 1;
	assert_int_equal(vh_audio_transcode_sandboxed(fx_at("speech.flac"),
	    fx_at("s.opus"), NULL, NULL, NULL, &sl, &b, &err), VH_EIO);
	assert_string_equal(err, "decoder timed out after 1 s");
	free(err);
}

/* Seconds of audio ffmpeg's own command line decodes from a file. */
static double
decoded_duration(const char *path)
{
	fx_sh("ffmpeg -v quiet -y -i '%s' -map 0:a:0 -f wav %s", path,
	    fx_at("ref.wav"));
	return (probe_duration(fx_at("ref.wav")));
}

static bool
near(double got, double want)
{
	/* Tiny clips: a codec frame of slack. */
	return (fabs(got - want) <= fmax(want * 0.01, 0.03));
}

/*
 * The real recordings: WAV, Ogg Vorbis, Speex, Opus, AMR, 3GP, WebM. The
 * right length is what the container states or what ffmpeg decodes; the
 * two differ for AAC priming (container longer) and for AMR in 3GP, where
 * FFmpeg 5.1 decodes only the first frame of each packet.
 */
static void
test_shared(void **state VH_UNUSED)
{
	struct vh_audio_result r;
	struct dirent	*de;
	char		 path[512], *err;
	double		 box, dec, got;
	DIR		*d;
	int		 rc, n = 0;

	if ((d = opendir(SHARED)) == NULL) {
		printf("  skipped: %s is absent\n", SHARED);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", SHARED, de->d_name);
		box = probe_duration(path);
		dec = decoded_duration(path);
		err = NULL;
		rc = vh_audio_transcode_sandboxed(path, fx_at("sh.opus"),
		    fx_at("sh.m4a"), fx_at("sh.json"), NULL, NULL, &r, &err);
		got = r.duration_ms / 1000.0;
		printf("  %-24s %-10s box %5.2f s dec %5.2f s -> %s %5.2f s "
		    "%6.1f LUFS\n", de->d_name, r.in_codec, box, dec,
		    rc == 0 ? "ok" : err, got, r.loudness_out_lufs);
		if (rc != 0)
			fail_msg("%s: %s", path, err);
		assert_true(near(got, box) || near(got, dec));
		assert_true(near(probe_duration(fx_at("sh.opus")), got));
		assert_true(near(probe_duration(fx_at("sh.m4a")), got));
		n++;
	}
	closedir(d);
	assert_true(n > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_renditions),
		cmocka_unit_test(test_loudness),
		cmocka_unit_test(test_mute),
		cmocka_unit_test(test_downmix),
		cmocka_unit_test(test_peaks),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_sandboxed),
		cmocka_unit_test(test_shared),
	};

	av_log_set_level(AV_LOG_ERROR);
	return (cmocka_run_group_tests(tests, setup, fx_teardown));
}
