/*
 * Fuzzes request targets: the input is a percent-encoded path with an
 * optional query. It goes through the URL decoder and the query lookup
 * directly, then as the target of GET, PUT and DELETE requests through
 * the real server and route table (tests/fuzz/fuzz_server.h), where the
 * 404 and 405 problem replies carry the decoded path back: each answer
 * must be JSON in UTF-8 whatever bytes the path decoded to.
 */
#include "fuzz_server.h"

#include "vh_httpparse.h"
#include "vh_routes.h"

static void
fz_dispatch(struct vh_http_req *req, void *arg)
{
	vh_routes_dispatch(arg, req);
}

static const char *const names[] = { "key", "status", "q", "theme",
	"limit", "cursor", "" };

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "PUT", "DELETE" };
	char		*path = NULL, *query = NULL, *v, *req;
	size_t		 n, len;

	if (fz.base == NULL)
		fz_init("");
	if (size > 6000)
		return (0);
	if (vh_http_split_target((const char *)data, size, &path,
	    &query) == 0) {
		/* A decoded path is a C string: no NUL, no dot segment. */
		if (strlen(path) > size)
			abort();
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			v = vh_http_query_get(query, names[i]);
			free(v);
		}
	}
	free(path);
	free(query);

	/* As a request target, with the bytes a request line cannot hold
	 * cut off where they start. */
	for (n = 0; n < size && data[n] > 0x20 && data[n] < 0x7f; n++)
		;
	if (n == 0)
		return (0);
	/* One method per input, picked by its length: each server round trip
	 * costs more than the rest of the run, and the mutator varies the
	 * length anyway. */
	{
		size_t m = size % 3;

		len = strlen(methods[m]) + n + 64;
		if ((req = malloc(len)) == NULL)
			abort();
		len = (size_t)snprintf(req, len, "%s %.*s HTTP/1.1\r\nHost: f"
		    "\r\nContent-Length: 0\r\n\r\n", methods[m], (int)n,
		    (const char *)data);
		fz_serve((const uint8_t *)req, len, 0);
		free(req);
	}
	return (0);
}
