/*
 * Read routes answered by SQL. A job carries a statement text and its
 * parameters to a worker; the worker runs it on its own connection and
 * keeps the single value (JSON), or streams the result of the query the
 * value names: through COPY … TO STDOUT (CSV exports, quoted by
 * PostgreSQL itself), or row by row in libpq's single-row mode (JSON
 * lists such as the GeoJSON export, joined here; workbooks, written by
 * libxlsxwriter in its constant-memory mode into a temporary file that
 * is streamed and removed; ZIP archives, written by libarchive straight
 * into the stream, the files read from the blob store piece by piece).
 *
 * A streamed result never lies whole in memory. The worker writes it into
 * its end of a socketpair in pieces of STREAM_PIECE bytes; the loop reads
 * the other end and passes each piece on as one chunk of a chunked
 * response. When more than STREAM_HIGH bytes wait for the client, the loop
 * stops reading, the socketpair fills and the worker's write blocks: the
 * client's pace is the database's. A client that stops reading for
 * STREAM_STALL_S seconds times the worker's write out (and is dropped by
 * the loop); one that goes away closes the socketpair under it. Either
 * way the worker cancels the query.
 * Until the first piece leaves the worker nothing is sent, so an error in
 * the first STREAM_PIECE bytes is still a proper problem response; a later
 * one cuts the body short (no last chunk), which clients see as an error.
 *
 * Bad input that only the database can judge (SQLSTATE class 22) is 400.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <event2/event.h>
#include <xlsxwriter.h>

#include "vh_apijob.h"
#include "vh_apiq.h"
#include "vh_blobstore.h"
#include "vh_audit.h"
#include "vh_ctx.h"
#include "vh_db.h"
#include "vh_dbworker.h"
#include "vh_error.h"
#include "vh_http.h"
#include "vh_httpparse.h"
#include "vh_log.h"
#include "vh_pool.h"
#include "vh_unused.h"
#include "vh_xmalloc.h"

#define STREAM_PIECE	(64 * 1024)	/* worker's buffer, loop's read */
#define STREAM_HIGH	(256 * 1024)	/* queued for the client: pause */
#define STREAM_LOW	(64 * 1024)	/* drained to this: resume */
#define STREAM_STALL_S	60		/* client took nothing this long */

struct apiq_job {
	struct vh_ctx		*ctx;
	struct vh_http_req	*req;
	struct vh_apiq		 q;
	struct vh_api_err	 err;		/* the first error */
	char			*body;		/* JSON value, or stream piece */
	size_t			 len, cap;

	/* Streaming: the worker writes wfd, the loop reads rfd. */
	bool			 stream;
	int			 wfd, rfd;
	bool			 sent;		/* worker: a piece went out */
	bool			 cut;		/* worker: client gone or stalled */
	struct event		*rev, *tick;
	int			 paused_s;	/* loop: seconds without drain */
	bool			 started, eof, done, aborted;
	int64_t			 rows;		/* worker: rows streamed */
	struct archive		*zip;		/* worker: ZIP being written */
};

static void	stream_finish(struct apiq_job *);
static void	stream_abort(struct apiq_job *);

static void
append(struct apiq_job *j, const char *s, size_t n)
{
	if (j->len + n + 1 > j->cap) {
		j->cap = (j->len + n + 1) * 2;
		j->body = vh_xreallocarray(j->body, j->cap, 1);
	}
	memcpy(j->body + j->len, s, n);
	j->len += n;
	j->body[j->len] = '\0';
}

/* Records an error (unless one is already) with the problem slug of
 * its status. */
static void
fail(struct apiq_job *j, int status, char *detail)
{
	vh_api_err_set(&j->err, status, vh_api_status_type(status), detail);
}

/* Sets the status for a failed statement. */
static void
failed(struct apiq_job *j, PGresult *r, const char *msg)
{
	const char *state = r != NULL ? vh_db_sqlstate(r) : "";

	if (j->err.status != 0)
		return;
	/* The database's own messages quote the values sent (and, for a
	 * key, its bytes): the client gets our words and the rule's name. */
	if (strcmp(state, "22023") == 0 && PQresultErrorField(r,
	    PG_DIAG_MESSAGE_PRIMARY) != NULL) {
		/* invalid_parameter_value: our schema's RAISE (a cursor). */
		fail(j, 400, vh_xstrdup(PQresultErrorField(r,
		    PG_DIAG_MESSAGE_PRIMARY)));
	} else if (strncmp(state, "22", 2) == 0) {
		fail(j, 400, vh_xstrdup("a value in the request has the wrong "
		    "form (a date, a number or a code); the API reference "
		    "gives each parameter's form"));
	} else if (strcmp(state, "23505") == 0 && j->q.conflict != NULL) {
		fail(j, 409, vh_xstrdup(j->q.conflict));
	} else if (strncmp(state, "23", 2) == 0) {
		const char *c = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);

		fail(j, 422, c != NULL ? vh_xasprintf("the request breaks the "
		    "rule %s of the stored data", c) : vh_xstrdup("the request "
		    "breaks a rule of the stored data"));
	} else
		vh_api_err_db(&j->err, j->req, "query", vh_xstrdup(msg),
		    "the database could not answer");
}

/* Worker: sends the buffered piece to the loop. False once the client
 * is gone or has stalled. */
static bool
flush(struct apiq_job *j)
{
	size_t	off = 0;
	ssize_t	n;

	while (!j->cut && off < j->len) {
		n = send(j->wfd, j->body + off, j->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* EPIPE: the loop closed its end; EAGAIN: SO_SNDTIMEO. */
			vh_log_info("req=%s export stopped: %s",
			    vh_http_req_id(j->req), errno == EAGAIN ?
			    "the client stopped reading" : "the client went away");
			j->cut = true;
			break;
		}
		off += (size_t)n;
		j->sent = true;
	}
	j->len = 0;
	return (!j->cut);
}

/* Worker: adds to the stream, sending whenever a piece is full. */
static bool
put(struct apiq_job *j, const char *s, size_t n)
{
	append(j, s, n);
	return (j->len < STREAM_PIECE || flush(j));
}

/* Worker: CSV into the stream, or into the open ZIP member. */
static bool
emit(struct apiq_job *j, const char *s, size_t n)
{
	if (j->zip == NULL)
		return (put(j, s, n));
	return (archive_write_data(j->zip, s, n) == (la_ssize_t)n);
}

/* Worker: stops a query whose rows are no longer wanted. */
static void
cancel(PGconn *db)
{
	PGcancel	*c = PQgetCancel(db);
	char		 errbuf[256];

	if (c != NULL) {
		if (PQcancel(c, errbuf, sizeof errbuf) == 0)
			vh_log_warnx("cancelling an export: %s", errbuf);
		PQfreeCancel(c);
	}
}

/* COPY (query) TO STDOUT into the stream, after a UTF-8 BOM. */
static void
copy_csv(struct apiq_job *j, PGconn *db, const char *query)
{
	char		*sql, *buf;
	PGresult	*r;
	int		 n;
	bool		 more = true;

	sql = vh_xasprintf("COPY (%s) TO STDOUT WITH (%s)", query,
	    j->q.csv_options != NULL ? j->q.csv_options : "FORMAT csv, HEADER");
	r = PQexec(db, sql);
	free(sql);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		failed(j, r, PQerrorMessage(db));
		PQclear(r);
		return;
	}
	PQclear(r);
	if (!j->q.csv_no_bom)
		emit(j, "\xef\xbb\xbf", 3);	/* Excel reads UTF-8 only with it */
	while ((n = PQgetCopyData(db, &buf, 0)) > 0) {
		if (more && !emit(j, buf, (size_t)n)) {
			more = false;
			cancel(db);
		}
		PQfreemem(buf);
	}
	while ((r = PQgetResult(db)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && more)
			failed(j, r, PQerrorMessage(db));
		else if (PQresultStatus(r) == PGRES_COMMAND_OK)
			j->rows = strtoll(PQcmdTuples(r), NULL, 10);
		PQclear(r);
	}
}

/* The query's rows (one JSON text each) into the stream, joined with
 * commas between q.json_head and q.json_tail. */
static void
json_rows(struct apiq_job *j, PGconn *db, const char *query)
{
	PGresult	*r;
	bool		 more = true, first = true;

	if (!PQsendQuery(db, query) || !PQsetSingleRowMode(db)) {
		failed(j, NULL, PQerrorMessage(db));
		while ((r = PQgetResult(db)) != NULL)
			PQclear(r);
		return;
	}
	if (j->q.json_head != NULL)
		put(j, j->q.json_head, strlen(j->q.json_head));
	while ((r = PQgetResult(db)) != NULL) {
		switch (PQresultStatus(r)) {
		case PGRES_SINGLE_TUPLE:
			if (!more || PQgetisnull(r, 0, 0))
				break;
			if ((!first && !put(j, ",", 1)) ||
			    !put(j, PQgetvalue(r, 0, 0),
			    (size_t)PQgetlength(r, 0, 0))) {
				more = false;
				cancel(db);
			}
			first = false;
			j->rows++;
			break;
		case PGRES_TUPLES_OK:
			break;
		default:
			if (more)
				failed(j, r, PQerrorMessage(db));
			more = false;
			break;
		}
		PQclear(r);
	}
	if (more && j->err.status == 0 && j->q.json_tail != NULL)
		put(j, j->q.json_tail, strlen(j->q.json_tail));
}

/* Column types of the workbook's rows (pg_type.h is the server's). */
#define OID_BOOL	16
#define OID_INT8	20
#define OID_INT2	21
#define OID_INT4	23
#define OID_FLOAT4	700
#define OID_FLOAT8	701
#define OID_NUMERIC	1700
#define OID_TIMESTAMP	1114
#define XLSX_MAX_STRING	32767	/* bytes Excel holds in a cell */

/* One cell as its column's type says; false when the sheet refuses it. */
static bool
xlsx_cell(lxw_worksheet *ws, lxw_format *datef, lxw_row_t row,
    lxw_col_t col, PGresult *r, int field)
{
	const char	*v = PQgetvalue(r, 0, field);
	lxw_datetime	 dt = { 0 };
	char		*cut = NULL;
	size_t		 n;
	lxw_error	 e;

	if (PQgetisnull(r, 0, field))
		return (true);
	switch (PQftype(r, field)) {
	case OID_INT2: case OID_INT4: case OID_INT8: case OID_FLOAT4:
	case OID_FLOAT8: case OID_NUMERIC:
		e = worksheet_write_number(ws, row, col, strtod(v, NULL), NULL);
		break;
	case OID_BOOL:
		e = worksheet_write_boolean(ws, row, col, v[0] == 't', NULL);
		break;
	case OID_TIMESTAMP:
		if (sscanf(v, "%d-%d-%d %d:%d:%lf", &dt.year, &dt.month,
		    &dt.day, &dt.hour, &dt.min, &dt.sec) == 6) {
			e = worksheet_write_datetime(ws, row, col, &dt, datef);
			break;
		}
		/* FALLTHROUGH */
	default:
		if ((n = strlen(v)) > XLSX_MAX_STRING) {
			/* Cut at a character boundary, not inside one. */
			n = XLSX_MAX_STRING;
			while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
				n--;
			v = cut = vh_xstrndup(v, n);
		}
		e = worksheet_write_string(ws, row, col, v, NULL);
		free(cut);
		break;
	}
	return (e == LXW_NO_ERROR);
}

/* The query's rows as one sheet, then the file into the stream. */
static void
xlsx_rows(struct apiq_job *j, PGconn *db, const char *query)
{
	char			 path[] = P_tmpdir "/verhaal-xlsx-XXXXXX";
	lxw_workbook_options	 o = { .constant_memory = LXW_TRUE,
				    .tmpdir = (char *)P_tmpdir };
	lxw_workbook		*wb = NULL;
	lxw_worksheet		*ws;
	lxw_format		*datef;
	PGresult		*r;
	lxw_row_t		 row = 0;
	bool			 ok = true, head = false;
	char			 buf[STREAM_PIECE];
	ssize_t			 n;
	int			 fd;

	if ((fd = mkstemp(path)) == -1) {
		vh_log_warn("req=%s workbook file", vh_http_req_id(j->req));
		fail(j, 503, vh_xstrdup("the workbook could not be written"));
		return;
	}
	close(fd);
	wb = workbook_new_opt(path, &o);
	ws = wb != NULL ? workbook_add_worksheet(wb, "entries") : NULL;
	if (ws == NULL) {
		ok = false;
		goto close;
	}
	datef = workbook_add_format(wb);
	format_set_num_format(datef, "yyyy-mm-dd hh:mm:ss");
	if (!PQsendQuery(db, query) || !PQsetSingleRowMode(db)) {
		failed(j, NULL, PQerrorMessage(db));
		while ((r = PQgetResult(db)) != NULL)
			PQclear(r);
		goto close;
	}
	while ((r = PQgetResult(db)) != NULL) {
		ExecStatusType st = PQresultStatus(r);

		if ((st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) &&
		    !head && ok) {
			/* Column names from the first result, rows or not. */
			for (int c = 0; c < PQnfields(r) && ok; c++)
				ok = worksheet_write_string(ws, 0, (lxw_col_t)c,
				    PQfname(r, c), NULL) == LXW_NO_ERROR;
			head = true;
			row = 1;
		}
		if (st == PGRES_SINGLE_TUPLE && ok) {
			for (int c = 0; c < PQnfields(r) && ok; c++)
				ok = xlsx_cell(ws, datef, row, (lxw_col_t)c, r, c);
			row++;
			j->rows++;
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK)
			failed(j, r, PQerrorMessage(db));
		PQclear(r);
	}
close:
	if (wb != NULL && workbook_close(wb) != LXW_NO_ERROR)
		ok = false;
	if (!ok && j->err.status == 0) {
		vh_log_warnx("req=%s the workbook could not be written",
		    vh_http_req_id(j->req));
		fail(j, 503, vh_xstrdup("the workbook could not be written"));
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	(void)unlink(path);
	if (fd == -1 || j->err.status != 0)
		goto out;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vh_log_warn("req=%s reading the workbook",
			    vh_http_req_id(j->req));
			fail(j, 503, vh_xstrdup("the workbook could not be "
			    "read"));
			break;
		}
		if (!put(j, buf, (size_t)n))
			break;
	}
out:
	if (fd != -1)
		close(fd);
}

/* libarchive's output: into the stream; -1 once the client is gone. */
static la_ssize_t
zip_out(struct archive *a VH_UNUSED, void *arg, const void *buf, size_t n)
{
	struct apiq_job *j = arg;

	return (put(j, buf, n) ? (la_ssize_t)n : -1);
}

/* Starts a ZIP member: deflated when compress (the CSVs), stored
 * otherwise (JPEG and AAC are compressed already). size -1: not known
 * before it is written (a data descriptor follows it). */
static bool
zip_member(struct apiq_job *j, const char *name, int64_t size, bool compress)
{
	struct archive_entry	*e = archive_entry_new();
	int			 rc;

	/* The per-member switch; format options are fixed once open. */
	if ((compress ? archive_write_zip_set_compression_deflate(j->zip) :
	    archive_write_zip_set_compression_store(j->zip)) != ARCHIVE_OK) {
		archive_entry_free(e);
		return (false);
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, time(NULL), 0);
	if (size >= 0)
		archive_entry_set_size(e, size);
	else
		archive_entry_unset_size(e);
	rc = archive_write_header(j->zip, e);
	archive_entry_free(e);
	return (rc == ARCHIVE_OK || rc == ARCHIVE_WARN);
}

/* One blob as the current member, in pieces; false when the archive or
 * the store fails (the member is then short, the export cut). */
static bool
zip_blob(struct apiq_job *j, const char *hex, char *buf)
{
	struct vh_blob_reader	*rd = NULL;
	int64_t			 off = 0;
	ssize_t			 n;
	bool			 ok = true;

	if (vh_blobstore_open(j->ctx->blobs, hex, &rd) != 0) {
		vh_log_warnx("req=%s export: blob %.12s is not in the store",
		    vh_http_req_id(j->req), hex);
		return (false);
	}
	while (ok && (n = vh_blob_reader_pread(rd, buf, STREAM_PIECE,
	    off)) > 0) {
		ok = archive_write_data(j->zip, buf, (size_t)n) == n;
		off += n;
	}
	if (n < 0)
		ok = false;
	vh_blob_reader_free(rd);
	return (ok);
}

/*
 * entries.csv (the first query through COPY), media.csv (the second) and
 * every file the second names, read from the store as they are written:
 * the archive is never whole in memory, nor is any file.
 */
static void
zip_rows(struct apiq_job *j, PGconn *db, const char *entries,
    const char *files)
{
	PGresult	*r;
	char		*buf = NULL;
	int64_t		 nentries;
	bool		 ok = true;

	j->zip = archive_write_new();
	if (archive_write_set_format_zip(j->zip) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(j->zip, 0) != ARCHIVE_OK ||
	    archive_write_open(j->zip, j, NULL, zip_out, NULL) != ARCHIVE_OK) {
		ok = false;
		goto out;
	}
	j->q.csv_no_bom = true;
	if (!(ok = zip_member(j, "entries.csv", -1, true)))
		goto out;
	copy_csv(j, db, entries);
	nentries = j->rows;
	if (j->err.status != 0 || j->cut ||
	    !(ok = zip_member(j, "media.csv", -1, true)))
		goto out;
	copy_csv(j, db, files);
	j->rows = nentries;
	if (j->err.status != 0 || j->cut)
		goto out;
	if (!PQsendQuery(db, files) || !PQsetSingleRowMode(db)) {
		failed(j, NULL, PQerrorMessage(db));
		while ((r = PQgetResult(db)) != NULL)
			PQclear(r);
		goto out;
	}
	buf = vh_xmalloc(STREAM_PIECE);
	while ((r = PQgetResult(db)) != NULL) {
		if (PQresultStatus(r) == PGRES_SINGLE_TUPLE && ok && !j->cut) {
			if (!zip_member(j, PQgetvalue(r, 0, 3), strtoll(
			    PQgetvalue(r, 0, 5), NULL, 10), false) ||
			    !zip_blob(j, PQgetvalue(r, 0, 4), buf)) {
				ok = false;
				cancel(db);
			}
		} else if (PQresultStatus(r) != PGRES_SINGLE_TUPLE &&
		    PQresultStatus(r) != PGRES_TUPLES_OK && ok)
			failed(j, r, PQerrorMessage(db));
		PQclear(r);
	}
out:
	if (ok && j->err.status == 0 && !j->cut &&
	    archive_write_close(j->zip) != ARCHIVE_OK)
		ok = false;
	if (!ok && j->err.status == 0 && !j->cut) {
		vh_log_warnx("req=%s the archive could not be written: %s",
		    vh_http_req_id(j->req), archive_error_string(j->zip) != NULL ?
		    archive_error_string(j->zip) : "a file is missing");
		fail(j, 503, vh_xstrdup("the archive could not be written"));
	}
	archive_write_free(j->zip);
	j->zip = NULL;
	free(buf);
}

/* Worker: the audit row of an answer, before its last piece leaves (a
 * JSON answer: before any of it). Unrecorded, a JSON answer is not sent
 * and a streamed one is cut short. */
static void
record(struct apiq_job *j, PGconn *db)
{
	char	*reason, *err = NULL;

	if (j->q.audit_action == NULL || (j->err.status != 0 && !j->stream))
		return;
	if (j->stream)
		reason = vh_xasprintf("%s%srows=%" PRId64 "%s",
		    j->q.audit_reason, *j->q.audit_reason != '\0' ? " " : "",
		    j->rows, j->err.status != 0 || j->cut ? " (cut short)" :
		    "");
	else
		reason = vh_xstrdup(j->q.audit_reason);
	if (vh_audit_record(db, &j->q.audit_actor, j->q.audit_action,
	    j->q.audit_type, j->q.audit_id, reason, &err) != 0) {
		vh_log_warnx("req=%s audit: %s", vh_http_req_id(j->req), err);
		fail(j, 503, vh_xstrdup("the access could not be recorded"));
	}
	free(err);
	free(reason);
}

static void
apiq_work(struct vh_worker *w, void *arg)
{
	struct apiq_job	*j = arg;
	PGconn		*db;
	PGresult	*r;

	if ((db = vh_api_db(w, j->req, &j->err,
	    "the database is unavailable")) == NULL)
		goto out;
	r = PQexecParams(db, j->q.sql, j->q.nparams, NULL,
	    (const char *const *)j->q.params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		failed(j, r, PQerrorMessage(db));
		PQclear(r);
		goto out;
	}
	if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
		fail(j, 404, vh_xstrdup(j->q.not_found != NULL ?
		    j->q.not_found : "not found"));
	else if (j->q.mode == VH_APIQ_CSV)
		copy_csv(j, db, PQgetvalue(r, 0, 0));
	else if (j->q.mode == VH_APIQ_JSON_ROWS)
		json_rows(j, db, PQgetvalue(r, 0, 0));
	else if (j->q.mode == VH_APIQ_XLSX)
		xlsx_rows(j, db, PQgetvalue(r, 0, 0));
	else if (j->q.mode == VH_APIQ_ZIP && PQnfields(r) == 2 &&
	    !PQgetisnull(r, 0, 1))
		zip_rows(j, db, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
	else
		append(j, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
	PQclear(r);
	record(j, db);
out:
	if (j->stream) {
		/* An error before anything went out is still a problem
		 * response: drop the piece. */
		if (j->err.status == 0 || j->sent)
			flush(j);
		j->len = 0;
		close(j->wfd);
		j->wfd = -1;
	}
}

static void
job_free(struct apiq_job *j)
{
	for (int i = 0; i < j->q.nparams; i++)
		free(j->q.params[i]);
	free(j->q.audit_id);
	free(j->q.audit_reason);
	if (j->rev != NULL)
		event_free(j->rev);
	if (j->tick != NULL)
		event_free(j->tick);
	if (j->rfd != -1)
		close(j->rfd);
	vh_api_err_clear(&j->err);
	free(j->body);
	free(j);
}

static void
apiq_done(void *arg)
{
	struct apiq_job	*j = arg;

	if (j->stream) {
		j->done = true;
		if (j->cut && !j->eof && !j->aborted)
			stream_abort(j);	/* a stalled client: give up */
		else if (j->eof || j->aborted)
			stream_finish(j);
		return;
	}
	if (j->err.status != 0)
		vh_api_reply_problem(j->req, &j->err);
	else {
		if (j->q.filename != NULL)
			vh_http_add_header(j->req, "Content-Disposition",
			    "attachment; filename=\"%s\"", j->q.filename);
		vh_http_respond(j->req, j->q.ok_status != 0 ? j->q.ok_status :
		    200, j->q.content_type != NULL ? j->q.content_type :
		    "application/json", j->body != NULL ? j->body : "", j->len);
	}
	job_free(j);
}

/* Loop: the worker and the loop are both through; answer and free. */
static void
stream_finish(struct apiq_job *j)
{
	if (!j->started) {
		if (j->err.status != 0)
			vh_api_reply_problem(j->req, &j->err);
		else
			vh_http_respond(j->req, 200, j->q.content_type, "", 0);
	} else {
		if (j->err.status != 0)
			vh_log_warnx("req=%s export cut short: %s",
			    vh_http_req_id(j->req), j->err.detail);
		vh_http_stream_end(j->req, j->err.status == 0 &&
		    !j->aborted && !j->cut);
	}
	job_free(j);
}

/* Loop: stop reading; the worker's next write fails and it cancels. */
static void
stream_abort(struct apiq_job *j)
{
	j->aborted = true;
	event_del(j->rev);
	evtimer_del(j->tick);
	close(j->rfd);
	j->rfd = -1;
	if (j->done)
		stream_finish(j);
}

static void
stream_resume(struct vh_http_req *req VH_UNUSED, void *arg)
{
	struct apiq_job *j = arg;

	j->paused_s = 0;
	evtimer_del(j->tick);
	event_add(j->rev, NULL);
}

/* Loop, once a second while paused: the drain callback never comes for
 * a client that went away. */
static void
stream_tick(evutil_socket_t fd VH_UNUSED, short what VH_UNUSED, void *arg)
{
	struct apiq_job	*j = arg;
	struct timeval	 tv = { 1, 0 };

	if (!vh_http_req_gone(j->req) && ++j->paused_s >= STREAM_STALL_S) {
		/* Everything may already be queued here, the worker long
		 * done: a client that takes nothing must not keep it. */
		vh_log_info("req=%s export stopped: the client stopped reading",
		    vh_http_req_id(j->req));
		vh_http_req_close(j->req);
	}
	if (vh_http_req_gone(j->req)) {
		vh_http_stream_on_drain(j->req, 0, NULL, NULL);
		stream_abort(j);
	} else
		evtimer_add(j->tick, &tv);
}

static void
stream_readable(evutil_socket_t fd, short what VH_UNUSED, void *arg)
{
	struct apiq_job	*j = arg;
	struct timeval	 tv = { 1, 0 };
	char		 buf[STREAM_PIECE];
	ssize_t		 n;

	if (vh_http_req_gone(j->req)) {
		stream_abort(j);
		return;
	}
	if ((n = read(fd, buf, sizeof buf)) < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		vh_log_warn("req=%s reading the export", vh_http_req_id(j->req));
		stream_abort(j);
		return;
	}
	if (n == 0) {
		j->eof = true;
		event_del(j->rev);
		if (j->done)
			stream_finish(j);
		return;
	}
	if (!j->started) {
		j->started = true;
		if (j->q.filename != NULL)
			vh_http_add_header(j->req, "Content-Disposition",
			    "attachment; filename=\"%s\"", j->q.filename);
		(void)vh_http_stream_begin(j->req, j->q.ok_status != 0 ?
		    j->q.ok_status : 200, j->q.content_type);
	}
	if (vh_http_stream_write(j->req, buf, (size_t)n) != 0) {
		stream_abort(j);
		return;
	}
	if (vh_http_stream_queued(j->req) > STREAM_HIGH) {
		event_del(j->rev);
		vh_http_stream_on_drain(j->req, STREAM_LOW, stream_resume, j);
		evtimer_add(j->tick, &tv);
	}
}

/* Loop: the socketpair and its events; false if none could be made. */
static bool
stream_open(struct vh_ctx *ctx, struct apiq_job *j)
{
	struct timeval	tv = { STREAM_STALL_S, 0 };
	int		sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		vh_log_warn("req=%s socketpair", vh_http_req_id(j->req));
		return (false);
	}
	if (fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) != 0 ||
	    setsockopt(sv[1], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) {
		vh_log_warn("req=%s export socket options",
		    vh_http_req_id(j->req));
		close(sv[0]);
		close(sv[1]);
		return (false);
	}
	j->rfd = sv[0];
	j->wfd = sv[1];
	j->rev = event_new(ctx->base, j->rfd, EV_READ | EV_PERSIST,
	    stream_readable, j);
	j->tick = evtimer_new(ctx->base, stream_tick, j);
	event_add(j->rev, NULL);
	j->stream = true;
	return (true);
}

void
vh_apiq_run(struct vh_ctx *ctx, struct vh_http_req *req, struct vh_apiq *q)
{
	struct apiq_job *j = vh_xcalloc(1, sizeof *j);

	j->ctx = ctx;
	j->req = req;
	j->q = *q;
	j->rfd = j->wfd = -1;
	memset(q->params, 0, sizeof q->params);
	if (j->q.mode != VH_APIQ_JSON && !stream_open(ctx, j)) {
		vh_http_respond_problem(req, 503, "unavailable",
		    "the export could not be started");
		job_free(j);
		return;
	}
	vh_pool_submit(ctx->pool, apiq_work, apiq_done, j);
}

void
vh_apiq_audit(struct vh_apiq *q, struct vh_http_req *req,
    const struct vh_principal *who, const char *action, const char *type,
    const char *id)
{
	const char *qs = vh_http_req_query(req);

	q->audit_action = action;
	q->audit_type = type;
	free(q->audit_id);
	free(q->audit_reason);
	q->audit_id = vh_xstrdup(id != NULL ? id : "");
	/* The filters as asked, bounded: the row names, it does not quote. */
	q->audit_reason = vh_xstrndup(qs, strlen(qs) > 1000 ? 1000 : strlen(qs));
	vh_audit_actor_from(&q->audit_actor, req, who);
}

char *
vh_apiq_arg(struct vh_http_req *req, const char *name)
{
	return (vh_http_query_get(vh_http_req_query(req), name));
}
