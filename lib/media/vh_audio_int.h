#ifndef VH_AUDIO_INT_H
#define VH_AUDIO_INT_H
/* Pieces of the audio pipeline shared between vh_audio*.c; not public. */
#include <stdint.h>

#include "vh_audio.h"

#define VH_AUDIO_RATE 48000

/* The descriptors are borrowed: read with pread, written from offset 0. */

/* A decoder yielding 48 kHz mono float, downmixed with equal weights. */
struct audio_dec;

int	audio_dec_open(struct audio_dec **, int fd,
	    const struct vh_audio_limits *, struct vh_audio_result *,
	    char **err);
/* >0: samples in *out (valid until the next call, caller may modify);
 * 0: end of stream; <0: a VH_E code with *err set. */
int	audio_dec_read(struct audio_dec *, float **out, char **err);
void	audio_dec_close(struct audio_dec *);

/* Ogg Opus writer (libopusenc). */
struct opus_out;

int	opus_out_open(struct opus_out **, int fd, int bitrate,
	    char **err);
int	opus_out_write(struct opus_out *, const float *, int n, char **err);
int	opus_out_finish(struct opus_out *, char **err);
void	opus_out_free(struct opus_out *);

/* AAC-LC in an MP4 (.m4a) with the moov atom first. */
struct aac_out;

int	aac_out_open(struct aac_out **, int fd, int bitrate,
	    char **err);
int	aac_out_write(struct aac_out *, const float *, int n, char **err);
int	aac_out_finish(struct aac_out *, char **err);
void	aac_out_free(struct aac_out *);

/* Waveform min/max per pixel, written as audiowaveform JSON. */
struct peaks;

struct peaks *peaks_new(int samples_per_pixel);
void	peaks_add(struct peaks *, const float *, int n);
int	peaks_write(struct peaks *, int fd, double gain,
	    int max_length, struct vh_audio_result *, char **err);
void	peaks_free(struct peaks *);

/* "description: libav's error text". */
char	*audio_averr(int averr, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int64_t	audio_now_us(void);

#endif
