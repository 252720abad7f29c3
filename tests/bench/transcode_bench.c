/*
 * Times verhaal's audio pipeline on one file, stage by stage, for
 * tests/bench/transcode.sh: runs vh_audio_transcode_sandboxed, as the
 * media runners do (the child reports its stages' times; "wall" adds the
 * fork and the pipe), and prints one line of key=value pairs, times in
 * milliseconds.
 *
 * usage: transcode_bench IN OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vh_audio.h"
#include "vh_log.h"
#include "vh_xmalloc.h"

static double
ms(int64_t us)
{
	return ((double)us / 1000.0);
}

int
main(int argc, char **argv)
{
	struct vh_audio_result	 r;
	struct timespec		 t0, t1;
	char			*opus, *m4a, *peaks, *err = NULL;
	double			 wall;

	if (argc != 3) {
		fprintf(stderr, "usage: transcode_bench IN OUTDIR\n");
		return (2);
	}
	vh_log_set_sink(vh_log_stderr_sink, NULL);
	opus = vh_xasprintf("%s/out.opus", argv[2]);
	m4a = vh_xasprintf("%s/out.m4a", argv[2]);
	peaks = vh_xasprintf("%s/out.peaks.json", argv[2]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (vh_audio_transcode_sandboxed(argv[1], opus, m4a, peaks, NULL, NULL,
	    &r, &err) != 0) {
		fprintf(stderr, "transcode_bench: %s: %s\n", argv[1], err);
		return (1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	wall = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("duration_ms=%lld codec=%s probe=%.1f decode=%.1f loudness=%.1f "
	    "opus=%.1f aac=%.1f peaks=%.1f total=%.1f wall=%.1f\n",
	    (long long)r.duration_ms, r.in_codec, ms(r.timing.probe_us),
	    ms(r.timing.decode_us), ms(r.timing.loudness_us),
	    ms(r.timing.opus_us), ms(r.timing.aac_us), ms(r.timing.peaks_us),
	    ms(r.timing.total_us), wall);
	free(opus);
	free(m4a);
	free(peaks);
	return (0);
}
