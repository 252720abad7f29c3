/*
 * The two renditions. Ogg Opus comes from libopusenc at 24 kbps VBR,
 * complexity 10, with the voice signal hint: without the hint libopus
 * spends about 44 kbps on the same speech. AAC-LC comes from libavcodec's
 * native encoder into the mp4 muxer with +faststart, so that Safari can
 * start playing before the whole file is there. Both take 48 kHz mono
 * float; neither copies any tag from the original. Both write to
 * descriptors they are given (the confined child opens nothing): Opus
 * through libopusenc's callbacks, the m4a through an AVIOContext over
 * pwrite/pread, which faststart's second pass reads back through io_open.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <opus/opusenc.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>

#include "vh_audio_int.h"
#include "vh_unused.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

struct opus_out {
	int		 fd;
	OggOpusComments	*comments;
	OggOpusEnc	*enc;
};

/* An AVIOContext over a descriptor at its own offset. */
struct fdio {
	int	fd;
	int64_t	pos, size;
};

struct aac_out {
	struct fdio	 out;
	AVFormatContext	*oc;
	AVCodecContext	*cc;
	AVStream	*st;
	AVFrame		*frame;
	AVPacket	*pkt;
	int		 fill;		/* samples waiting in frame */
	int64_t		 pts;
	bool		 header;
};

static int
opus_write(void *user, const unsigned char *p, opus_int32 len)
{
	int	fd = *(int *)user;
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, (size_t)len)) == -1) {
			if (errno == EINTR)
				continue;
			return (1);
		}
		p += n;
		len -= (opus_int32)n;
	}
	return (0);
}

static int
opus_close(void *user VH_UNUSED)
{
	return (0);
}

int
opus_out_open(struct opus_out **op, int fd, int bitrate, char **err)
{
	static const OpusEncCallbacks cb = { opus_write, opus_close };
	struct opus_out	*o;
	int		 e = 0;

	o = vh_xcalloc(1, sizeof(*o));
	o->fd = fd;
	if ((o->comments = ope_comments_create()) == NULL)
		vh_fatal("ope_comments_create");
	o->enc = ope_encoder_create_callbacks(&cb, &o->fd, o->comments,
	    VH_AUDIO_RATE, 1, 0, &e);
	if (o->enc == NULL) {
		*err = vh_xasprintf("cannot create the opus file: %s",
		    ope_strerror(e));
		opus_out_free(o);
		return (VH_EIO);
	}
	if ((e = ope_encoder_ctl(o->enc, OPUS_SET_BITRATE(bitrate))) != OPE_OK ||
	    (e = ope_encoder_ctl(o->enc, OPUS_SET_VBR(1))) != OPE_OK ||
	    (e = ope_encoder_ctl(o->enc, OPUS_SET_COMPLEXITY(10))) != OPE_OK ||
	    (e = ope_encoder_ctl(o->enc,
	    OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE))) != OPE_OK) {
		*err = vh_xasprintf("opus settings: %s", ope_strerror(e));
		opus_out_free(o);
		return (VH_EINVAL);
	}
	*op = o;
	return (0);
}

int
opus_out_write(struct opus_out *o, const float *pcm, int n, char **err)
{
	int	e;

	if ((e = ope_encoder_write_float(o->enc, pcm, n)) != OPE_OK) {
		*err = vh_xasprintf("opus encoding: %s", ope_strerror(e));
		return (VH_EIO);
	}
	return (0);
}

int
opus_out_finish(struct opus_out *o, char **err)
{
	int	e;

	if ((e = ope_encoder_drain(o->enc)) != OPE_OK) {
		*err = vh_xasprintf("opus encoding: %s", ope_strerror(e));
		return (VH_EIO);
	}
	return (0);
}

void
opus_out_free(struct opus_out *o)
{
	if (o == NULL)
		return;
	if (o->enc != NULL)
		ope_encoder_destroy(o->enc);
	if (o->comments != NULL)
		ope_comments_destroy(o->comments);
	free(o);
}

static int
fdio_read(void *opaque, uint8_t *buf, int n)
{
	struct fdio	*f = opaque;
	ssize_t		 r;

	do
		r = pread(f->fd, buf, (size_t)n, f->pos);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return (AVERROR(errno));
	if (r == 0)
		return (AVERROR_EOF);
	f->pos += r;
	return ((int)r);
}

static int
fdio_write(void *opaque, uint8_t *buf, int n)
{
	struct fdio	*f = opaque;
	ssize_t		 r;
	int		 done = 0;

	while (done < n) {
		r = pwrite(f->fd, buf + done, (size_t)(n - done), f->pos);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return (AVERROR(errno));
		f->pos += r;
		done += (int)r;
	}
	if (f->pos > f->size)
		f->size = f->pos;
	return (n);
}

static int64_t
fdio_seek(void *opaque, int64_t off, int whence)
{
	struct fdio	*f = opaque;

	whence &= ~AVSEEK_FORCE;
	if (whence == AVSEEK_SIZE)
		return (f->size);
	if (whence == SEEK_CUR)
		off += f->pos;
	else if (whence == SEEK_END)
		off += f->size;
	else if (whence != SEEK_SET)
		return (AVERROR(EINVAL));
	if (off < 0)
		return (AVERROR(EINVAL));
	f->pos = off;
	return (off);
}

static AVIOContext *
fdio_new(struct fdio *f, bool write)
{
	unsigned char	*buf;
	AVIOContext	*io;

	if ((buf = av_malloc(65536)) == NULL || (io = avio_alloc_context(buf,
	    65536, write, f, fdio_read, write ? fdio_write : NULL,
	    fdio_seek)) == NULL)
		vh_fatal("avio_alloc_context");
	return (io);
}

static void
fdio_free(AVIOContext **io)
{
	if (*io == NULL)
		return;
	avio_flush(*io);
	if ((*io)->opaque != NULL && !(*io)->write_flag)
		free((*io)->opaque);
	av_freep(&(*io)->buffer);
	avio_context_free(io);
}

/* faststart reopens its output to move the moov box up: a reader over
 * the same descriptor. Nothing else may be opened. */
static int
reopen_output(AVFormatContext *s, AVIOContext **pb, const char *url VH_UNUSED,
    int flags, AVDictionary **options VH_UNUSED)
{
	struct aac_out	*a = s->opaque;
	struct fdio	*f;

	if (a == NULL || flags != AVIO_FLAG_READ)
		return (AVERROR(EPERM));
	f = vh_xcalloc(1, sizeof(*f));
	*f = a->out;
	f->pos = 0;
	*pb = fdio_new(f, false);
	return (0);
}

static int
close_reopened(AVFormatContext *s VH_UNUSED, AVIOContext *pb)
{
	fdio_free(&pb);
	return (0);
}

int
aac_out_open(struct aac_out **ap, int fd, int bitrate, char **err)
{
	struct aac_out	*a;
	const AVCodec	*codec;
	AVDictionary	*opts = NULL;
	AVChannelLayout	 mono = AV_CHANNEL_LAYOUT_MONO;
	int		 rc, ret = VH_EIO;

	*ap = NULL;
	a = vh_xcalloc(1, sizeof(*a));
	a->out.fd = fd;
	rc = avformat_alloc_output_context2(&a->oc, NULL, "mp4", "out.m4a");
	if (rc < 0 || (codec = avcodec_find_encoder_by_name("aac")) == NULL) {
		*err = audio_averr(rc, "no mp4 muxer or aac encoder");
		ret = VH_ENOTSUP;
		goto fail;
	}
	a->oc->opaque = a;
	a->oc->io_open = reopen_output;
	a->oc->io_close2 = close_reopened;
	a->oc->flags |= AVFMT_FLAG_CUSTOM_IO;
	a->cc = avcodec_alloc_context3(codec);
	a->cc->sample_fmt = AV_SAMPLE_FMT_FLTP;
	a->cc->sample_rate = VH_AUDIO_RATE;
	if (av_channel_layout_copy(&a->cc->ch_layout, &mono) < 0)
		vh_fatal("av_channel_layout_copy");
	a->cc->bit_rate = bitrate;
	a->cc->profile = FF_PROFILE_AAC_LOW;
	a->cc->time_base = (AVRational){ 1, VH_AUDIO_RATE };
	if (a->oc->oformat->flags & AVFMT_GLOBALHEADER)
		a->cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if ((rc = avcodec_open2(a->cc, codec, NULL)) < 0) {
		*err = audio_averr(rc, "cannot open the aac encoder");
		goto fail;
	}
	a->st = avformat_new_stream(a->oc, NULL);
	a->st->time_base = a->cc->time_base;
	if ((rc = avcodec_parameters_from_context(a->st->codecpar, a->cc)) < 0) {
		*err = audio_averr(rc, "aac parameters");
		goto fail;
	}
	a->oc->pb = fdio_new(&a->out, true);
	av_dict_set(&opts, "movflags", "+faststart", 0);
	rc = avformat_write_header(a->oc, &opts);
	av_dict_free(&opts);
	if (rc < 0) {
		*err = audio_averr(rc, "cannot write the m4a header");
		goto fail;
	}
	a->header = true;
	a->frame = av_frame_alloc();
	a->frame->format = AV_SAMPLE_FMT_FLTP;
	a->frame->sample_rate = VH_AUDIO_RATE;
	a->frame->nb_samples = a->cc->frame_size;
	if (av_channel_layout_copy(&a->frame->ch_layout, &mono) < 0 ||
	    av_frame_get_buffer(a->frame, 0) < 0)
		vh_fatal("av_frame_get_buffer");
	a->pkt = av_packet_alloc();
	*ap = a;
	return (0);

fail:
	aac_out_free(a);
	return (ret);
}

/* Sends one frame (NULL: drains) and muxes what comes out. */
static int
encode(struct aac_out *a, AVFrame *f, char **err)
{
	int	rc;

	if ((rc = avcodec_send_frame(a->cc, f)) < 0) {
		*err = audio_averr(rc, "aac encoding");
		return (VH_EIO);
	}
	for (;;) {
		rc = avcodec_receive_packet(a->cc, a->pkt);
		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return (0);
		if (rc < 0) {
			*err = audio_averr(rc, "aac encoding");
			return (VH_EIO);
		}
		av_packet_rescale_ts(a->pkt, a->cc->time_base, a->st->time_base);
		a->pkt->stream_index = a->st->index;
		if ((rc = av_interleaved_write_frame(a->oc, a->pkt)) < 0) {
			*err = audio_averr(rc, "writing the m4a");
			return (VH_EIO);
		}
	}
}

static int
flush_frame(struct aac_out *a, char **err)
{
	int	rc;

	if (a->fill == 0)
		return (0);
	a->frame->nb_samples = a->fill;
	a->frame->pts = a->pts;
	a->pts += a->fill;
	a->fill = 0;
	rc = encode(a, a->frame, err);
	/* The encoder may keep a reference to the frame's buffer. */
	if (av_frame_make_writable(a->frame) < 0)
		vh_fatal("av_frame_make_writable");
	return (rc);
}

int
aac_out_write(struct aac_out *a, const float *pcm, int n, char **err)
{
	int	take, rc;

	while (n > 0) {
		take = a->cc->frame_size - a->fill;
		if (take > n)
			take = n;
		memcpy((float *)a->frame->data[0] + a->fill, pcm,
		    (size_t)take * sizeof(*pcm));
		a->fill += take;
		pcm += take;
		n -= take;
		if (a->fill == a->cc->frame_size &&
		    (rc = flush_frame(a, err)) != 0)
			return (rc);
	}
	return (0);
}

int
aac_out_finish(struct aac_out *a, char **err)
{
	int	rc;

	if ((rc = flush_frame(a, err)) != 0 || (rc = encode(a, NULL, err)) != 0)
		return (rc);
	a->header = false;
	if ((rc = av_write_trailer(a->oc)) < 0) {
		*err = audio_averr(rc, "finishing the m4a");
		return (VH_EIO);
	}
	return (0);
}

void
aac_out_free(struct aac_out *a)
{
	if (a == NULL)
		return;
	av_frame_free(&a->frame);
	av_packet_free(&a->pkt);
	avcodec_free_context(&a->cc);
	if (a->oc != NULL) {
		fdio_free(&a->oc->pb);
		avformat_free_context(a->oc);
	}
	free(a);
}
