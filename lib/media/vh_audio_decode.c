/*
 * Decoding untrusted recordings. libavformat reads the file through a
 * descriptor we give it (an AVIOContext over pread, so the confined child
 * needs no open(2) and two passes do not share an offset), may open
 * nothing else, and only with the demuxers phones and browsers produce;
 * libavcodec opens only the decoders for speech codecs. Probe size and
 * analysis time are bounded, the header's duration is checked before
 * decoding and the decoded length while decoding. libswresample
 * turns whatever comes out into 48 kHz mono float with an explicit
 * equal-weight matrix: swresample's default stereo-to-mono matrix sums
 * the channels at -3 dB each, which is +3 dB on correlated speech and
 * pushes a full-scale recording over 0 dBFS.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "vh_audio_int.h"
#include "vh_unused.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

/* Demuxer names; av_match_list matches "mov" against the mov demuxer's
 * "mov,mp4,m4a,3gp,3g2,mj2" and "matroska" against "matroska,webm". */
#define FORMATS "mov,matroska,webm,ogg,wav,mp3,amr,amrnb,amrwb,flac,aac"

/* Decoder names (not codec ids): what avcodec_open2 checks. */
#define DECODERS "aac,aac_fixed,opus,libopus,vorbis,libvorbis,amrnb,amrwb," \
	"libopencore_amrnb,libopencore_amrwb,mp3,mp3float,flac,speex," \
	"libspeex,pcm_s16le,pcm_s16be,pcm_s24le,pcm_s24be,pcm_s32le," \
	"pcm_s32be,pcm_f32le,pcm_f32be,pcm_f64le,pcm_f64be,pcm_u8,pcm_s8," \
	"pcm_alaw,pcm_mulaw"

/* Corrupt packets tolerated before the file counts as undecodable. */
#define MAX_DECODE_ERRORS 64

/* A read-only AVIOContext over a descriptor, with its own offset. */
struct fdin {
	AVIOContext	*io;
	int		 fd;
	int64_t		 pos;
};

struct audio_dec {
	struct fdin	 in;
	AVFormatContext	*fmt;
	AVCodecContext	*cc;
	SwrContext	*swr;
	AVPacket	*pkt;
	AVFrame		*frame;
	int		 stream;
	int		 swr_rate, swr_fmt;
	AVChannelLayout	 swr_layout;
	float		*buf;
	int		 cap;
	int64_t		 total, max_samples;
	int		 errors;
	bool		 eof_input, done;
	int64_t		 declared;	/* samples the mov header promises */
	int64_t		 silence;	/* samples of silence owed */
	int		 packets;	/* of our stream, read so far */
	int		 amr;		/* 1: AMR-NB, 2: AMR-WB, split frames */
	int		 amr_off;	/* offset in pkt, or -1 */
	AVPacket	*frame_pkt;	/* one AMR frame */
};

char *
audio_averr(int averr, const char *fmt, ...)
{
	char	 e[AV_ERROR_MAX_STRING_SIZE], *s, *r;
	va_list	 ap;

	av_strerror(averr, e, sizeof(e));
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		vh_fatal("vasprintf");
	va_end(ap);
	r = vh_xasprintf("%s: %s", s, e);
	free(s);
	return (r);
}

int64_t
audio_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static int
fdin_read(void *opaque, uint8_t *buf, int n)
{
	struct fdin	*in = opaque;
	ssize_t		 r;

	do
		r = pread(in->fd, buf, (size_t)n, in->pos);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return (AVERROR(errno));
	if (r == 0)
		return (AVERROR_EOF);
	in->pos += r;
	return ((int)r);
}

static int64_t
fdin_seek(void *opaque, int64_t off, int whence)
{
	struct fdin	*in = opaque;
	struct stat	 sb;

	whence &= ~AVSEEK_FORCE;
	if (whence == AVSEEK_SIZE || whence == SEEK_END) {
		if (fstat(in->fd, &sb) == -1)
			return (AVERROR(errno));
		if (whence == AVSEEK_SIZE)
			return (sb.st_size);
		off += sb.st_size;
	} else if (whence == SEEK_CUR)
		off += in->pos;
	else if (whence != SEEK_SET)
		return (AVERROR(EINVAL));
	if (off < 0)
		return (AVERROR(EINVAL));
	in->pos = off;
	return (off);
}

/* Nested opens (playlists, references to other files) are refused. */
static int
deny_open(AVFormatContext *s VH_UNUSED, AVIOContext **pb VH_UNUSED,
    const char *url VH_UNUSED, int flags VH_UNUSED,
    AVDictionary **options VH_UNUSED)
{
	return (AVERROR(EPERM));
}

static void
close_input(AVFormatContext **fmtp, struct fdin *in)
{
	avformat_close_input(fmtp);
	if (in->io != NULL) {
		av_freep(&in->io->buffer);
		avio_context_free(&in->io);
	}
}

static int
open_input(AVFormatContext **fmtp, struct fdin *in, int fd,
    int64_t probesize, char **err)
{
	AVDictionary	*opts = NULL;
	unsigned char	*buf;
	int		 rc;

	in->fd = fd;
	in->pos = 0;
	if ((buf = av_malloc(65536)) == NULL ||
	    (in->io = avio_alloc_context(buf, 65536, 0, in, fdin_read, NULL,
	    fdin_seek)) == NULL || (*fmtp = avformat_alloc_context()) == NULL)
		vh_fatal("avio_alloc_context");
	(*fmtp)->pb = in->io;
	(*fmtp)->flags |= AVFMT_FLAG_CUSTOM_IO;
	(*fmtp)->io_open = deny_open;
	av_dict_set(&opts, "format_whitelist", FORMATS, 0);
	av_dict_set(&opts, "codec_whitelist", DECODERS, 0);
	av_dict_set(&opts, "protocol_whitelist", "none", 0);
	av_dict_set_int(&opts, "probesize", probesize, 0);
	av_dict_set_int(&opts, "formatprobesize", probesize < 1048576 ?
	    probesize : 1048576, 0);
	av_dict_set_int(&opts, "analyzeduration", 10 * AV_TIME_BASE, 0);
	/* On failure this frees *fmtp, but not our AVIOContext. */
	rc = avformat_open_input(fmtp, "", NULL, &opts);
	av_dict_free(&opts);
	if (rc < 0)
		close_input(fmtp, in);
	if (rc == AVERROR(EINVAL)) {
		*err = vh_xstrdup("not a supported audio format");
		return (VH_ENOTSUP);
	}
	if (rc < 0) {
		*err = audio_averr(rc, "not a readable audio file");
		return (VH_EINVAL);
	}
	return (0);
}

int
vh_audio_probe(const char *path, struct vh_audio_probe *p, char **err)
{
	int	fd, rc;

	*err = NULL;
	memset(p, 0, sizeof(*p));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*err = vh_xasprintf("%s: %s", path, strerror(errno));
		return (errno == ENOENT ? VH_ENOENT : VH_EIO);
	}
	rc = vh_audio_probe_fd(fd, p, err);
	close(fd);
	return (rc);
}

int
vh_audio_probe_fd(int fd, struct vh_audio_probe *p, char **err)
{
	AVFormatContext	*fmt = NULL;
	struct fdin	 in = { NULL, -1, 0 };
	int		 rc;

	*err = NULL;
	memset(p, 0, sizeof(*p));
	if ((rc = open_input(&fmt, &in, fd, 1 << 20, err)) != 0)
		return (rc);
	snprintf(p->format, sizeof(p->format), "%s", fmt->iformat->name);
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		switch (fmt->streams[i]->codecpar->codec_type) {
		case AVMEDIA_TYPE_AUDIO:
			p->audio_streams++;
			break;
		case AVMEDIA_TYPE_VIDEO:
			p->video_streams++;
			break;
		default:
			break;
		}
	}
	p->duration_ms = fmt->duration == AV_NOPTS_VALUE ? -1 :
	    fmt->duration / (AV_TIME_BASE / 1000);
	close_input(&fmt, &in);
	return (0);
}

static bool
codec_allowed(enum AVCodecID id)
{
	switch (id) {
	case AV_CODEC_ID_AAC:
	case AV_CODEC_ID_OPUS:
	case AV_CODEC_ID_VORBIS:
	case AV_CODEC_ID_AMR_NB:
	case AV_CODEC_ID_AMR_WB:
	case AV_CODEC_ID_MP3:
	case AV_CODEC_ID_FLAC:
	case AV_CODEC_ID_SPEEX:
		return (true);
	default:
		return (strncmp(avcodec_get_name(id), "pcm_", 4) == 0);
	}
}

/*
 * libavformat clamps a WAV's data chunk to what is on disk, so a cut-off
 * upload would pass as a shorter recording: compare the RIFF size with
 * the file's. Recorders that never finish the header write 0 or ~0 there.
 */
static int
check_wav(int fd, int64_t size, char **err)
{
	unsigned char	 h[12];
	uint32_t	 riff;

	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h, "RIFF", 4) != 0)
		return (0);
	riff = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 |
	    (uint32_t)h[7] << 24;
	if (riff == 0 || riff == UINT32_MAX || (int64_t)riff + 8 <= size)
		return (0);
	*err = vh_xasprintf("the WAV file is truncated: its header promises "
	    "%lld bytes, the file has %lld", (long long)riff + 8,
	    (long long)size);
	return (VH_EINVAL);
}

int
audio_dec_open(struct audio_dec **dp, int fd,
    const struct vh_audio_limits *l, struct vh_audio_result *res,
    char **err)
{
	struct audio_dec	*d;
	AVDictionary		*opts = NULL;
	const AVCodec		*codec = NULL;
	AVStream		*st;
	struct stat		 sb;
	int			 rc, ret;

	*dp = NULL;
	if (fstat(fd, &sb) == -1) {
		*err = vh_xasprintf("the input: %s", strerror(errno));
		return (VH_EIO);
	}
	if (l->max_file_size > 0 && sb.st_size > l->max_file_size) {
		*err = vh_xasprintf("the file is larger than %lld MB",
		    (long long)(l->max_file_size / 1000000));
		return (VH_ETOOBIG);
	}
	d = vh_xcalloc(1, sizeof(*d));
	if ((ret = open_input(&d->fmt, &d->in, fd, l->probesize, err)) != 0)
		goto fail;
	if ((rc = avformat_find_stream_info(d->fmt, NULL)) < 0) {
		*err = audio_averr(rc, "cannot find the streams");
		ret = VH_EINVAL;
		goto fail;
	}
	rc = av_find_best_stream(d->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
	if (rc < 0) {
		*err = vh_xstrdup("the file has no audio stream");
		ret = VH_EINVAL;
		goto fail;
	}
	d->stream = rc;
	st = d->fmt->streams[d->stream];
	for (unsigned i = 0; i < d->fmt->nb_streams; i++)
		if ((int)i != d->stream)
			d->fmt->streams[i]->discard = AVDISCARD_ALL;

	snprintf(res->in_format, sizeof(res->in_format), "%s",
	    d->fmt->iformat->name);
	if (strcmp(d->fmt->iformat->name, "wav") == 0 &&
	    (ret = check_wav(fd, sb.st_size, err)) != 0)
		goto fail;
	/* An MP4's moov states the length exactly; data missing behind it
	 * means a cut-off upload, checked when decoding ends. */
	if (strncmp(d->fmt->iformat->name, "mov,", 4) == 0 &&
	    st->duration != AV_NOPTS_VALUE && st->duration > 0)
		d->declared = av_rescale_q(st->duration, st->time_base,
		    (AVRational){ 1, VH_AUDIO_RATE });
	snprintf(res->in_codec, sizeof(res->in_codec), "%s",
	    avcodec_get_name(st->codecpar->codec_id));
	res->in_sample_rate = st->codecpar->sample_rate;
	res->in_channels = st->codecpar->ch_layout.nb_channels;
	if (!codec_allowed(st->codecpar->codec_id) ||
	    (codec = avcodec_find_decoder(st->codecpar->codec_id)) == NULL) {
		*err = vh_xasprintf("audio codec %s is not supported",
		    res->in_codec);
		ret = VH_ENOTSUP;
		goto fail;
	}
	d->max_samples = l->max_duration_ms * (VH_AUDIO_RATE / 1000);
	if (l->max_duration_ms > 0 && d->fmt->duration != AV_NOPTS_VALUE &&
	    d->fmt->duration / 1000 > l->max_duration_ms) {
		*err = vh_xasprintf("the recording is longer than %lld "
		    "minutes", (long long)(l->max_duration_ms / 60000));
		ret = VH_ETOOBIG;
		goto fail;
	}

	d->cc = avcodec_alloc_context3(codec);
	if ((rc = avcodec_parameters_to_context(d->cc, st->codecpar)) < 0) {
		*err = audio_averr(rc, "bad codec parameters");
		ret = VH_EINVAL;
		goto fail;
	}
	d->cc->pkt_timebase = st->time_base;
	/* One thread: the sandbox's address-space limit covers the whole
	 * child, and speech decodes far faster than real time anyway. */
	d->cc->thread_count = 1;
	av_dict_set(&opts, "codec_whitelist", DECODERS, 0);
	rc = avcodec_open2(d->cc, codec, &opts);
	av_dict_free(&opts);
	if (rc < 0) {
		*err = audio_averr(rc, "cannot open the %s decoder",
		    res->in_codec);
		ret = rc == AVERROR(EINVAL) ? VH_ENOTSUP : VH_EINVAL;
		goto fail;
	}
	d->pkt = av_packet_alloc();
	d->frame_pkt = av_packet_alloc();
	d->frame = av_frame_alloc();
	d->amr_off = -1;
	/* The raw amr demuxer already yields one frame per packet. */
	if (strncmp(d->fmt->iformat->name, "mov,", 4) == 0 ||
	    strcmp(d->fmt->iformat->name, "amr") == 0) {
		if (st->codecpar->codec_id == AV_CODEC_ID_AMR_NB)
			d->amr = 1;
		else if (st->codecpar->codec_id == AV_CODEC_ID_AMR_WB)
			d->amr = 2;
	}
	*dp = d;
	return (0);

fail:
	audio_dec_close(d);
	return (ret);
}

static int
swr_setup(struct audio_dec *d, const AVFrame *f, char **err)
{
	AVChannelLayout	 in, mono = AV_CHANNEL_LAYOUT_MONO;
	double		*matrix;
	int		 n, rc;

	n = f->ch_layout.nb_channels;
	if (n < 1 || n > 64 || f->sample_rate <= 0) {
		*err = vh_xasprintf("bad audio frame: %d channels at %d Hz", n,
		    f->sample_rate);
		return (VH_EINVAL);
	}
	if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
		av_channel_layout_default(&in, n);
	else if (av_channel_layout_copy(&in, &f->ch_layout) < 0)
		vh_fatal("av_channel_layout_copy");

	swr_free(&d->swr);
	rc = swr_alloc_set_opts2(&d->swr, &mono, AV_SAMPLE_FMT_FLT,
	    VH_AUDIO_RATE, &in, f->format, f->sample_rate, 0, NULL);
	matrix = vh_xcalloc((size_t)n, sizeof(*matrix));
	for (int i = 0; i < n; i++)
		matrix[i] = 1.0 / n;
	if (rc >= 0)
		rc = swr_set_matrix(d->swr, matrix, n);
	free(matrix);
	if (rc >= 0)
		rc = swr_init(d->swr);
	/* Remember the frame's own layout, unspecified or not, so that the
	 * next frame compares equal and the resampler keeps its state. */
	av_channel_layout_uninit(&d->swr_layout);
	if (av_channel_layout_copy(&d->swr_layout, &f->ch_layout) < 0)
		vh_fatal("av_channel_layout_copy");
	av_channel_layout_uninit(&in);
	d->swr_rate = f->sample_rate;
	d->swr_fmt = f->format;
	if (rc < 0) {
		*err = audio_averr(rc, "cannot set up resampling");
		return (VH_EINVAL);
	}
	return (0);
}

/* Converts one frame (NULL: flushes); returns samples in d->buf. */
static int
convert(struct audio_dec *d, const AVFrame *f, char **err)
{
	int	want, n, rc;

	if (f == NULL) {
		if (d->swr == NULL)
			return (0);
		want = swr_get_out_samples(d->swr, 0);
	} else {
		if (d->swr == NULL || f->sample_rate != d->swr_rate ||
		    f->format != d->swr_fmt ||
		    av_channel_layout_compare(&f->ch_layout,
		    &d->swr_layout) != 0) {
			if ((rc = swr_setup(d, f, err)) != 0)
				return (rc);
		}
		want = swr_get_out_samples(d->swr, f->nb_samples);
	}
	if (want <= 0)
		return (0);
	if (want > d->cap) {
		d->cap = want;
		d->buf = vh_xreallocarray(d->buf, (size_t)d->cap,
		    sizeof(*d->buf));
	}
	n = swr_convert(d->swr, (uint8_t **)&d->buf, d->cap,
	    f != NULL ? (const uint8_t **)f->extended_data : NULL,
	    f != NULL ? f->nb_samples : 0);
	if (n < 0) {
		*err = audio_averr(n, "resampling failed");
		return (VH_EINVAL);
	}
	d->total += n;
	if (d->max_samples > 0 && d->total > d->max_samples) {
		*err = vh_xasprintf("the recording is longer than %lld minutes",
		    (long long)(d->max_samples / VH_AUDIO_RATE / 60));
		return (VH_ETOOBIG);
	}
	return (n);
}

static int
count_error(struct audio_dec *d, int averr, char **err)
{
	/* A few bad packets are forgiven (they become silence); a file that
	 * is mostly bad is not audio. */
	if (++d->errors <= MAX_DECODE_ERRORS || d->errors * 2 <= d->packets)
		return (0);
	*err = audio_averr(averr, "the audio is damaged (%d of %d packets "
	    "bad)", d->errors, d->packets);
	return (VH_EINVAL);
}

/* Adds the length of a packet that produced no sound as silence, so a
 * damaged packet or a DTX pause keeps the timeline. */
static void
add_silence(struct audio_dec *d, const AVPacket *pkt)
{
	const AVStream	*st = d->fmt->streams[d->stream];

	if (pkt->duration > 0)
		d->silence += av_rescale_q(pkt->duration, st->time_base,
		    (AVRational){ 1, VH_AUDIO_RATE });
}

static int
emit_silence(struct audio_dec *d, float **out, char **err)
{
	int	n;

	n = d->silence > 4800 ? 4800 : (int)d->silence;
	d->silence -= n;
	if (n > d->cap) {
		d->cap = n;
		d->buf = vh_xreallocarray(d->buf, (size_t)d->cap,
		    sizeof(*d->buf));
	}
	memset(d->buf, 0, (size_t)n * sizeof(*d->buf));
	d->total += n;
	if (d->max_samples > 0 && d->total > d->max_samples) {
		*err = vh_xasprintf("the recording is longer than %lld minutes",
		    (long long)(d->max_samples / VH_AUDIO_RATE / 60));
		return (VH_ETOOBIG);
	}
	*out = d->buf;
	return (n);
}

/*
 * MP4 and 3GP store several AMR frames per sample; FFmpeg 5.1's decoders
 * only decode the first frame of a packet, which silently drops four
 * fifths of a 3GP recording. Hand them one frame at a time, each with its
 * one-byte header. Comfort-noise and no-data frames (DTX, frame types
 * 8-15) are not decoded by FFmpeg: they become 20 ms of silence.
 */
static int
send_amr(struct audio_dec *d, char **err)
{
	static const uint8_t nb[16] = { 13, 14, 16, 18, 20, 21, 27, 32, 6, 1,
	    1, 1, 1, 1, 1, 1 };
	static const uint8_t wb[16] = { 18, 24, 33, 37, 41, 47, 51, 59, 61, 6,
	    1, 1, 1, 1, 1, 1 };
	const uint8_t	*sizes = d->amr == 2 ? wb : nb;
	int		 ft, len, rc, sid = d->amr == 2 ? 9 : 8;

	while (d->amr_off < d->pkt->size) {
		ft = (d->pkt->data[d->amr_off] >> 3) & 0x0f;
		len = sizes[ft];
		if (d->amr_off + len > d->pkt->size)
			break;
		if (ft >= sid) {
			d->silence += VH_AUDIO_RATE / 50;
			d->amr_off += len;
			continue;
		}
		if (av_new_packet(d->frame_pkt, len) < 0)
			vh_fatal("av_new_packet");
		memcpy(d->frame_pkt->data, d->pkt->data + d->amr_off,
		    (size_t)len);
		d->amr_off += len;
		rc = avcodec_send_packet(d->cc, d->frame_pkt);
		av_packet_unref(d->frame_pkt);
		if (rc < 0) {
			d->silence += VH_AUDIO_RATE / 50;
			return (count_error(d, rc, err));
		}
		return (0);	/* receive before sending the next frame */
	}
	av_packet_unref(d->pkt);
	d->amr_off = -1;
	return (0);
}

int
audio_dec_read(struct audio_dec *d, float **out, char **err)
{
	int	rc, n;

	while (!d->done) {
		rc = avcodec_receive_frame(d->cc, d->frame);
		if (rc == 0) {
			n = convert(d, d->frame, err);
			av_frame_unref(d->frame);
			if (n == 0)
				continue;
			*out = d->buf;
			return (n);
		}
		if (d->silence > 0)
			return (emit_silence(d, out, err));
		if (rc == AVERROR_EOF) {
			d->done = true;
			if ((n = convert(d, NULL, err)) > 0)
				*out = d->buf;
			return (n);
		}
		if (rc != AVERROR(EAGAIN)) {
			if ((rc = count_error(d, rc, err)) != 0)
				return (rc);
			continue;
		}
		if (d->eof_input) {
			/* Draining a codec that wants more input: done. */
			d->done = true;
			continue;
		}
		if (d->amr_off >= 0) {
			if ((rc = send_amr(d, err)) != 0)
				return (rc);
			continue;
		}
		rc = av_read_frame(d->fmt, d->pkt);
		if (rc < 0) {
			/* A read error past the header is treated like the
			 * end: a cut-off upload still yields what it has. */
			d->eof_input = true;
			avcodec_send_packet(d->cc, NULL);
			continue;
		}
		if (d->pkt->stream_index != d->stream) {
			av_packet_unref(d->pkt);
			continue;
		}
		d->packets++;
		if (d->amr != 0) {
			d->amr_off = 0;
			continue;
		}
		rc = avcodec_send_packet(d->cc, d->pkt);
		if (rc < 0 && rc != AVERROR(EAGAIN)) {
			add_silence(d, d->pkt);
			if ((rc = count_error(d, rc, err)) != 0) {
				av_packet_unref(d->pkt);
				return (rc);
			}
		}
		av_packet_unref(d->pkt);
	}
	/* Up to a second or a tenth may be missing: priming, edit lists. */
	if (d->declared > 0 && d->total < d->declared - VH_AUDIO_RATE &&
	    d->total < d->declared - d->declared / 10) {
		*err = vh_xasprintf("the file is truncated: %.1f s of %.1f s "
		    "could be decoded", (double)d->total / VH_AUDIO_RATE,
		    (double)d->declared / VH_AUDIO_RATE);
		return (VH_EINVAL);
	}
	return (0);
}

void
audio_dec_close(struct audio_dec *d)
{
	if (d == NULL)
		return;
	av_frame_free(&d->frame);
	av_packet_free(&d->pkt);
	av_packet_free(&d->frame_pkt);
	swr_free(&d->swr);
	av_channel_layout_uninit(&d->swr_layout);
	avcodec_free_context(&d->cc);
	close_input(&d->fmt, &d->in);
	free(d->buf);
	free(d);
}
