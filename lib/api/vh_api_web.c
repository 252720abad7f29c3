/*
 * The web app: the pages and assets that contrib/web builds (Vite) into
 * the folder named by web_root, served at / on the API's own origin.
 *
 * - /assets/<name>: content-hashed by the build, so cached for a year
 *   as immutable; any other file is HTML and revalidated (no-cache).
 * - The staff app's own routes (listed in vh_routes.c, e.g. /zoeken)
 *   all get index.html, whose script reads the path (history API); no
 *   other path does, so /api/ never answers with a page.
 * - The build writes a .br and a .gz beside every text file; the one the
 *   client accepts is sent as it is, so nothing compresses on the loop.
 * - Every response carries the pages' Content-Security-Policy: scripts,
 *   styles and connections only from this origin, images and audio also
 *   from blob: and data: URLs (the waveform and the gallery make them),
 *   never framed.
 *
 * open() and fstat() of the file run on the pool, as every file system
 * call of a request does; the loop only sends the descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vh_api.h"
#include "vh_unused.h"
#include "vh_ctx.h"
#include "vh_config.h"
#include "vh_error.h"
#include "vh_http.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_xmalloc.h"

#define WEB_CSP "default-src 'self'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data: blob:; media-src 'self' blob:; " \
	"connect-src 'self'; font-src 'self'; object-src 'none'; " \
	"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

enum web_kind { WEB_PAGE, WEB_ASSET };

struct web_job {
	struct vh_http_req	*req;
	enum web_kind		 kind;
	char			*path;		/* in web_root, uncompressed */
	bool			 br, gzip;	/* what the client accepts */
	/* results */
	int			 fd;
	int64_t			 size;
	const char		*encoding;	/* "br", "gzip" or NULL */
	char			 etag[96];
	int			 rc;
};

static const struct {
	const char	*ext;
	const char	*type;
	bool		 text;		/* the build may have compressed it */
} types[] = {
	{ ".html", "text/html; charset=utf-8", true },
	{ ".js", "text/javascript; charset=utf-8", true },
	{ ".css", "text/css; charset=utf-8", true },
	{ ".json", "application/json", true },
	{ ".map", "application/json", true },
	{ ".svg", "image/svg+xml", true },
	{ ".txt", "text/plain; charset=utf-8", true },
	{ ".png", "image/png", false },
	{ ".jpg", "image/jpeg", false },
	{ ".webp", "image/webp", false },
	{ ".ico", "image/x-icon", false },
	{ ".woff2", "font/woff2", false },
	{ ".woff", "font/woff", false },
};

static int
type_of(const char *name)
{
	size_t n = strlen(name), e;

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		e = strlen(types[i].ext);
		if (n > e && strcmp(name + n - e, types[i].ext) == 0)
			return ((int)i);
	}
	return (-1);
}

/* A name the build makes: letters, digits, '.', '_', '-', not starting
 * with a dot (so never "..", never hidden). */
static bool
name_ok(const char *name)
{
	if (name == NULL || name[0] == '\0' || name[0] == '.' ||
	    strlen(name) > 200)
		return (false);
	for (const char *s = name; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-'))
			return (false);
	return (true);
}

/* Does Accept-Encoding accept coding (RFC 9110: a token, q=0 refuses)? */
static bool
accepts(const char *ae, const char *coding)
{
	size_t		 n = strlen(coding), len;
	const char	*p = ae, *q;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t,");
		len = strcspn(p, " \t;,");
		if (len == n && strncasecmp(p, coding, n) == 0) {
			q = p + len;
			q += strspn(q, " \t");
			if (*q != ';')
				return (true);
			q = strstr(q, "q=");
			return (q == NULL || strtod(q + 2, NULL) > 0);
		}
		p = strchr(p, ',');
	}
	return (false);
}

static int
open_regular(const char *path, int *fd, struct stat *st)
{
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return (errno == ENOENT || errno == ENOTDIR ? VH_ENOENT : VH_EIO);
	if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(*fd);
		*fd = -1;
		return (VH_ENOENT);
	}
	return (0);
}

static void
web_work(struct vh_worker *w VH_UNUSED, void *arg)
{
	struct web_job	*j = arg;
	struct stat	 st;
	char		*alt = NULL;

	/* The compressed copies first, as the client prefers them. */
	if (j->br) {
		alt = vh_xasprintf("%s.br", j->path);
		if (open_regular(alt, &j->fd, &st) == 0)
			j->encoding = "br";
		free(alt);
	}
	if (j->fd < 0 && j->gzip) {
		alt = vh_xasprintf("%s.gz", j->path);
		if (open_regular(alt, &j->fd, &st) == 0)
			j->encoding = "gzip";
		free(alt);
	}
	if (j->fd < 0 && (j->rc = open_regular(j->path, &j->fd, &st)) != 0)
		return;
	j->size = (int64_t)st.st_size;
	/* Size and modification time name this version of the file; the
	 * coding is part of it, as the bytes differ. */
	snprintf(j->etag, sizeof j->etag, "\"%jx-%jx%s%s\"",
	    (uintmax_t)st.st_size, (uintmax_t)st.st_mtim.tv_sec * 1000000000u +
	    (uintmax_t)st.st_mtim.tv_nsec, j->encoding != NULL ? "-" : "",
	    j->encoding != NULL ? j->encoding : "");
}

/*
 * The werkbezoek page runs ODK Web Forms: its XPath engine is
 * WebAssembly (compiling it needs 'wasm-unsafe-eval', which allows no
 * JavaScript eval), photos are scaled down (orx:max-pixels) in a worker
 * it starts from a blob: URL, and its components inject their own style
 * elements.
 * Only that page's document gets these two allowances.
 */
#define WEB_CSP_WERKBEZOEK "default-src 'self'; script-src 'self' " \
	"'wasm-unsafe-eval'; worker-src 'self' blob:; " \
	"style-src 'self' 'unsafe-inline'; " \
	"img-src 'self' data: blob:; media-src 'self' blob:; " \
	"connect-src 'self'; font-src 'self'; object-src 'none'; " \
	"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

void
vh_api_web_headers(struct vh_http_req *req)
{
	vh_http_add_header(req, "Content-Security-Policy", "%s",
	    strcmp(vh_http_req_path(req), "/werkbezoek") == 0 ?
	    WEB_CSP_WERKBEZOEK : WEB_CSP);
	vh_http_add_header(req, "Referrer-Policy", "same-origin");
	vh_http_add_header(req, "X-Frame-Options", "DENY");
}

static void
web_done(void *arg)
{
	struct web_job	*j = arg;
	const char	*inm, *name = strrchr(j->path, '/');
	int		 t = type_of(name != NULL ? name + 1 : j->path);

	vh_api_web_headers(j->req);
	if (j->rc == VH_ENOENT) {
		vh_http_add_header(j->req, "Cache-Control", "no-store");
		vh_http_respond_problem(j->req, 404, "not-found", "%s",
		    j->kind == WEB_PAGE ? "this page of the web app is not "
		    "installed (build it with make, or set web_root)" :
		    "the web app has no such file");
		goto out;
	}
	if (j->rc != 0) {
		vh_log_warn("req=%s web: %s", vh_http_req_id(j->req), j->path);
		vh_http_respond_problem(j->req, 500, "storage",
		    "the web app's files cannot be read");
		goto out;
	}
	vh_http_add_header(j->req, "Cache-Control", "%s", j->kind == WEB_ASSET ?
	    "public, max-age=31536000, immutable" : "no-cache");
	vh_http_add_header(j->req, "ETag", "%s", j->etag);
	if (t >= 0 && types[t].text)
		vh_http_add_header(j->req, "Vary", "Accept-Encoding");
	if ((inm = vh_http_req_header(j->req, "If-None-Match")) != NULL &&
	    strstr(inm, j->etag) != NULL) {
		vh_http_respond(j->req, 304, NULL, NULL, 0);
		goto out;
	}
	if (j->encoding != NULL)
		vh_http_add_header(j->req, "Content-Encoding", "%s", j->encoding);
	vh_http_respond_fd(j->req, 200, t >= 0 ? types[t].type :
	    "application/octet-stream", j->fd, 0, j->size);
	j->fd = -1;		/* taken */
out:
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j);
}

static void
serve(struct vh_ctx *ctx, struct vh_http_req *req, enum web_kind kind,
    const char *name)
{
	const char	*root = vh_ctx_config(ctx)->web_root;
	const char	*ae = vh_http_req_header(req, "Accept-Encoding");
	struct web_job	*j;
	int		 t = type_of(name);

	j = vh_xcalloc(1, sizeof *j);
	j->req = req;
	j->kind = kind;
	j->fd = -1;
	j->path = vh_xasprintf("%s/%s%s", root[0] != '\0' ? root : ".",
	    kind == WEB_ASSET ? "assets/" : "", name);
	if (ae != NULL && t >= 0 && types[t].text) {
		j->br = accepts(ae, "br");
		j->gzip = accepts(ae, "gzip");
	}
	if (root[0] == '\0')
		j->rc = VH_ENOENT;	/* no web app configured */
	if (j->rc != 0) {
		web_done(j);
		return;
	}
	vh_pool_submit(ctx->pool, web_work, web_done, j);
}

void
vh_api_web_page(struct vh_ctx *ctx, struct vh_http_req *req, const char *page)
{
	serve(ctx, req, WEB_PAGE, page);
}

void
vh_api_web_app(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *p VH_UNUSED)
{
	vh_api_web_page(ctx, req, "index.html");
}

void
vh_api_web_werkbezoek(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params VH_UNUSED,
    const struct vh_principal *p VH_UNUSED)
{
	vh_api_web_page(ctx, req, "werkbezoek.html");
}

void
vh_api_web_asset(struct vh_ctx *ctx, struct vh_http_req *req,
    const struct vh_route_params *params,
    const struct vh_principal *p VH_UNUSED)
{
	const char *name = vh_route_param(params, "file");

	if (!name_ok(name) || type_of(name) < 0) {
		vh_api_web_headers(req);
		vh_http_respond_problem(req, 404, "not-found",
		    "the web app has no such file");
		return;
	}
	serve(ctx, req, WEB_ASSET, name);
}
