#ifndef VH_TEXT_H
#define VH_TEXT_H
/* Text notes: strict UTF-8 validation and newline normalisation. */
#include <stddef.h>

/*
 * Reads the note at path (borrowed), at most max bytes. Requires strict
 * UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, no
 * truncated sequence and no NUL (PostgreSQL text cannot hold one). Drops
 * a leading byte-order mark and turns CRLF and lone CR into LF. Returns 0
 * with *out the NUL-terminated text (caller frees); or VH_ETOOBIG,
 * VH_EINVAL (with the byte offset in *err) or VH_EIO, with *err set
 * (caller frees).
 */
int	vh_text_validate(const char *path, size_t max, char **out, char **err)
	    __attribute__((warn_unused_result));

/*
 * Cleans a client's file name in place (f holds len bytes and a NUL):
 * keeps its last path component ('/' or '\\'), and "." or ".." become "".
 * VH_EINVAL if it holds a control character (CR, LF, ESC, NUL, ...).
 * Multipart parts and tus "filename" metadata go through it alike.
 */
int	vh_text_clean_filename(char *f, size_t len)
	    __attribute__((warn_unused_result));

#endif
