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
#include "vh_xmalloc.h"

size_t
vh_text_utf8_valid(const unsigned char *s, size_t len)
{
	size_t		i = 0, n;
	unsigned char	c, lo, hi;

	while (i < len) {
		c = s[i];
		if (c == 0)
			return (i);
		if (c < 0x80) {
			i++;
			continue;
		}
		/* The first continuation byte's range depends on the lead:
		 * that is where overlongs, surrogates and > U+10FFFF die. */
		lo = 0x80;
		hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else
			return (i);
		if (n >= len - i)	/* sequence cut off by the end */
			return (i);
		if (s[i + 1] < lo || s[i + 1] > hi)
			return (i);
		for (size_t k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return (i);
		i += n + 1;
	}
	return (len);
}

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
	if ((bad = off + vh_text_utf8_valid(buf + off, len - off)) != len) {
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
