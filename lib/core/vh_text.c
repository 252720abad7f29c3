/*
 * Text notes. The file is read whole (it is small, and bounded by max),
 * checked byte by byte against the UTF-8 grammar of RFC 3629 section 4,
 * which by construction rules out overlong encodings, UTF-16 surrogates
 * and code points past U+10FFFF; then the BOM goes and line ends become
 * LF, so the stored text and its index see one form.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_error.h"
#include "vh_text.h"
#include "vh_utf8.h"
#include "vh_xmalloc.h"

int
vh_text_validate(const char *path, size_t max, char **out, char **err)
{
	FILE		*f;
	unsigned char	*buf = NULL;
	char		*text;
	size_t		 len, off, bad, j = 0;
	int		 ret;

	*out = NULL;
	*err = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		*err = vh_xasprintf("%s: %s", path, strerror(errno));
		return (errno == ENOENT ? VH_ENOENT : VH_EIO);
	}
	buf = vh_xmalloc(max + 1);
	len = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		*err = vh_xasprintf("%s: read error", path);
		ret = VH_EIO;
		goto out;
	}
	if (len > max) {
		*err = vh_xasprintf("the note is longer than %zu bytes", max);
		ret = VH_ETOOBIG;
		goto out;
	}
	off = len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	if ((bad = off + vh_utf8_valid(buf + off, len - off)) != len) {
		*err = vh_xasprintf(buf[bad] == 0 ? "the note contains a NUL "
		    "byte at offset %zu" : "the note is not valid UTF-8 "
		    "(byte %zu)", bad);
		ret = VH_EINVAL;
		goto out;
	}
	text = vh_xmalloc(len - off + 1);
	for (size_t i = off; i < len; i++) {
		if (buf[i] == '\r') {
			text[j++] = '\n';
			if (i + 1 < len && buf[i + 1] == '\n')
				i++;
		} else
			text[j++] = (char)buf[i];
	}
	text[j] = '\0';
	*out = text;
	ret = 0;
out:
	free(buf);
	fclose(f);
	return (ret);
}

/*
 * Keeps only the last path component of a client's filename: browsers
 * once sent whole Windows paths, and nothing downstream wants directories.
 * "." and ".." become "". Rejects control characters (also %-decoded).
 */
int
vh_text_clean_filename(char *f, size_t len)
{
	char	*base = f;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)f[i];

		if (c < 0x20 || c == 0x7f)
			return (VH_EINVAL);
		if (c == '/' || c == '\\')
			base = f + i + 1;
	}
	memmove(f, base, strlen(base) + 1);
	if (strcmp(f, ".") == 0 || strcmp(f, "..") == 0)
		f[0] = '\0';
	return (0);
}
