/*
 * Fuzzes the whole request path: bytes of one client connection (heads,
 * Content-Length or chunked bodies, pipelined requests) go through the
 * real server (tests/fuzz/fuzz_server.h) into the real route table and
 * handlers.
 *
 * The first input byte picks the mode; the rest is the connection:
 *   bit 0  off: every request goes through vh_routes_dispatch, with its
 *          404/405, credential checks and public handlers (login);
 *          on: requests to the body routes (multipart entries, a resident
 *          upload link, tus creation and PATCH, login) go straight to
 *          their real handlers with a principal, as vh_routes_dispatch
 *          would after its credential lookup, which needs the database
 *          this fuzzer does not have. Other requests are routed as above.
 *   bit 1  the principal is a resident of a collection, else a field
 *          worker
 *   bit 2  the connection is written in pieces of sizes drawn from a PRNG
 *          seeded with the second byte, so bodies arrive split anywhere
 */
#include "fuzz_server.h"

#include "vh_api.h"
#include "vh_routes.h"

static bool	direct, resident;

/* The routes whose handlers read bodies; each must be in the real table
 * (checked at start) so that this list cannot drift from it. */
static const struct {
	enum vh_http_method	 method;
	const char		*pattern;
	vh_route_fn		 fn;
} body_routes[] = {
	{ VH_HTTP_POST, "/api/v1/entries", vh_api_entries_post },
	{ VH_HTTP_POST, "/api/v1/collections/{slug}/uploads",
	    vh_api_collection_upload },
	{ VH_HTTP_POST, "/api/v1/uploads", vh_api_tus_create },
	{ VH_HTTP_PATCH, "/api/v1/uploads/{id}", vh_api_tus_patch },
	{ VH_HTTP_POST, "/api/v1/session", vh_api_session_login },
};
#define NBODY (sizeof body_routes / sizeof body_routes[0])
static bool found[NBODY];

static void
check_route(enum vh_http_method m, const char *pattern, unsigned access,
    void *arg)
{
	(void)access;
	(void)arg;
	for (size_t i = 0; i < NBODY; i++)
		if (body_routes[i].method == m &&
		    strcmp(body_routes[i].pattern, pattern) == 0)
			found[i] = true;
}

static void
fz_dispatch(struct vh_http_req *req, void *arg)
{
	struct vh_ctx		*ctx = arg;
	struct vh_route_params	 params = { .n = 0 };
	struct vh_principal	 p = { .role = VH_ROLE_FIELDWORKER,
				    .via = VH_VIA_TOKEN, .account_id = 1 };

	if (direct) {
		for (size_t i = 0; i < NBODY; i++) {
			if (body_routes[i].method != vh_http_req_method(req) ||
			    vh_route_match(body_routes[i].pattern,
			    vh_http_req_path(req), &params) != 0)
				continue;
			if (resident) {
				p.role = VH_ROLE_RESIDENT;
				p.via = VH_VIA_LINK;
				p.account_id = 0;
				p.collection_id = 1;
				snprintf(p.collection, sizeof p.collection,
				    "fuzz");
			}
			snprintf(p.name, sizeof p.name, "fuzz");
			body_routes[i].fn(ctx, req, &params, &p);
			vh_route_params_clear(&params);
			return;
		}
	}
	vh_routes_dispatch(ctx, req);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz.base == NULL) {
		fz_init("");
		vh_routes_each(check_route, NULL);
		for (size_t i = 0; i < NBODY; i++)
			if (!found[i]) {
				fprintf(stderr, "fuzz_request: %s is not in "
				    "the route table\n", body_routes[i].pattern);
				abort();
			}
	}
	if (size < 2 || size > 300000)
		return (0);
	direct = data[0] & 1;
	resident = data[0] & 2;
	fz_serve(data + 2, size - 2, data[0] & 4 ? 0x9e3779b9u ^ data[1] : 0);
	return (0);
}
