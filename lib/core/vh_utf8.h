#ifndef VH_UTF8_H
#define VH_UTF8_H
#include <stddef.h>

/* Length of the longest prefix of buf that is well-formed UTF-8 with no NUL
 * (no overlongs, surrogates or code points past U+10FFFF). */
size_t	vh_utf8_valid(const unsigned char *buf, size_t len);

#endif
