#ifndef VH_REDACT_H
#define VH_REDACT_H
/*
 * Redaction of an entry's text: replacing character ranges (names,
 * addresses) with "[…]" or a given replacement. Pure functions; the
 * route (vh_api_moderation.c) applies them in a transaction.
 */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vh_audio.h"

#define VH_REDACT_MARK "[\u2026]"	/* "[…]" */
#define VH_REDACT_MAX_SPANS 200

/* [start, end) in characters (Unicode code points) of the text. */
struct vh_redact_span {
	int64_t		 start, end;
	const char	*replacement;	/* borrowed; NULL: VH_REDACT_MARK */
};

/*
 * Reads a JSON list of {start, end, replacement?} into *spans (caller
 * frees; replacements borrow from list). Spans must not overlap, must
 * have start < end, and a replacement is at most 64 characters without
 * control characters. VH_EINVAL with *why (caller frees).
 */
int	vh_redact_spans_parse(const json_t *list, struct vh_redact_span **spans,
	    size_t *n, char **why) __attribute__((warn_unused_result));

/*
 * Applies spans to the UTF-8 text in; *out gets the new text (caller
 * frees). VH_EINVAL with *why when a span runs past the text.
 */
int	vh_redact_text(const char *in, const struct vh_redact_span *, size_t n,
	    char **out, char **why) __attribute__((warn_unused_result));

/*
 * Reads a JSON list of [start_ms, end_ms] pairs (start < end, at most
 * VH_REDACT_MAX_SPANS) into *ranges (caller frees). VH_EINVAL with *why.
 */
int	vh_redact_ranges_parse(const json_t *list, struct vh_audio_range **,
	    size_t *n, char **why) __attribute__((warn_unused_result));

#endif
