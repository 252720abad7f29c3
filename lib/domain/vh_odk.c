/*
 * OpenRosa for the werkbezoek. The form is generated on each request
 * from the themes and the imported buurten, so it never goes stale; its
 * version is a digest of exactly those rows, so Collect sees a new
 * version (and a new hash) whenever they change and fetches it again.
 *
 * A submission is stored as a visit entry through vh_entry_store_tx, the
 * path every other visit takes (review, media jobs), with one
 * odk_submission row per instanceID in the same transaction. An advisory
 * lock per instanceID serialises the parts of a split submission and a
 * resubmission racing its lost first answer.
 */
#include <sys/mman.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "vh_base64.h"
#include "vh_db.h"
#include "vh_entry.h"
#include "vh_error.h"
#include "vh_log.h"
#include "vh_odk.h"
#include "vh_password.h"
#include "vh_sandbox.h"
#include "vh_xmalloc.h"

/* A growing string. */
struct buf {
	char	*s;
	size_t	 len, cap;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = vh_xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Text for XML content and attribute values. */
static void
esc(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': puts_(b, "&amp;"); break;
		case '<': puts_(b, "&lt;"); break;
		case '>': puts_(b, "&gt;"); break;
		case '"': puts_(b, "&quot;"); break;
		case '\'': puts_(b, "&apos;"); break;
		default: put(b, s, 1);
		}
	}
}

static void
md5_hex(const void *p, size_t n, char out[33])
{
	unsigned char	d[EVP_MAX_MD_SIZE];
	unsigned int	dn = 0;

	EVP_Digest(p, n, d, &dn, EVP_md5(), NULL);
	for (unsigned i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
items(struct buf *b, PGresult *r)
{
	for (int i = 0; i < PQntuples(r); i++) {
		puts_(b, "<item><label>");
		esc(b, PQgetvalue(r, i, 1));
		puts_(b, "</label><value>");
		esc(b, PQgetvalue(r, i, 0));
		puts_(b, "</value></item>");
	}
}

int
vh_odk_form_build(PGconn *db, struct vh_odk_form *f, char **err)
{
	struct buf	 b = { NULL, 0, 0 }, data = { NULL, 0, 0 };
	PGresult	*themes = NULL, *buurten = NULL;
	char		 digest[33];
	int		 rc = VH_EDB;

	memset(f, 0, sizeof *f);
	if ((themes = vh_db_exec(db, "SELECT slug, title FROM theme"
	    " ORDER BY position, slug", 0, NULL, err)) == NULL)
		goto out;
	if ((buurten = vh_db_exec(db, "SELECT code, name || ' (' || code || ')'"
	    " FROM area WHERE level = 'buurt' ORDER BY name, code", 0, NULL,
	    err)) == NULL)
		goto out;
	/* The version digests the rows the form is made of. */
	for (int i = 0; i < PQntuples(themes); i++)
		for (int c = 0; c < 2; c++)
			put(&data, PQgetvalue(themes, i, c),
			    strlen(PQgetvalue(themes, i, c)) + 1);
	put(&data, "\n", 1);
	for (int i = 0; i < PQntuples(buurten); i++)
		for (int c = 0; c < 2; c++)
			put(&data, PQgetvalue(buurten, i, c),
			    strlen(PQgetvalue(buurten, i, c)) + 1);
	md5_hex(data.s, data.len, digest);
	snprintf(f->version, sizeof f->version, "v%.12s", digest);

	puts_(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<h:html xmlns=\"http://www.w3.org/2002/xforms\""
	    " xmlns:h=\"http://www.w3.org/1999/xhtml\""
	    " xmlns:jr=\"http://openrosa.org/javarosa\""
	    " xmlns:orx=\"http://openrosa.org/xforms\""
	    " xmlns:odk=\"http://www.opendatakit.org/xforms\">\n"
	    "<h:head>\n<h:title>Werkbezoek</h:title>\n"
	    "<model odk:xforms-version=\"1.0.0\">\n<instance>\n"
	    "<data id=\"" VH_ODK_FORM_ID "\" version=\"");
	puts_(&b, f->version);
	puts_(&b, "\">\n<titel/>\n<notitie/>\n<datum/>\n<themas/>\n<buurt/>\n"
	    "<locatie/>\n<fotos jr:template=\"\"><foto/></fotos>\n"
	    "<spraakmemo/>\n<meta><instanceID/></meta>\n</data>\n"
	    "</instance>\n"
	    "<bind nodeset=\"/data/titel\" type=\"string\"/>\n"
	    "<bind nodeset=\"/data/notitie\" type=\"string\" required=\"true()\"/>\n"
	    "<bind nodeset=\"/data/datum\" type=\"date\"/>\n"
	    "<bind nodeset=\"/data/themas\" type=\"string\"/>\n"
	    "<bind nodeset=\"/data/buurt\" type=\"string\"/>\n"
	    "<bind nodeset=\"/data/locatie\" type=\"geopoint\"/>\n"
	    "<bind nodeset=\"/data/fotos/foto\" type=\"binary\""
	    " orx:max-pixels=\"2048\"/>\n"
	    "<bind nodeset=\"/data/spraakmemo\" type=\"binary\"/>\n"
	    "<bind nodeset=\"/data/meta/instanceID\" type=\"string\""
	    " readonly=\"true()\" jr:preload=\"uid\"/>\n"
	    "<setvalue event=\"odk-instance-first-load\" ref=\"/data/datum\""
	    " value=\"today()\"/>\n"
	    "</model>\n</h:head>\n<h:body>\n"
	    "<input ref=\"/data/titel\"><label>Titel</label></input>\n"
	    "<input ref=\"/data/notitie\" appearance=\"multiline\">"
	    "<label>Notitie</label><hint>Wat zag en hoorde u?</hint></input>\n"
	    "<input ref=\"/data/datum\"><label>Datum van het bezoek</label>"
	    "</input>\n<select ref=\"/data/themas\"><label>Thema's</label>");
	items(&b, themes);
	puts_(&b, "</select>\n<select1 ref=\"/data/buurt\""
	    " appearance=\"autocomplete\"><label>Buurt</label>");
	items(&b, buurten);
	puts_(&b, "</select1>\n<input ref=\"/data/locatie\"><label>Locatie"
	    "</label><hint>Niet verplicht; bepaalt de buurt als u er geen "
	    "kiest</hint></input>\n"
	    "<group ref=\"/data/fotos\"><label>Foto's</label>"
	    "<repeat nodeset=\"/data/fotos\"><upload ref=\"/data/fotos/foto\""
	    " mediatype=\"image/*\"><label>Foto</label></upload></repeat>"
	    "</group>\n<upload ref=\"/data/spraakmemo\" mediatype=\"audio/*\">"
	    "<label>Spraakmemo</label></upload>\n</h:body>\n</h:html>\n");
	f->xml = b.s;
	f->len = b.len;
	b.s = NULL;
	md5_hex(f->xml, f->len, f->md5);
	rc = 0;
out:
	PQclear(themes);
	PQclear(buurten);
	free(b.s);
	free(data.s);
	return (rc);
}

void
vh_odk_form_clear(struct vh_odk_form *f)
{
	free(f->xml);
	f->xml = NULL;
}

int
vh_odk_parse(const char *xml, size_t len, struct vh_odkxml_instance *out,
    char **why)
{
	struct vh_sandbox_limits	 sl;
	int				 fd, rc;

	*why = NULL;
	if (len > VH_ODKXML_MAX_SIZE) {
		*why = vh_xasprintf("the XML is larger than %d bytes",
		    VH_ODKXML_MAX_SIZE);
		return (VH_ETOOBIG);
	}
	if ((fd = memfd_create("odk-xml", MFD_CLOEXEC)) == -1) {
		*why = vh_xasprintf("memfd: %s", strerror(errno));
		return (VH_EAGAIN);
	}
	if (write(fd, xml, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0) {
		*why = vh_xasprintf("memfd: %s", strerror(errno));
		close(fd);
		return (VH_EAGAIN);
	}
	vh_sandbox_limits_default(&sl);
	sl.what = "XML parser";
	sl.max_memory = 256 * 1024 * 1024;
	sl.cpu_seconds = 10;
	sl.max_file_size = 0;
	sl.timeout_ms = 20000;
	rc = vh_sandbox_run(&sl, "odk-xml", NULL, 0, &fd, 1, out, sizeof *out,
	    why);
	close(fd);
	if (rc == VH_EIO)	/* it crashed or hung on these bytes */
		rc = VH_EINVAL;
	if (rc != 0 && rc != VH_EINVAL && rc != VH_ETOOBIG && rc != VH_EAGAIN)
		rc = VH_EINVAL;
	if (rc == 0) {
		free(*why);
		*why = NULL;
	}
	return (rc);
}

/* The instance's files as a PostgreSQL text[] literal; caller frees. */
static char *
files_array(const struct vh_odkxml_instance *inst)
{
	json_t	*a = json_array();
	char	*s;

	for (size_t i = 0; i < inst->nfiles; i++)
		json_array_append_new(a, json_string(inst->files[i]));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return (s);
}

/* Adds the request's files the entry lacks (by file name). */
static int
add_missing(PGconn *db, const struct vh_principal *who,
    const struct vh_odk_submission *s, int64_t entry_id, size_t *added,
    char **err)
{
	struct vh_entry_file	*files;
	PGresult		*r;
	json_t			*fields, *out = NULL;
	struct vh_db_params	 p;
	size_t			 n = 0;
	int			 rc = 0;

	*added = 0;
	if (s->nfiles == 0)
		return (0);
	files = vh_xcalloc(s->nfiles, sizeof *files);
	for (size_t i = 0; i < s->nfiles; i++) {
		vh_db_params_init(&p);
		vh_db_params_int(&p, entry_id);
		vh_db_params_str(&p, s->files[i].filename);
		if ((r = vh_db_exec(db, "SELECT 1 FROM media WHERE entry_id = $1"
		    " AND filename = $2", p.n, p.v, err)) == NULL) {
			free(files);
			return (VH_EDB);
		}
		if (PQntuples(r) == 0) {
			memcpy(files[n].sha256, s->files[i].sha256, 65);
			files[n].size = s->files[i].size;
			files[n].filename = s->files[i].filename;
			files[n].declared_type = s->files[i].declared_type;
			n++;
		}
		PQclear(r);
	}
	if (n > 0) {
		fields = json_pack("{sI}", "entry_id", (json_int_t)entry_id);
		rc = vh_entry_store_tx(db, fields, who, files, n, NULL, &out, err);
		json_decref(fields);
		json_decref(out);
	}
	free(files);
	*added = n;
	return (rc);
}

/* The entry's fields from the instance, the area resolved. */
static int
entry_fields(PGconn *db, const struct vh_odk_submission *s, json_t **out,
    char **err)
{
	const struct vh_odkxml_instance	*in = s->inst;
	json_t				*o, *themes;
	char				*dup, *tok, *save, title[1300];
	double				 lat, lon;
	PGresult			*r;

	o = json_pack("{ss ss}", "kind", "visit", "text", in->note);
	if (in->title[0] != '\0')
		snprintf(title, sizeof title, "%s", in->title);
	else
		snprintf(title, sizeof title, "Werkbezoek%s%s",
		    in->date[0] != '\0' ? " " : "", in->date);
	json_object_set_new(o, "title", json_string(title));
	if (in->date[0] != '\0')
		json_object_set_new(o, "occurred_at", json_string(in->date));
	themes = json_array();
	dup = vh_xstrdup(in->themes);
	for (tok = strtok_r(dup, " \t\n", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\n", &save))
		json_array_append_new(themes, json_string(tok));
	free(dup);
	json_object_set_new(o, "themes", themes);
	if (in->buurt[0] != '\0')
		json_object_set_new(o, "area", json_string(in->buurt));
	else if (in->location[0] != '\0' &&
	    sscanf(in->location, "%lf %lf", &lat, &lon) == 2) {
		char		 a[32], b[32];
		const char	*p[2] = { a, b };

		/* The point becomes its buurt; the point itself is not kept
		 * unless keep_location says so. */
		snprintf(a, sizeof a, "%.7f", lon);
		snprintf(b, sizeof b, "%.7f", lat);
		if ((r = vh_db_exec(db, "SELECT vh_area_at($1, $2)", 2, p,
		    err)) == NULL) {
			json_decref(o);
			return (VH_EDB);
		}
		if (!PQgetisnull(r, 0, 0))
			json_object_set_new(o, "area",
			    json_string(PQgetvalue(r, 0, 0)));
		PQclear(r);
	}
	*out = o;
	return (0);
}

static int
insert_row(PGconn *db, const struct vh_principal *who,
    const struct vh_odk_submission *s, int64_t entry_id, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;

	vh_db_params_init(&p);
	vh_db_params_str(&p, s->inst->instance_id);
	vh_db_params_int(&p, entry_id);
	vh_db_params_str(&p, s->xml_sha256);
	vh_db_params_str(&p, s->inst->form_id);
	vh_db_params_str(&p, s->inst->version);
	vh_db_params_str(&p, s->device_id);
	if (who->account_id != 0)
		vh_db_params_int(&p, who->account_id);
	else
		vh_db_params_str(&p, NULL);
	vh_db_params_str(&p, s->incomplete ? "f" : "t");
	vh_db_params_str(&p, s->keep_location &&
	    s->inst->location[0] != '\0' ? s->inst->location : NULL);
	vh_db_params_int(&p, s->xml_size);
	if ((r = vh_db_exec(db, "WITH b AS (INSERT INTO blob (sha256, size)"
	    " VALUES ($3, $10) ON CONFLICT (sha256) DO NOTHING)"
	    " INSERT INTO odk_submission (instance_id, entry_id, xml_sha256,"
	    " form_id, form_version, device_id, account_id, complete, location)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", p.n, p.v,
	    err)) == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

static int
lock_id(PGconn *db, const char *id, char **err)
{
	PGresult *r = vh_db_exec(db, "SELECT pg_advisory_xact_lock(hashtextextended("
	    "'odk:' || $1, 0))", 1, &id, err);

	if (r == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

/* An edit: the entry takes the new version's fields and keeps only the
 * files the new XML still names. */
static int
edit(PGconn *db, const struct vh_principal *who,
    const struct vh_odk_submission *s, int64_t *entry_id, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;
	json_t			*f = NULL;
	char			*files = NULL, *themes = NULL;
	size_t			 added;
	int			 rc;

	if ((rc = lock_id(db, s->inst->deprecated_id, err)) != 0)
		return (rc);
	vh_db_params_init(&p);
	vh_db_params_str(&p, s->inst->deprecated_id);
	if ((r = vh_db_exec(db, "SELECT o.entry_id, o.replaced_by, e.account_id"
	    " FROM odk_submission o JOIN entry e ON e.id = o.entry_id"
	    " WHERE o.instance_id = $1 FOR UPDATE OF o", p.n, p.v,
	    err)) == NULL)
		return (VH_EDB);
	if (PQntuples(r) == 0 || (who->role != VH_ROLE_ADMIN &&
	    (PQgetisnull(r, 0, 2) || strtoll(PQgetvalue(r, 0, 2), NULL, 10) !=
	    who->account_id))) {
		*err = vh_xstrdup("no earlier submission with this deprecatedID");
		rc = VH_ENOENT;
		goto out;
	}
	if (!PQgetisnull(r, 0, 1)) {
		*err = vh_xstrdup("the version this edit replaces was already "
		    "replaced by another edit");
		rc = VH_ECONFLICT;
		goto out;
	}
	*entry_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	r = NULL;
	if ((rc = entry_fields(db, s, &f, err)) != 0)
		goto out;
	if ((rc = vh_entry_validate(f, who, err)) != 0) {
		rc = VH_EINVAL;
		goto out;
	}
	themes = json_dumps(json_object_get(f, "themes"), JSON_COMPACT);
	files = files_array(s->inst);
	vh_db_params_init(&p);
	vh_db_params_int(&p, *entry_id);
	vh_db_params_str(&p, json_string_value(json_object_get(f, "title")));
	vh_db_params_str(&p, json_string_value(json_object_get(f, "text")));
	vh_db_params_str(&p, json_string_value(json_object_get(f, "area")));
	vh_db_params_str(&p, json_string_value(json_object_get(f,
	    "occurred_at")));
	vh_db_params_str(&p, themes);
	vh_db_params_str(&p, files);
	if ((r = vh_db_exec(db, "WITH u AS (UPDATE entry SET title = $2,"
	    " body = $3, area_code = $4, occurred_at = $5::timestamptz,"
	    " themes = ARRAY(SELECT jsonb_array_elements_text($6::jsonb)),"
	    " updated_at = now() WHERE id = $1)"
	    " DELETE FROM media WHERE entry_id = $1 AND filename <> ALL("
	    " ARRAY(SELECT jsonb_array_elements_text($7::jsonb)))", p.n, p.v,
	    err)) == NULL) {
		rc = VH_EINVAL;
		free(*err);
		*err = vh_xstrdup("the edited values are not accepted (a date "
		    "or buurt the server does not know)");
		goto out;
	}
	PQclear(r);
	r = NULL;
	if ((rc = add_missing(db, who, s, *entry_id, &added, err)) != 0)
		goto out;
	if ((rc = insert_row(db, who, s, *entry_id, err)) != 0)
		goto out;
	vh_db_params_init(&p);
	vh_db_params_str(&p, s->inst->deprecated_id);
	vh_db_params_str(&p, s->inst->instance_id);
	if ((r = vh_db_exec(db, "UPDATE odk_submission SET replaced_by = $2,"
	    " updated_at = now() WHERE instance_id = $1", p.n, p.v,
	    err)) == NULL) {
		rc = VH_EDB;
		goto out;
	}
	PQclear(r);
	r = NULL;
	rc = 0;
out:
	PQclear(r);
	json_decref(f);
	free(files);
	free(themes);
	return (rc);
}

/* In vh_odk_store's transaction: reports failure, never rolls back. */
static int
store(PGconn *db, const struct vh_principal *who,
    const struct vh_odk_submission *s, int64_t *entry_id,
    enum vh_odk_outcome *outcome, char **err)
{
	const char	*p[2] = { s->inst->instance_id, NULL };
	PGresult	*r;
	json_t		*f = NULL, *out = NULL;
	size_t		 added;
	int		 rc;

	if ((rc = lock_id(db, s->inst->instance_id, err)) != 0)
		return (rc);
	if ((r = vh_db_exec(db, "SELECT entry_id, xml_sha256 FROM odk_submission"
	    " WHERE instance_id = $1 FOR UPDATE", 1, p, err)) == NULL)
		return (VH_EDB);
	if (PQntuples(r) == 1) {
		/* Seen before: a later part of a split submission, or the
		 * same one again after its answer was lost. */
		if (strcmp(PQgetvalue(r, 0, 1), s->xml_sha256) != 0) {
			PQclear(r);
			*err = vh_xstrdup("an instance with this instanceID and "
			    "other content was already submitted");
			return (VH_ECONFLICT);
		}
		*entry_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		if ((rc = add_missing(db, who, s, *entry_id, &added, err)) != 0)
			return (rc);
		*outcome = added > 0 ? VH_ODK_MORE : VH_ODK_SAME;
		if (!s->incomplete) {
			if ((r = vh_db_exec(db, "UPDATE odk_submission SET complete = true,"
			    " updated_at = now() WHERE instance_id = $1", 1, p,
			    err)) == NULL)
				return (VH_EDB);
			PQclear(r);
		}
	} else {
		PQclear(r);
		if (s->inst->deprecated_id[0] != '\0') {
			if ((rc = edit(db, who, s, entry_id, err)) != 0)
				return (rc);
			*outcome = VH_ODK_EDIT;
		} else {
			struct vh_entry_file *files = vh_xcalloc(s->nfiles + 1,
			    sizeof *files);

			if ((rc = entry_fields(db, s, &f, err)) != 0) {
				free(files);
				return (rc);
			}
			if (vh_entry_validate(f, who, err) != 0) {
				free(files);
				json_decref(f);
				return (VH_EINVAL);
			}
			for (size_t i = 0; i < s->nfiles; i++) {
				memcpy(files[i].sha256, s->files[i].sha256, 65);
				files[i].size = s->files[i].size;
				files[i].filename = s->files[i].filename;
				files[i].declared_type = s->files[i].declared_type;
			}
			rc = vh_entry_store_tx(db, f, who, files, s->nfiles,
			    NULL, &out, err);
			free(files);
			json_decref(f);
			if (rc != 0)
				return (rc);
			*entry_id = json_integer_value(json_object_get(out, "id"));
			json_decref(out);
			if ((rc = insert_row(db, who, s, *entry_id, err)) != 0)
				return (rc);
			*outcome = VH_ODK_NEW;
		}
	}
	return (0);
}

int
vh_odk_store(PGconn *db, const struct vh_principal *who,
    const struct vh_odk_submission *s, int64_t *entry_id,
    enum vh_odk_outcome *outcome, char **err)
{
	int rc;

	*err = NULL;
	if (vh_db_begin(db, err) != 0)
		return (VH_EDB);
	/* This function began the transaction: it alone ends it. */
	if ((rc = store(db, who, s, entry_id, outcome, err)) != 0) {
		vh_db_rollback(db);
		return (rc);
	}
	return (vh_db_commit(db, err) != 0 ? VH_EDB : 0);
}

static int
principal_row(PGresult *r, struct vh_principal *p)
{
	p->account_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	snprintf(p->name, sizeof p->name, "%s", PQgetvalue(r, 0, 1));
	return (vh_role_parse(PQgetvalue(r, 0, 2), &p->role) == 0 ? 0 :
	    VH_ENOENT);
}

int
vh_odk_lookup_token(PGconn *db, const char *token, struct vh_principal *p,
    char **err)
{
	/* Looked up on every request, so a revoked token stops at once. */
	return (vh_auth_token_query(db, "UPDATE api_token t SET last_used_at ="
	    " now() FROM account a WHERE a.id = t.account_id AND t.token_hash ="
	    " $1 AND t.kind = 'odk' AND t.revoked_at IS NULL AND NOT a.disabled"
	    " AND (t.expires_at IS NULL OR t.expires_at > now())"
	    " RETURNING a.id, a.name, a.role", token, p, NULL, err));
}

/*
 * Failed Basic logins count in login_throttle, the table password logins
 * use, per name as typed and per client address; past the limit the
 * password is not even checked. Successes count nothing: Collect sends
 * the password with every request.
 */
static int
throttled(PGconn *db, const char *name, const char *addr,
    const struct vh_odk_basic_limits *lim, bool fail, char **err)
{
	struct vh_db_params	 p;
	char			 win[40];
	PGresult		*r;
	bool			 over;

	snprintf(win, sizeof win, "%" PRId64 " milliseconds", lim->window_ms);
	vh_db_params_init(&p);
	vh_db_params_str(&p, name);
	vh_db_params_str(&p, addr);
	vh_db_params_str(&p, win);
	vh_db_params_int(&p, lim->max_account);
	vh_db_params_int(&p, lim->max_address);
	if (fail) {
		r = vh_db_exec(db, "INSERT INTO login_throttle AS t (scope, key,"
		    " failures) VALUES ('account', lower($1), 1),"
		    " ('address', $2, 1) ON CONFLICT (scope, key) DO UPDATE SET"
		    " failures = CASE WHEN t.window_start <= now() - $3::interval"
		    " THEN 1 ELSE t.failures + 1 END, window_start = CASE WHEN"
		    " t.window_start <= now() - $3::interval THEN now() ELSE"
		    " t.window_start END", 3, p.v, err);
		if (r == NULL)
			return (VH_EDB);
		PQclear(r);
		return (0);
	}
	if ((r = vh_db_exec(db, "SELECT EXISTS (SELECT 1 FROM login_throttle"
	    " WHERE window_start > now() - $3::interval AND ((scope ="
	    " 'account' AND key = lower($1) AND failures >= $4::int) OR"
	    " (scope = 'address' AND key = $2 AND failures >= $5::int)))", p.n,
	    p.v, err)) == NULL)
		return (VH_EDB);
	over = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return (over ? VH_ETOOBIG : 0);
}

int
vh_odk_lookup_basic(PGconn *db, const char *name, const char *password,
    const char *addr, const struct vh_odk_basic_limits *lim,
    struct vh_principal *p, char **err)
{
	const char	*params[1] = { name };
	PGresult	*r;
	int		 rc = VH_ENOENT;

	memset(p, 0, sizeof *p);
	if ((rc = throttled(db, name, addr, lim, false, err)) != 0)
		return (rc);
	rc = VH_ENOENT;
	if ((r = vh_db_exec(db, "SELECT id, name, role, password_hash FROM"
	    " account WHERE name = $1 AND NOT disabled AND password_hash IS"
	    " NOT NULL", 1, params, err)) == NULL)
		return (VH_EDB);
	if (PQntuples(r) == 1) {
		if (vh_password_verify(PQgetvalue(r, 0, 3), password) == 0)
			rc = principal_row(r, p);
	} else
		vh_password_verify_dummy(password);	/* the same time */
	PQclear(r);
	p->via = VH_VIA_TOKEN;
	if (rc == VH_ENOENT && throttled(db, name, addr, lim, true, err) != 0)
		return (VH_EDB);
	return (rc);
}

int
vh_odk_token_add(PGconn *db, const char *name, bool *created,
    char secret[VH_SECRET_LEN], int64_t *id, char **err)
{
	uint8_t		 hash[32];
	char		 h[67];
	const char	*p[2] = { name, h };
	PGresult	*r;

	if ((r = vh_db_exec(db, "INSERT INTO account (name, role) SELECT $1,"
	    " 'fieldworker' WHERE $1 ~ '^[a-z0-9][a-z0-9._-]{0,63}$'"
	    " ON CONFLICT (name) DO NOTHING", 1, p, err)) == NULL)
		return (VH_EDB);
	*created = strcmp(PQcmdTuples(r), "1") == 0;
	PQclear(r);
	vh_auth_secret_new(secret, hash);
	vh_auth_hash_sql(hash, h);
	if ((r = vh_db_exec(db, "INSERT INTO api_token (account_id, token_hash,"
	    " label, kind) SELECT id, $2, 'ODK Collect', 'odk' FROM account"
	    " WHERE name = $1 AND role = 'fieldworker' RETURNING id", 2, p,
	    err)) == NULL)
		return (VH_EDB);
	if (PQntuples(r) == 0) {
		PQclear(r);
		*err = vh_xasprintf("'%s' is not a field worker's account name "
		    "(lower-case letters, digits, '.', '_' or '-')", name);
		return (VH_EINVAL);
	}
	*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return (0);
}

char *
vh_odk_server_url(const char *base, const char *token)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	return (vh_xasprintf("%.*s/odk/key/%s", (int)n, base, token));
}

char *
vh_odk_settings(const char *server_url, const char *project)
{
	json_t		*o;
	char		*json, *b64;
	uLongf		 zn;
	Bytef		*z;

	o = json_pack("{s{ss} s{} s{ss}}", "general", "server_url", server_url,
	    "admin", "project", "name", project);
	json = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	zn = compressBound(strlen(json));
	z = vh_xmalloc(zn);
	if (compress2(z, &zn, (const Bytef *)json, strlen(json),
	    Z_BEST_COMPRESSION) != Z_OK)
		vh_fatal("zlib compress failed");
	b64 = vh_base64_encode(z, zn);
	free(z);
	free(json);
	return (b64);
}
