/*
 * Text redaction. Offsets are code points, as a browser's JavaScript
 * string indices are not (UTF-16) but as a moderator counts characters
 * and as PostgreSQL's substr() does; the text is walked once, each span's
 * bytes replaced, in order of position.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vh_error.h"
#include "vh_redact.h"
#include "vh_xmalloc.h"

static int
by_start(const void *a, const void *b)
{
	const struct vh_redact_span *x = a, *y = b;

	return ((x->start > y->start) - (x->start < y->start));
}

static bool
valid_replacement(const char *s)
{
	size_t chars = 0;

	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return (false);
		if (((unsigned char)*s & 0xc0) != 0x80)
			chars++;
	}
	return (chars <= 64);
}

int
vh_redact_spans_parse(const json_t *list, struct vh_redact_span **spans,
    size_t *n, char **why)
{
	struct vh_redact_span	*s;
	json_t			*v, *rep;
	size_t			 i;

	*spans = NULL;
	*n = 0;
	if (!json_is_array(list) || json_array_size(list) > VH_REDACT_MAX_SPANS) {
		*why = vh_xasprintf("spans must be a list of at most %d "
		    "{start, end, replacement} objects", VH_REDACT_MAX_SPANS);
		return (VH_EINVAL);
	}
	s = vh_xcalloc(json_array_size(list) + 1, sizeof *s);
	json_array_foreach(list, i, v) {
		rep = json_object_get(v, "replacement");
		if (!json_is_integer(json_object_get(v, "start")) ||
		    !json_is_integer(json_object_get(v, "end")) ||
		    (rep != NULL && !json_is_string(rep))) {
			*why = vh_xasprintf("span %zu needs integer 'start' and "
			    "'end' and an optional string 'replacement'", i);
			goto fail;
		}
		s[i].start = json_integer_value(json_object_get(v, "start"));
		s[i].end = json_integer_value(json_object_get(v, "end"));
		s[i].replacement = json_string_value(rep);
		if (s[i].start < 0 || s[i].end <= s[i].start) {
			*why = vh_xasprintf("span %zu: need 0 <= start < end", i);
			goto fail;
		}
		if (s[i].replacement != NULL &&
		    !valid_replacement(s[i].replacement)) {
			*why = vh_xasprintf("span %zu: a replacement is at most 64 "
			    "characters, without control characters", i);
			goto fail;
		}
	}
	qsort(s, i, sizeof *s, by_start);
	for (size_t k = 1; k < i; k++) {
		if (s[k].start < s[k - 1].end) {
			*why = vh_xstrdup("spans must not overlap");
			goto fail;
		}
	}
	*spans = s;
	*n = i;
	return (0);
fail:
	free(s);
	return (VH_EINVAL);
}

int
vh_redact_text(const char *in, const struct vh_redact_span *spans, size_t n,
    char **out, char **why)
{
	size_t	 len = strlen(in), cap = len + 1, used = 0, k = 0;
	int64_t	 ch = 0;
	char	*buf;
	const char *p = in, *rep;

	/* Replacements may be longer than what they replace. */
	for (size_t i = 0; i < n; i++)
		cap += strlen(spans[i].replacement != NULL ?
		    spans[i].replacement : VH_REDACT_MARK);
	buf = vh_xmalloc(cap);
	while (*p != '\0' || k < n) {
		if (k < n && ch == spans[k].start) {
			rep = spans[k].replacement != NULL ?
			    spans[k].replacement : VH_REDACT_MARK;
			memcpy(buf + used, rep, strlen(rep));
			used += strlen(rep);
			/* Skip the span's characters. */
			while (ch < spans[k].end && *p != '\0') {
				p++;
				while (((unsigned char)*p & 0xc0) == 0x80)
					p++;
				ch++;
			}
			if (ch < spans[k].end)
				goto past;
			k++;
			continue;
		}
		if (*p == '\0')
			goto past;
		do
			buf[used++] = *p++;
		while (((unsigned char)*p & 0xc0) == 0x80);
		ch++;
	}
	buf[used] = '\0';
	*out = buf;
	return (0);
past:
	free(buf);
	*why = vh_xasprintf("a span ends past the text's %lld characters",
	    (long long)ch);
	return (VH_EINVAL);
}

int
vh_redact_ranges_parse(const json_t *list, struct vh_audio_range **ranges,
    size_t *n, char **why)
{
	struct vh_audio_range	*r;
	json_t			*v;
	size_t			 i;

	*ranges = NULL;
	*n = 0;
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > VH_REDACT_MAX_SPANS) {
		*why = vh_xasprintf("'mute' must be a list of 1 to %d "
		    "[start_ms, end_ms] pairs", VH_REDACT_MAX_SPANS);
		return (VH_EINVAL);
	}
	r = vh_xcalloc(json_array_size(list), sizeof *r);
	json_array_foreach(list, i, v) {
		if (json_array_size(v) != 2 ||
		    !json_is_integer(json_array_get(v, 0)) ||
		    !json_is_integer(json_array_get(v, 1)) ||
		    json_integer_value(json_array_get(v, 0)) < 0 ||
		    json_integer_value(json_array_get(v, 1)) <=
		    json_integer_value(json_array_get(v, 0))) {
			*why = vh_xasprintf("mute range %zu must be [start_ms, "
			    "end_ms] with 0 <= start_ms < end_ms", i);
			free(r);
			return (VH_EINVAL);
		}
		r[i].start_ms = json_integer_value(json_array_get(v, 0));
		r[i].end_ms = json_integer_value(json_array_get(v, 1));
	}
	*ranges = r;
	*n = i;
	return (0);
}
