#ifndef VH_APIJOB_H
#define VH_APIJOB_H
/*
 * The plumbing every API job shares: the first error it met (later ones
 * are consequences), the worker's database or a 503, one mapping from
 * VH_E* codes to HTTP statuses, a stored file to serve, and the reply
 * on the loop thread (the problem, or the JSON or file).
 */
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "vh_http.h"

struct vh_worker;
struct vh_blobstore;

/* The first error of a job; zeroed means none. */
struct vh_api_err {
	int	 status;
	char	*type;		/* problem slug */
	char	*detail;	/* our words, for the client */
};

/* Records status/type/detail unless an error is recorded already; takes
 * detail either way. */
void	vh_api_err_set(struct vh_api_err *, int status, const char *type,
	    char *detail);
/*
 * A database failure: err (libpq's text, freed here) goes to the log with
 * the request id and what was being done; the client gets 503
 * database-unavailable with detail (our words, copied).
 */
void	vh_api_err_db(struct vh_api_err *, struct vh_http_req *,
	    const char *what, char *err, const char *detail);
void	vh_api_err_clear(struct vh_api_err *);

/* Worker: the worker's connection, or NULL with a 503 recorded (as
 * vh_api_err_db, detail NULL for the default words). */
PGconn	*vh_api_db(struct vh_worker *, struct vh_http_req *,
	    struct vh_api_err *, const char *detail);

/* The words of a 503 for a change that was rolled back. */
#define VH_API_DB_UNCHANGED	"the database is unavailable; nothing was " \
				"changed, try again shortly"

/*
 * Worker: runs change(req, db, e, arg) in one transaction on the worker's
 * connection, which owns it: committed when change recorded no error in
 * e, else rolled back (change only records). No connection, or a BEGIN
 * or COMMIT that failed, is recorded as vh_api_err_db with what and
 * detail. 0, or VH_EDB when e holds an error.
 */
typedef void	vh_api_change_fn(struct vh_http_req *, PGconn *,
		    struct vh_api_err *, void *);
int	vh_api_tx(struct vh_worker *, struct vh_http_req *, struct vh_api_err *,
	    const char *what, const char *detail, vh_api_change_fn *, void *);

/*
 * Worker: the one row sql ($1 the media id) gives for media id, once the
 * access rule (vh_access_media) lets who make this use of it (a rendition
 * name, NULL for the file itself); the read handlers of stored files ask
 * it first. NULL with e set: 404 when there is no such media or who may
 * not use it (the same answer), 404 norow (our words) when sql gives no
 * row, 503 when the database failed. *dbp is the worker's connection for
 * what follows. Caller PQclears.
 */
struct vh_principal;
PGresult *vh_api_media_row(struct vh_worker *, struct vh_http_req *,
	    struct vh_api_err *, const struct vh_principal *who, const char *id,
	    const char *use, const char *sql, const char *norow, PGconn **dbp);

/* The HTTP status that answers a VH_E* code (0 gives 200). */
int	vh_api_status(int rc);
/* Its problem slug ("not-found", "conflict", ...). */
const char *vh_api_status_type(int status);

/* A stored blob to serve: fd is -1 until opened. */
struct vh_api_file {
	int	 fd;
	int64_t	 size;
	char	 sha256[65];
	char	*filename;	/* owned; the download's name */
};

void	vh_api_file_init(struct vh_api_file *);
/* Worker: opens blob sha256 for f, named filename (copied); 404 "the file
 * is not in the store" into e when it is missing. 0 or VH_ENOENT. */
int	vh_api_file_open(struct vh_api_file *, struct vh_blobstore *,
	    const char *sha256, const char *filename, struct vh_api_err *);
/* Closes and frees; the struct may be opened again. */
void	vh_api_file_clear(struct vh_api_file *);

/* Loop: answers e's problem (500 when none is recorded, a bug). */
void	vh_api_reply_problem(struct vh_http_req *, const struct vh_api_err *);
/* Loop: answers e's problem when one is recorded, else json (a reference
 * is taken from the caller) with ok_status. */
void	vh_api_reply_json(struct vh_http_req *, const struct vh_api_err *,
	    int ok_status, json_t *);
/* Loop: answers e's problem, else serves f (its descriptor passes to the
 * server) as ctype with disposition ("inline" or "attachment"). */
void	vh_api_reply_file(struct vh_http_req *, const struct vh_api_err *,
	    struct vh_api_file *, const char *ctype, const char *disposition);

#endif
