#ifndef VH_AUDIO_H
#define VH_AUDIO_H
/*
 * Turns any accepted phone recording into the renditions staff play: Ogg
 * Opus (24 kbps voice), AAC-LC in .m4a (for Safari before 18.4), and
 * waveform peaks for the player, normalised to about -18 LUFS.
 */
#include <stdint.h>

#include "vh_sandbox.h"

/* A time range [start_ms, end_ms) of a recording. */
struct vh_audio_range {
	int64_t	start_ms, end_ms;
};

struct vh_audio_limits {
	int64_t	max_file_size;		/* bytes of input; default 1 GiB */
	int64_t	max_duration_ms;	/* default 2 h */
	int64_t	probesize;		/* bytes the demuxer may read to find
					 * its streams; default 5 MiB */
	double	target_lufs;		/* default -18 */
	double	max_true_peak_dbtp;	/* default -1 */
	double	max_gain_db;		/* cap on amplification; default 40 */
	int	opus_bitrate;		/* bits/s; default 24000 */
	int	aac_bitrate;		/* bits/s; default 64000 */
	int	peaks_samples_per_pixel; /* at 48 kHz; default 480 (100/s) */
	int	peaks_max_length;	/* pixels; samples_per_pixel doubles
					 * until the data fits; 0: no cap */
	/* Redaction: these ranges of the input are zeroed after resampling,
	 * before loudness, peaks and encoding. Borrowed; NULL: none. */
	const struct vh_audio_range *mute;
	size_t	nmute;
};

/* Microseconds spent in each stage (both decoding passes count). */
struct vh_audio_timing {
	int64_t	probe_us;	/* open, probe, find the stream */
	int64_t	decode_us;	/* demux, decode, resample, downmix */
	int64_t	loudness_us;	/* libebur128, before and after */
	int64_t	opus_us;	/* libopusenc, writing included */
	int64_t	aac_us;		/* aac encoder and mp4 muxer */
	int64_t	peaks_us;	/* min/max and the JSON */
	int64_t	total_us;
};

/* Plain data, so that it can cross the sandbox's pipe. */
struct vh_audio_result {
	int64_t	duration_ms;		/* of the decoded audio */
	double	loudness_in_lufs;	/* integrated, of the 48 kHz mono mix;
					 * -70 for silence */
	double	true_peak_in_dbtp;	/* of the mix, before the gain */
	double	gain_db;		/* applied to every sample */
	double	loudness_out_lufs;	/* measured on what was encoded */
	double	true_peak_out_dbtp;	/* true_peak_in_dbtp + gain_db */
	int	in_sample_rate;
	int	in_channels;
	char	in_format[32];		/* demuxer: "mov,mp4,m4a,3gp,3g2,mj2" */
	char	in_codec[32];		/* "aac", "amr_nb", "opus", ... */
	int	peaks_samples_per_pixel;
	int	peaks_length;		/* min/max pairs in the peaks file */
	struct vh_audio_timing timing;
};

/* What the container's header says, without decoding. */
struct vh_audio_probe {
	char	format[32];
	int	audio_streams;
	int	video_streams;
	int64_t	duration_ms;		/* -1 when the header does not say */
};

void	vh_audio_limits_default(struct vh_audio_limits *);

/*
 * Opens path (borrowed) with the container whitelist and reads only its
 * header. Returns 0, or VH_EINVAL/VH_ENOTSUP with *err set (caller frees)
 * when it is not a whitelisted container or cannot be parsed. Runs in the
 * caller's process: it parses untrusted bytes, but only a header.
 */
int	vh_audio_probe(const char *path, struct vh_audio_probe *, char **err)
	    __attribute__((warn_unused_result));
/* The same from an open descriptor (borrowed; read with pread). */
int	vh_audio_probe_fd(int fd, struct vh_audio_probe *, char **err)
	    __attribute__((warn_unused_result));

/*
 * Decodes in (whitelisted containers: mov/mp4/m4a/3gp, matroska/webm, ogg,
 * wav, mp3, amr, flac, aac; codecs: aac, opus, vorbis, amr_nb, amr_wb,
 * mp3, pcm_*, flac, speex), mixes it to 48 kHz mono with equal weights,
 * normalises it to limits->target_lufs with true peak at most
 * limits->max_true_peak_dbtp, and writes out_opus (Ogg Opus), out_m4a
 * (AAC-LC, faststart) and out_peaks (audiowaveform JSON, version 2,
 * 8 bits). The outputs are created or truncated; the caller writes them
 * to temporary names and renames. Any out_* may be NULL to skip it.
 * limits NULL means the defaults. Returns 0 and fills *res; or VH_EINVAL
 * (not decodable), VH_ENOTSUP (not a whitelisted format or codec),
 * VH_ETOOBIG (over a limit) or VH_EIO (writing failed), with *err set to a
 * reason for the uploader (caller frees). Runs in the calling process:
 * use vh_audio_transcode_sandboxed for untrusted input.
 */
int	vh_audio_transcode(const char *in, const char *out_opus,
	    const char *out_m4a, const char *out_peaks,
	    const struct vh_audio_limits *, struct vh_audio_result *res,
	    char **err) __attribute__((warn_unused_result));

/* The same on descriptors (borrowed; -1 skips an output). The outputs
 * must be empty and open for reading and writing (faststart rereads). */
int	vh_audio_transcode_fd(int in, int out_opus, int out_m4a, int out_peaks,
	    const struct vh_audio_limits *, struct vh_audio_result *res,
	    char **err) __attribute__((warn_unused_result));

/*
 * The same, in a confined child (lib/event/vh_sandbox.c) under sandbox limits
 * (NULL: defaults, named "decoder"): this process opens the files and
 * the child gets only their descriptors. A crash, forbidden system call
 * or timeout returns VH_EIO with *err like "decoder crashed (signal 11)"
 * or "decoder timed out after 900 s".
 */
int	vh_audio_transcode_sandboxed(const char *in, const char *out_opus,
	    const char *out_m4a, const char *out_peaks,
	    const struct vh_audio_limits *, const struct vh_sandbox_limits *,
	    struct vh_audio_result *res, char **err)
	    __attribute__((warn_unused_result));

/* The "audio" operation in the helper, and what it sets up first. */
void	vh_audio_child_init(void);
int	vh_audio_child(struct vh_sandbox_call *);

#endif
