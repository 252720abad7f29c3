/* UTF-8 validation on its own, with no allocation and no logging, so that
 * the log sink can check what it writes without depending on vh_text. */
#include <stddef.h>

#include "vh_utf8.h"

size_t
vh_utf8_valid(const unsigned char *s, size_t len)
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
