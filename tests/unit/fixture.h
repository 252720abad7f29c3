#ifndef FIXTURE_H
#define FIXTURE_H
/*
 * The scratch directory of a unit test whose fixtures are made at test
 * time by real tools (espeak-ng, ffmpeg, sox, exiftool): made in /tmp,
 * filled by shell commands that fail the test when they fail, removed
 * with everything in it afterwards. Linked into every unit test by the
 * Makefile's unit rule; include after cmocka.h.
 */

/* The directory, once fx_mkdir has made it. */
extern char	fx_dir[64];

/* Makes /tmp/<prefix>_XXXXXX as fx_dir; -1 when it cannot. */
int		 fx_mkdir(const char *prefix);
/* Runs a shell command, failing the test when it does not exit 0. */
void		 fx_sh(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
/* fx_dir/name, in one of four buffers: up to four names per call. */
const char	*fx_at(const char *name);
/* A cmocka group teardown: removes fx_dir and what it holds. */
int		 fx_teardown(void **state);

#endif
