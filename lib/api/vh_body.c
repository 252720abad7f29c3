/*
 * Whole small bodies. The pieces are appended to one buffer capped at
 * max; at the end the buffer is parsed as JSON, or as a URL-encoded form
 * turned into the same kind of object, so a plain HTML form and a script
 * reach a handler the same way.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vh_body.h"
#include "vh_httpparse.h"
#include "vh_xmalloc.h"

struct body {
	char		*buf;
	size_t		 len, max;
	vh_body_json_fn	 fn;
	void		(*free_arg)(void *);
	void		*arg;
};

static void
body_free(struct body *b, bool arg_too)
{
	if (arg_too && b->free_arg != NULL)
		b->free_arg(b->arg);
	free(b->buf);
	free(b);
}

static int
on_data(struct vh_http_req *req, const char *data, size_t len, void *arg)
{
	struct body *b = arg;

	if (len > b->max - b->len) {
		vh_http_respond_problem(req, 413, "body-too-large",
		    "the body may be at most %zu bytes", b->max);
		body_free(b, true);
		return (-1);
	}
	b->buf = vh_xreallocarray(b->buf, b->len + len + 1, 1);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	return (0);
}

/* "a=1&b=2" as {"a": "1", "b": "2"}; names are the ones the caller may
 * look for, decoded by the query helper. */
static json_t *
form_object(const char *text)
{
	json_t	*obj = json_object();
	char	*copy = vh_xstrdup(text), *tok, *save, *eq, *v;

	for (tok = strtok_r(copy, "&", &save); tok != NULL;
	    tok = strtok_r(NULL, "&", &save)) {
		if ((eq = strchr(tok, '=')) == NULL)
			continue;
		*eq = '\0';
		if ((v = vh_http_query_get(text, tok)) != NULL &&
		    json_object_get(obj, tok) == NULL)
			json_object_set_new(obj, tok, json_string(v));
		free(v);
	}
	free(copy);
	return (obj);
}

static void
on_end(struct vh_http_req *req, void *arg)
{
	struct body	*b = arg;
	const char	*ctype = vh_http_req_header(req, "Content-Type");
	json_t		*json;
	json_error_t	 jerr;

	if (b->buf == NULL)
		b->buf = vh_xstrdup("");
	b->buf[b->len] = '\0';
	if (ctype != NULL && strncasecmp(ctype,
	    "application/x-www-form-urlencoded", 33) == 0)
		json = form_object(b->buf);
	else if (b->len == strspn(b->buf, " \t\r\n"))
		json = json_object();
	else if ((json = json_loadb(b->buf, b->len, 0, &jerr)) == NULL ||
	    !json_is_object(json)) {
		vh_http_respond_problem(req, 400, "bad-json", "the body must be a "
		    "JSON object%s%s", json == NULL ? ": " : "",
		    json == NULL ? jerr.text : "");
		json_decref(json);
		body_free(b, true);
		return;
	}
	b->fn(req, json, b->arg);
	json_decref(json);
	body_free(b, false);
}

static void
on_abort(struct vh_http_req *req, void *arg)
{
	body_free(arg, true);
	vh_http_respond_error(req);
}

void
vh_body_read_json(struct vh_http_req *req, size_t max, vh_body_json_fn fn,
    void (*free_arg)(void *), void *arg)
{
	struct body *b = vh_xcalloc(1, sizeof *b);

	b->max = max;
	b->fn = fn;
	b->free_arg = free_arg;
	b->arg = arg;
	vh_http_req_read_body(req, (int64_t)max, on_data, on_end, on_abort, b);
}

void
vh_body_respond_json(struct vh_http_req *r, int status, json_t *j)
{
	char	*s;

	if (j == NULL) {
		/* json_pack refuses, say, a string that is not UTF-8. */
		vh_http_respond_internal(r, "no JSON value to send");
		return;
	}
	s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	if (s == NULL) {
		vh_http_respond_internal(r, "json_dumps failed");
		return;
	}
	vh_http_respond(r, status, "application/json", s, strlen(s));
	free(s);
}
