/*
 * The audio pipeline in two passes over the input, so that memory stays
 * flat however long the recording is. Pass one decodes to 48 kHz mono,
 * measures integrated loudness and true peak (libebur128) and collects
 * waveform min/max. One gain follows: the smaller of what brings the
 * loudness to the target and what keeps the true peak under its ceiling.
 * Pass two decodes again, applies the gain and feeds the Opus and AAC
 * encoders and a second loudness meter, which records what staff will
 * actually hear. The peaks are scaled by the same gain when written.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ebur128.h>
#include <jansson.h>
#include <libavutil/log.h>

#include "vh_audio.h"
#include "vh_audio_int.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

/* Below the absolute gate of BS.1770: what silence reports. */
#define SILENCE_LUFS -70.0

struct peaks {
	int	 spp;
	int	 count;		/* samples in the current pixel */
	float	 lo, hi;
	float	*data;		/* min, max, min, max, ... */
	size_t	 n, cap;	/* floats */
};

void
vh_audio_limits_default(struct vh_audio_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->max_file_size = 1024LL * 1024 * 1024;
	l->max_duration_ms = 2LL * 3600 * 1000;
	l->probesize = 5LL * 1024 * 1024;
	l->target_lufs = -18.0;
	l->max_true_peak_dbtp = -1.0;
	l->max_gain_db = 40.0;
	l->opus_bitrate = 24000;
	l->aac_bitrate = 64000;
	l->peaks_samples_per_pixel = 480;
	l->peaks_max_length = 0;
}

struct peaks *
peaks_new(int spp)
{
	struct peaks	*p;

	p = vh_xcalloc(1, sizeof(*p));
	p->spp = spp > 0 ? spp : 480;
	return (p);
}

static void
peaks_push(struct peaks *p)
{
	if (p->n + 2 > p->cap) {
		p->cap = p->cap == 0 ? 4096 : p->cap * 2;
		p->data = vh_xreallocarray(p->data, p->cap, sizeof(*p->data));
	}
	p->data[p->n++] = p->lo;
	p->data[p->n++] = p->hi;
	p->count = 0;
}

void
peaks_add(struct peaks *p, const float *s, int n)
{
	for (int i = 0; i < n; i++) {
		if (p->count == 0)
			p->lo = p->hi = s[i];
		else if (s[i] < p->lo)
			p->lo = s[i];
		else if (s[i] > p->hi)
			p->hi = s[i];
		if (++p->count == p->spp)
			peaks_push(p);
	}
}

static int
to8(double v)
{
	v = round(v * 127.0);
	return (v > 127.0 ? 127 : v < -128.0 ? -128 : (int)v);
}

int
peaks_write(struct peaks *p, int fd, double gain, int max_length,
    struct vh_audio_result *res, char **err)
{
	json_t	*root, *data;
	size_t	 len;
	int	 rc;

	if (p->count > 0)
		peaks_push(p);
	/* Halve the resolution until the data fits: merged pixels keep the
	 * outer min and max of the pair. */
	while (max_length > 0 && p->n / 2 > (size_t)max_length) {
		len = 0;
		for (size_t i = 0; i < p->n; i += 4) {
			float lo = p->data[i], hi = p->data[i + 1];

			if (i + 2 < p->n) {
				lo = fminf(lo, p->data[i + 2]);
				hi = fmaxf(hi, p->data[i + 3]);
			}
			p->data[len++] = lo;
			p->data[len++] = hi;
		}
		p->n = len;
		p->spp *= 2;
	}
	data = json_array();
	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(data, json_integer(to8(p->data[i] * gain)));
	root = json_pack("{s:i, s:i, s:i, s:i, s:i, s:I, s:o}", "version", 2,
	    "channels", 1, "sample_rate", VH_AUDIO_RATE, "samples_per_pixel",
	    p->spp, "bits", 8, "length", (json_int_t)(p->n / 2), "data", data);
	if (root == NULL)
		vh_fatal("json_pack");
	rc = json_dumpfd(root, fd, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (rc != 0) {
		*err = vh_xstrdup("cannot write the peaks");
		return (VH_EIO);
	}
	res->peaks_samples_per_pixel = p->spp;
	res->peaks_length = (int)(p->n / 2);
	return (0);
}

void
peaks_free(struct peaks *p)
{
	if (p == NULL)
		return;
	free(p->data);
	free(p);
}

/* Zeroes the samples of buf (n of them, the first at sample pos) that
 * fall in a mute range. */
static void
mute(const struct vh_audio_limits *l, int64_t pos, float *buf, int n)
{
	int64_t	s, e;

	for (size_t i = 0; i < l->nmute; i++) {
		s = l->mute[i].start_ms * (VH_AUDIO_RATE / 1000) - pos;
		e = l->mute[i].end_ms * (VH_AUDIO_RATE / 1000) - pos;
		if (s < 0)
			s = 0;
		if (e > n)
			e = n;
		if (s < e)
			memset(buf + s, 0, (size_t)(e - s) * sizeof *buf);
	}
}

/* Pass one: loudness, true peak, peaks; returns the sample count. */
static int
measure(int in, const struct vh_audio_limits *l, struct peaks *pk,
    struct vh_audio_result *res, int64_t *total, char **err)
{
	struct audio_dec	*d = NULL;
	ebur128_state		*st = NULL;
	float			*buf;
	double			 lufs, tp = 0;
	int64_t			 t;
	int			 n, ret;

	t = audio_now_us();
	ret = audio_dec_open(&d, in, l, res, err);
	res->timing.probe_us += audio_now_us() - t;
	if (ret != 0)
		return (ret);
	st = ebur128_init(1, VH_AUDIO_RATE, EBUR128_MODE_I |
	    EBUR128_MODE_TRUE_PEAK);
	if (st == NULL)
		vh_fatal("ebur128_init");
	*total = 0;
	for (;;) {
		t = audio_now_us();
		n = audio_dec_read(d, &buf, err);
		res->timing.decode_us += audio_now_us() - t;
		if (n <= 0)
			break;
		mute(l, *total, buf, n);
		*total += n;
		t = audio_now_us();
		ebur128_add_frames_float(st, buf, (size_t)n);
		res->timing.loudness_us += audio_now_us() - t;
		if (pk != NULL) {
			t = audio_now_us();
			peaks_add(pk, buf, n);
			res->timing.peaks_us += audio_now_us() - t;
		}
	}
	if ((ret = n) < 0)
		goto out;
	if (*total == 0) {
		*err = vh_xstrdup("no audio could be decoded from the file");
		ret = VH_EINVAL;
		goto out;
	}
	t = audio_now_us();
	if (ebur128_loudness_global(st, &lufs) != EBUR128_SUCCESS ||
	    !isfinite(lufs) || lufs < SILENCE_LUFS)
		lufs = SILENCE_LUFS;
	(void)ebur128_true_peak(st, 0, &tp);
	res->timing.loudness_us += audio_now_us() - t;
	res->loudness_in_lufs = lufs;
	res->true_peak_in_dbtp = tp > 1e-10 ? 20.0 * log10(tp) : -200.0;
	res->duration_ms = *total * 1000 / VH_AUDIO_RATE;
	ret = 0;
out:
	ebur128_destroy(&st);
	audio_dec_close(d);
	return (ret);
}

static double
choose_gain(const struct vh_audio_limits *l, const struct vh_audio_result *r)
{
	double	g;

	if (r->loudness_in_lufs <= SILENCE_LUFS)
		return (0.0);
	g = l->target_lufs - r->loudness_in_lufs;
	if (l->max_true_peak_dbtp - r->true_peak_in_dbtp < g)
		g = l->max_true_peak_dbtp - r->true_peak_in_dbtp;
	if (g > l->max_gain_db)
		g = l->max_gain_db;
	return (g);
}

/* Pass two: gain, then every encoder. */
static int
render(int in, int out_opus, int out_m4a,
    const struct vh_audio_limits *l, double gain, int64_t expect,
    struct vh_audio_result *res, char **err)
{
	struct audio_dec	*d = NULL;
	struct opus_out		*o = NULL;
	struct aac_out		*a = NULL;
	ebur128_state		*st;
	float			*buf;
	double			 lufs;
	int64_t			 t, total = 0;
	int			 n, ret;

	if ((st = ebur128_init(1, VH_AUDIO_RATE, EBUR128_MODE_I)) == NULL)
		vh_fatal("ebur128_init");
	t = audio_now_us();
	ret = audio_dec_open(&d, in, l, res, err);
	res->timing.probe_us += audio_now_us() - t;
	if (ret != 0)
		goto out;
	if (out_opus != -1 &&
	    (ret = opus_out_open(&o, out_opus, l->opus_bitrate, err)) != 0)
		goto out;
	if (out_m4a != -1 &&
	    (ret = aac_out_open(&a, out_m4a, l->aac_bitrate, err)) != 0)
		goto out;
	for (;;) {
		t = audio_now_us();
		n = audio_dec_read(d, &buf, err);
		if (n > 0) {
			mute(l, total, buf, n);
			for (int i = 0; i < n; i++)
				buf[i] *= (float)gain;
		}
		res->timing.decode_us += audio_now_us() - t;
		if (n <= 0)
			break;
		total += n;
		t = audio_now_us();
		ebur128_add_frames_float(st, buf, (size_t)n);
		res->timing.loudness_us += audio_now_us() - t;
		t = audio_now_us();
		if (o != NULL && (ret = opus_out_write(o, buf, n, err)) != 0)
			goto out;
		res->timing.opus_us += audio_now_us() - t;
		t = audio_now_us();
		if (a != NULL && (ret = aac_out_write(a, buf, n, err)) != 0)
			goto out;
		res->timing.aac_us += audio_now_us() - t;
	}
	if ((ret = n) < 0)
		goto out;
	if (total != expect) {
		*err = vh_xasprintf("the file decoded to %lld samples, then "
		    "to %lld", (long long)expect, (long long)total);
		ret = VH_EINVAL;
		goto out;
	}
	t = audio_now_us();
	if (o != NULL && (ret = opus_out_finish(o, err)) != 0)
		goto out;
	res->timing.opus_us += audio_now_us() - t;
	t = audio_now_us();
	if (a != NULL && (ret = aac_out_finish(a, err)) != 0)
		goto out;
	res->timing.aac_us += audio_now_us() - t;
	if (ebur128_loudness_global(st, &lufs) != EBUR128_SUCCESS ||
	    !isfinite(lufs) || lufs < SILENCE_LUFS)
		lufs = SILENCE_LUFS;
	res->loudness_out_lufs = lufs;
out:
	ebur128_destroy(&st);
	opus_out_free(o);
	aac_out_free(a);
	audio_dec_close(d);
	return (ret);
}

int
vh_audio_transcode_fd(int in, int out_opus, int out_m4a, int out_peaks,
    const struct vh_audio_limits *limits, struct vh_audio_result *res,
    char **err)
{
	struct vh_audio_limits	 def;
	struct peaks		*pk = NULL;
	int64_t			 t0, t, total = 0;
	double			 gain;
	int			 ret;

	*err = NULL;
	memset(res, 0, sizeof(*res));
	t0 = audio_now_us();
	if (limits == NULL) {
		vh_audio_limits_default(&def);
		limits = &def;
	}
	if (out_peaks != -1)
		pk = peaks_new(limits->peaks_samples_per_pixel);
	if ((ret = measure(in, limits, pk, res, &total, err)) != 0)
		goto out;
	gain = choose_gain(limits, res);
	res->gain_db = gain;
	res->true_peak_out_dbtp = res->true_peak_in_dbtp + gain;
	gain = pow(10.0, gain / 20.0);
	ret = render(in, out_opus, out_m4a, limits, gain, total, res, err);
	if (ret != 0)
		goto out;
	if (pk != NULL) {
		t = audio_now_us();
		ret = peaks_write(pk, out_peaks, gain, limits->peaks_max_length,
		    res, err);
		res->timing.peaks_us += audio_now_us() - t;
	}
out:
	peaks_free(pk);
	res->timing.total_us = audio_now_us() - t0;
	return (ret);
}

/* Opens in and the outputs named (created or truncated); -1 for NULL. */
static int
open_files(const char *in, const char *const out[3], int fds[4], char **err)
{
	for (int i = 0; i < 4; i++)
		fds[i] = -1;
	if ((fds[0] = open(in, O_RDONLY | O_CLOEXEC)) == -1) {
		*err = vh_xasprintf("%s: %s", in, strerror(errno));
		return (errno == ENOENT ? VH_ENOENT : VH_EIO);
	}
	for (int i = 0; i < 3; i++) {
		if (out[i] == NULL)
			continue;
		if ((fds[i + 1] = open(out[i], O_RDWR | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0600)) == -1) {
			*err = vh_xasprintf("cannot create %s: %s", out[i],
			    strerror(errno));
			return (VH_EIO);
		}
	}
	return (0);
}

static void
close_files(int fds[4])
{
	for (int i = 0; i < 4; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

int
vh_audio_transcode(const char *in, const char *out_opus, const char *out_m4a,
    const char *out_peaks, const struct vh_audio_limits *limits,
    struct vh_audio_result *res, char **err)
{
	const char	*out[3] = { out_opus, out_m4a, out_peaks };
	int		 fds[4], rc;

	*err = NULL;
	memset(res, 0, sizeof(*res));
	if ((rc = open_files(in, out, fds, err)) == 0)
		rc = vh_audio_transcode_fd(fds[0], fds[1], fds[2], fds[3],
		    limits, res, err);
	close_files(fds);
	return (rc);
}

/* What crosses to the child: the limits without their pointer, which
 * fds are present, then the mute ranges. */
struct audio_req {
	struct vh_audio_limits	limits;
	int			present[3];
};

void
vh_audio_child_init(void)
{
	/* Its default callback would write to a closed stderr; the reason
	 * travels in the answer. */
	av_log_set_level(AV_LOG_QUIET);
}

int
vh_audio_child(struct vh_sandbox_call *c)
{
	const struct audio_req	*rq = c->req;
	struct vh_audio_limits	 l;
	int			 fd[3] = { -1, -1, -1 };
	size_t			 next = 1;
	char			*err = NULL;
	int			 rc;

	if (c->req_size < sizeof(*rq) || c->nfds < 1 ||
	    c->result_size != sizeof(struct vh_audio_result))
		return (VH_EINVAL);
	l = rq->limits;
	if (c->req_size != sizeof(*rq) + l.nmute * sizeof(*l.mute))
		return (VH_EINVAL);
	l.mute = l.nmute > 0 ? (const void *)(rq + 1) : NULL;
	for (int i = 0; i < 3; i++)
		if (rq->present[i]) {
			if (next >= c->nfds)
				return (VH_EINVAL);
			fd[i] = c->fds[next++];
		}
	rc = vh_audio_transcode_fd(c->fds[0], fd[0], fd[1], fd[2], &l,
	    c->result, &err);
	if (err != NULL)
		snprintf(c->err, sizeof(c->err), "%s", err);
	free(err);
	return (rc);
}

int
vh_audio_transcode_sandboxed(const char *in, const char *out_opus,
    const char *out_m4a, const char *out_peaks,
    const struct vh_audio_limits *limits, const struct vh_sandbox_limits *sl,
    struct vh_audio_result *res, char **err)
{
	const char		*out[3] = { out_opus, out_m4a, out_peaks };
	struct vh_audio_limits	 def;
	struct audio_req	*rq;
	size_t			 size, nfds = 1;
	int			 fds[4], pass[4], rc;

	*err = NULL;
	memset(res, 0, sizeof(*res));
	if (limits == NULL) {
		vh_audio_limits_default(&def);
		limits = &def;
	}
	if (limits->nmute > (VH_SANDBOX_MAXREQ - sizeof(*rq)) /
	    sizeof(*limits->mute)) {
		*err = vh_xstrdup("too many ranges to mute");
		return (VH_ETOOBIG);
	}
	size = sizeof(*rq) + limits->nmute * sizeof(*limits->mute);
	rq = vh_xcalloc(1, size);
	rq->limits = *limits;
	rq->limits.mute = NULL;
	if (limits->nmute > 0)
		memcpy(rq + 1, limits->mute, limits->nmute *
		    sizeof(*limits->mute));
	if ((rc = open_files(in, out, fds, err)) != 0)
		goto out;
	pass[0] = fds[0];
	for (int i = 0; i < 3; i++)
		if ((rq->present[i] = fds[i + 1] != -1))
			pass[nfds++] = fds[i + 1];
	rc = vh_sandbox_run(sl, "audio", rq, size, pass, nfds, res,
	    sizeof(*res), err);
	/* Strings from the child are terminated here, not trusted to be. */
	res->in_format[sizeof(res->in_format) - 1] = '\0';
	res->in_codec[sizeof(res->in_codec) - 1] = '\0';
out:
	close_files(fds);
	free(rq);
	return (rc);
}
