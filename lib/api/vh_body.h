#ifndef VH_BODY_H
#define VH_BODY_H
/* Small request bodies (a JSON object, a form) read whole into memory for
 * handlers that need all of it before they can act. Loop thread. */
#include <stddef.h>

#include <jansson.h>

#include "vh_http.h"

/*
 * Called once the whole body arrived: json is the body parsed as a JSON
 * object (an empty body gives {}; an application/x-www-form-urlencoded
 * body gives an object of its string fields), borrowed until the call
 * returns. The callback must respond. Bodies over max, malformed JSON or
 * non-objects are answered by this module (413, 400) and never reach it.
 */
typedef void (*vh_body_json_fn)(struct vh_http_req *, json_t *json,
	    void *arg);

/* Reads the body; arg is handed back to fn (and to free_arg, which may be
 * NULL, when the request ends without fn running). */
void	vh_body_read_json(struct vh_http_req *, size_t max, vh_body_json_fn fn,
	    void (*free_arg)(void *), void *arg);

/* Steals json; a NULL json (a failed json_pack) or one that cannot be
 * dumped is answered 500 with a fixed body. */
void	vh_body_respond_json(struct vh_http_req *, int status, json_t *);

#endif
