/*
 * Entries. Clients describe an entry as a JSON object (the "entry" part of
 * a multipart submission) or as tus Upload-Metadata; both become the same
 * object, validated here against one list of fields. Storing runs on a
 * worker thread: blob rows, the entry and its media are written in one
 * transaction, after every file is already durable in the blob store.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_consent.h"
#include "vh_db.h"
#include "vh_entry.h"
#include "vh_jobs.h"
#include "vh_error.h"
#include "vh_xmalloc.h"

enum ftype { F_STRING, F_ARRAY, F_OBJECT, F_INTEGER };

static const struct {
	const char	*name;
	enum ftype	 type;
	size_t		 max;		/* characters, or array items */
} fields[] = {
	{ "kind", F_STRING, 16 },
	{ "title", F_STRING, 300 },
	{ "text", F_STRING, 100000 },
	{ "area", F_STRING, 16 },
	{ "collection", F_STRING, 64 },
	{ "occurred_at", F_STRING, 64 },
	{ "themes", F_ARRAY, 20 },
	{ "consent", F_OBJECT, 0 },
	{ "entry_id", F_INTEGER, 0 },
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static bool
valid_area(const char *s)
{
	size_t	n = strlen(s), digits;

	if (strncmp(s, "GM", 2) == 0)
		digits = 4;
	else if (strncmp(s, "WK", 2) == 0)
		digits = 6;
	else if (strncmp(s, "BU", 2) == 0)
		digits = 8;
	else
		return (false);
	if (n != 2 + digits)
		return (false);
	for (size_t i = 2; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return (false);
	return (true);
}

int
vh_entry_validate(const json_t *obj, const struct vh_principal *who,
    char **why)
{
	const char	*key, *kind;
	json_t		*v, *t;
	size_t		 i, idx;

	if (!json_is_object(obj)) {
		*why = vh_xstrdup("the entry must be a JSON object");
		return (VH_EINVAL);
	}
	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; i < NFIELDS; i++)
			if (strcmp(key, fields[i].name) == 0)
				break;
		if (i == NFIELDS) {
			*why = vh_xasprintf("unknown field '%s'", key);
			return (VH_EINVAL);
		}
		switch (fields[i].type) {
		case F_STRING:
			if (!json_is_string(v) ||
			    json_string_length(v) > fields[i].max * 4) {
				*why = vh_xasprintf("'%s' must be a string of at "
				    "most %zu characters", key, fields[i].max);
				return (VH_EINVAL);
			}
			break;
		case F_ARRAY:
			if (!json_is_array(v) || json_array_size(v) > fields[i].max) {
				*why = vh_xasprintf("'%s' must be a list of at most "
				    "%zu items", key, fields[i].max);
				return (VH_EINVAL);
			}
			json_array_foreach(v, idx, t) {
				if (!json_is_string(t) || json_string_length(t) == 0 ||
				    json_string_length(t) > 64) {
					*why = vh_xasprintf("'%s' items must be "
					    "non-empty strings of at most 64 "
					    "characters", key);
					return (VH_EINVAL);
				}
			}
			break;
		case F_OBJECT:
			if (!json_is_object(v)) {
				*why = vh_xasprintf("'%s' must be an object", key);
				return (VH_EINVAL);
			}
			break;
		case F_INTEGER:
			if (!json_is_integer(v) || json_integer_value(v) <= 0) {
				*why = vh_xasprintf("'%s' must be a positive "
				    "integer", key);
				return (VH_EINVAL);
			}
			break;
		}
	}
	kind = json_string_value(json_object_get(obj, "kind"));
	if (json_object_get(obj, "entry_id") == NULL && kind == NULL &&
	    who->role != VH_ROLE_RESIDENT) {
		*why = vh_xstrdup("'kind' is required: story or visit");
		return (VH_EINVAL);
	}
	if (kind != NULL && strcmp(kind, "story") != 0 &&
	    strcmp(kind, "visit") != 0) {
		*why = vh_xasprintf("'kind' must be story or visit, not '%s'", kind);
		return (VH_EINVAL);
	}
	if (who->role == VH_ROLE_RESIDENT &&
	    ((kind != NULL && strcmp(kind, "story") != 0) ||
	    json_object_get(obj, "entry_id") != NULL)) {
		*why = vh_xstrdup("residents submit stories only");
		return (VH_EINVAL);
	}
	if (vh_entry_validate_consent(obj, who, why) != 0)
		return (VH_EINVAL);
	v = json_object_get(obj, "area");
	if (v != NULL && !valid_area(json_string_value(v))) {
		*why = vh_xasprintf("'area' must be a CBS code such as GM0344, "
		    "WK034401 or BU03440111");
		return (VH_EINVAL);
	}
	return (0);
}

int
vh_entry_validate_consent(const json_t *obj, const struct vh_principal *who,
    char **why)
{
	struct vh_consent	 c;
	const json_t		*v = json_object_get(obj, "consent");

	/* A resident's new story is stored only with what they agreed to. */
	if (v == NULL && who->role == VH_ROLE_RESIDENT &&
	    json_object_get(obj, "entry_id") == NULL) {
		*why = vh_xstrdup("a story needs 'consent': {\"scope\": "
		    "analysis_only | quote_anonymised | audio_to_staff | publish, "
		    "\"version\": the consent text's version, \"language\": "
		    "the language it was shown in}");
		return (VH_EINVAL);
	}
	if (v != NULL && vh_consent_parse(v, &c, why) != 0)
		return (VH_EINVAL);
	return (0);
}

json_t *
vh_entry_from_metadata(const struct vh_tus_metadata *md, char **why)
{
	static const char *plain[] = { "kind", "title", "text", "area",
	    "collection", "occurred_at" };
	json_t		*obj = json_object(), *v;
	json_error_t	 jerr;
	const char	*s;
	char		*copy, *tok, *save, *end;
	size_t		 len;

	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		if ((s = vh_tus_metadata_get(md, plain[i], &len)) == NULL)
			continue;
		if ((v = json_stringn(s, len)) == NULL) {
			*why = vh_xasprintf("metadata '%s' is not UTF-8", plain[i]);
			goto fail;
		}
		json_object_set_new(obj, plain[i], v);
	}
	if ((s = vh_tus_metadata_get(md, "themes", &len)) != NULL) {
		v = json_array();
		copy = vh_xstrndup(s, len);
		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ')
				tok++;
			if (*tok != '\0')
				json_array_append_new(v, json_string(tok));
		}
		free(copy);
		json_object_set_new(obj, "themes", v);
	}
	if ((s = vh_tus_metadata_get(md, "consent", &len)) != NULL) {
		if ((v = json_loadb(s, len, 0, &jerr)) == NULL) {
			*why = vh_xasprintf("metadata 'consent' is not JSON: %s",
			    jerr.text);
			goto fail;
		}
		json_object_set_new(obj, "consent", v);
	}
	if ((s = vh_tus_metadata_get(md, "entry_id", &len)) != NULL) {
		long long id = strtoll(s, &end, 10);

		if (len == 0 || end != s + len || id <= 0) {
			*why = vh_xstrdup("metadata 'entry_id' must be a number");
			goto fail;
		}
		json_object_set_new(obj, "entry_id", json_integer(id));
	}
	return (obj);
fail:
	json_decref(obj);
	return (NULL);
}

/* Text of a string field, or NULL (SQL NULL). */
static const char *
str(const json_t *obj, const char *key)
{
	return (json_string_value(json_object_get(obj, key)));
}

static int
fail_tx(PGconn *db, PGresult *r, char **err, const char *why)
{
	const char	*state = vh_db_sqlstate(r);
	int		 rc = VH_EDB;

	/* Bad dates and such are the client's to fix. */
	if (strncmp(state, "22", 2) == 0) {
		free(*err);
		*err = vh_xasprintf("%s", why);
		rc = VH_EINVAL;
	}
	PQclear(r);
	PQclear(PQexec(db, "ROLLBACK"));
	return (rc);
}

/* Inserts the entry; *id gets its id. */
static int
insert_entry(PGconn *db, const json_t *obj, const struct vh_principal *who,
    char *id, size_t idlen, char **err)
{
	char		 account[32], collection[32], *themes, *consent;
	const char	*params[11];
	PGresult	*r;

	snprintf(account, sizeof account, "%lld", (long long)who->account_id);
	snprintf(collection, sizeof collection, "%lld",
	    (long long)who->collection_id);
	themes = json_object_get(obj, "themes") != NULL ?
	    json_dumps(json_object_get(obj, "themes"), JSON_COMPACT) :
	    vh_xstrdup("[]");
	consent = json_object_get(obj, "consent") != NULL ?
	    json_dumps(json_object_get(obj, "consent"), JSON_COMPACT) : NULL;
	params[0] = who->role == VH_ROLE_RESIDENT ? "story" : str(obj, "kind");
	params[1] = str(obj, "title");
	params[2] = str(obj, "text");
	params[3] = str(obj, "area");
	params[4] = who->collection_id != 0 ? collection : NULL;
	params[5] = str(obj, "collection");
	params[6] = str(obj, "occurred_at");
	params[7] = themes;
	params[8] = consent;
	params[9] = who->account_id != 0 ? account : NULL;
	/* Residents' stories wait for a moderator before analysts see them. */
	params[10] = who->role == VH_ROLE_RESIDENT ? "pending_review" :
	    "received";
	r = PQexecParams(db,
	    "INSERT INTO entry (kind, title, body, area_code, collection_id,"
	    " occurred_at, themes, consent, account_id, status)"
	    " SELECT $1, coalesce($2, ''), coalesce($3, ''), $4,"
	    " coalesce($5::bigint, (SELECT id FROM collection WHERE slug = $6)),"
	    " $7::timestamptz,"
	    " ARRAY(SELECT jsonb_array_elements_text($8::jsonb)), $9::jsonb, $10,"
	    " $11"
	    " WHERE $6::text IS NULL OR $5::bigint IS NOT NULL OR"
	    " EXISTS (SELECT 1 FROM collection WHERE slug = $6)"
	    " RETURNING id", 11, NULL, params, NULL, NULL, 0);
	free(themes);
	free(consent);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		*err = vh_xstrdup(PQerrorMessage(db));
		return (fail_tx(db, r, err,
		    "'occurred_at' must be a date and time such as "
		    "2024-05-01T14:30:00+02:00"));
	}
	if (PQntuples(r) == 0) {
		*err = vh_xasprintf("no collection '%s'",
		    str(obj, "collection"));
		PQclear(r);
		PQclear(PQexec(db, "ROLLBACK"));
		return (VH_EINVAL);
	}
	snprintf(id, idlen, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return (0);
}

/*
 * The consent text a new entry's consent names, in its collection (the
 * resident's link, or 'collection'): text_id gets its id, or "" without
 * consent or collection. VH_EINVAL with *err naming the field.
 */
static int
consent_text(PGconn *db, const json_t *obj, const struct vh_principal *who,
    char *text_id, char **err)
{
	struct vh_consent	 c;
	const json_t		*v = json_object_get(obj, "consent");
	char			 collection[32], tid[24];
	int			 rc;

	if (text_id != NULL)
		text_id[0] = '\0';
	if (v == NULL)
		return (0);
	if (vh_consent_parse(v, &c, err) != 0)
		return (VH_EINVAL);
	snprintf(collection, sizeof collection, "%lld",
	    (long long)who->collection_id);
	if (who->collection_id == 0 && str(obj, "collection") == NULL)
		return (0);
	rc = vh_consent_text_find(db, who->collection_id != 0 ? collection :
	    NULL, str(obj, "collection"), &c, tid, err);
	if (rc == 0 && text_id != NULL)
		snprintf(text_id, 24, "%s", tid);
	return (rc);
}

/*
 * The consent record of a new entry and, for a resident, the receipt code
 * that withdraws it: receipt gets the code, the database its SHA-256.
 */
static int
store_consent(PGconn *db, const json_t *obj, const struct vh_principal *who,
    const char *id, char receipt[VH_SECRET_LEN], char **err)
{
	struct vh_consent	 c;
	const json_t		*v = json_object_get(obj, "consent");
	const char		*params[5];
	char			 hash_sql[67], text_id[24];
	uint8_t			 hash[32];
	PGresult		*r;
	int			 rc = VH_EINVAL;

	if (v != NULL) {
		if (vh_consent_parse(v, &c, err) != 0 ||
		    (rc = consent_text(db, obj, who, text_id, err)) != 0) {
			PQclear(PQexec(db, "ROLLBACK"));
			return (rc == VH_EDB ? VH_EDB : VH_EINVAL);
		}
		params[0] = id;
		params[1] = vh_consent_scope_name(c.scope);
		params[2] = c.version;
		params[3] = c.language;
		params[4] = *text_id != '\0' ? text_id : NULL;
		r = PQexecParams(db, "INSERT INTO consent (entry_id, scope,"
		    " text_version, language, collection_id, text_id)"
		    " SELECT id, $2, $3, $4, collection_id, $5::bigint FROM entry"
		    " WHERE id = $1", 5, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			*err = vh_xstrdup(PQerrorMessage(db));
			return (fail_tx(db, r, err, "bad consent"));
		}
		PQclear(r);
	}
	if (who->role != VH_ROLE_RESIDENT)
		return (0);
	vh_auth_secret_new(receipt, hash);
	vh_auth_hash_sql(hash, hash_sql);
	params[0] = hash_sql;
	params[1] = id;
	r = PQexecParams(db, "INSERT INTO receipt (code_hash, entry_id)"
	    " VALUES ($1::bytea, $2)", 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*err = vh_xstrdup(PQerrorMessage(db));
		receipt[0] = '\0';
		return (fail_tx(db, r, err, "receipt"));
	}
	PQclear(r);
	return (0);
}

/* Checks that an existing entry belongs to who. */
static int
check_entry(PGconn *db, const json_t *obj, const struct vh_principal *who,
    char *id, size_t idlen, char **err)
{
	char		 account[32];
	const char	*params[2] = { id, account };
	PGresult	*r;

	snprintf(id, idlen, "%lld",
	    (long long)json_integer_value(json_object_get(obj, "entry_id")));
	snprintf(account, sizeof account, "%lld", (long long)who->account_id);
	r = PQexecParams(db, "SELECT 1 FROM entry WHERE id = $1 AND"
	    " (account_id = $2 OR (SELECT role FROM account WHERE id = $2) ="
	    " 'admin') FOR UPDATE", 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		*err = vh_xstrdup(PQerrorMessage(db));
		return (fail_tx(db, r, err, "bad entry_id"));
	}
	if (PQntuples(r) == 0) {
		*err = vh_xasprintf("no entry %s of yours to add files to", id);
		PQclear(r);
		PQclear(PQexec(db, "ROLLBACK"));
		return (VH_EINVAL);
	}
	PQclear(r);
	return (0);
}

int
vh_entry_check_refs(PGconn *db, const json_t *obj,
    const struct vh_principal *who, char **err)
{
	char		 id[32], account[32], collection[32];
	const char	*params[5];
	PGresult	*r;
	int		 rc = 0;

	snprintf(id, sizeof id, "%lld",
	    (long long)json_integer_value(json_object_get(obj, "entry_id")));
	snprintf(account, sizeof account, "%lld", (long long)who->account_id);
	snprintf(collection, sizeof collection, "%lld",
	    (long long)who->collection_id);
	params[0] = json_object_get(obj, "entry_id") != NULL ? id : NULL;
	params[1] = account;
	/* Files added to an entry use none of its other fields. */
	params[2] = params[0] == NULL ? str(obj, "collection") : NULL;
	params[3] = who->collection_id != 0 ? collection : NULL;
	params[4] = params[0] == NULL ? str(obj, "occurred_at") : NULL;
	/* The same conditions as check_entry and insert_entry. */
	r = PQexecParams(db, "SELECT $1::bigint IS NULL OR EXISTS (SELECT 1"
	    " FROM entry WHERE id = $1 AND (account_id = $2 OR (SELECT role"
	    " FROM account WHERE id = $2) = 'admin')),"
	    " $3::text IS NULL OR $4::bigint IS NOT NULL OR"
	    " EXISTS (SELECT 1 FROM collection WHERE slug = $3),"
	    " $5::timestamptz", 5, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		if (strncmp(vh_db_sqlstate(r), "22", 2) == 0) {
			*err = vh_xstrdup("'occurred_at' must be a date and "
			    "time such as 2024-05-01T14:30:00+02:00");
			rc = VH_EINVAL;
		} else {
			*err = vh_xstrdup(PQerrorMessage(db));
			rc = VH_EDB;
		}
	} else if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		*err = vh_xasprintf("no entry %s of yours to add files to", id);
		rc = VH_EINVAL;
	} else if (strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
		*err = vh_xasprintf("no collection '%s'", str(obj, "collection"));
		rc = VH_EINVAL;
	}
	PQclear(r);
	if (rc == 0 && params[0] == NULL)
		rc = consent_text(db, obj, who, NULL, err);
	return (rc);
}

static int
store(PGconn *db, const json_t *obj, const struct vh_principal *who,
    const struct vh_entry_file *files, size_t n, int64_t *media_ids,
    json_t **out, bool own_tx, char **err)
{
	char		 id[32], size[32], receipt[VH_SECRET_LEN] = "";
	const char	*params[5];
	PGresult	*r;
	json_error_t	 jerr;
	int		 rc;

	*out = NULL;
	if (own_tx && (r = vh_db_exec(db, "BEGIN", 0, NULL, err)) == NULL)
		return (VH_EDB);
	if (own_tx)
		PQclear(r);
	if (json_object_get(obj, "entry_id") != NULL)
		rc = check_entry(db, obj, who, id, sizeof id, err);
	else if ((rc = insert_entry(db, obj, who, id, sizeof id, err)) == 0)
		rc = store_consent(db, obj, who, id, receipt, err);
	if (rc != 0)
		return (rc);
	for (size_t i = 0; i < n; i++) {
		snprintf(size, sizeof size, "%lld", (long long)files[i].size);
		params[0] = files[i].sha256;
		params[1] = size;
		params[2] = id;
		params[3] = files[i].filename != NULL ? files[i].filename : "";
		params[4] = files[i].declared_type != NULL ?
		    files[i].declared_type : "";
		r = PQexecParams(db,
		    "WITH b AS (INSERT INTO blob (sha256, size) VALUES ($1, $2)"
		    " ON CONFLICT (sha256) DO NOTHING),"
		    " m AS (INSERT INTO media (entry_id, blob_sha256, size,"
		    " filename, declared_type) VALUES ($3, $1, $2, $4, $5)"
		    " RETURNING id),"
		    /* The media job is queued in the same transaction. */
		    " j AS (INSERT INTO job (kind, media_id) SELECT 'media', id"
		    " FROM m) SELECT id FROM m",
		    5, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			*err = vh_xstrdup(PQerrorMessage(db));
			return (fail_tx(db, r, err, "bad file"));
		}
		if (media_ids != NULL)
			media_ids[i] = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	/* Wakes the media runners once the transaction commits. */
	if (n > 0) {
		r = PQexec(db, "NOTIFY " VH_JOBS_CHANNEL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			*err = vh_xstrdup(PQerrorMessage(db));
			return (fail_tx(db, r, err, "job"));
		}
		PQclear(r);
	}
	params[0] = id;
	r = PQexecParams(db,
	    "SELECT json_build_object('id', e.id, 'kind', e.kind, 'status',"
	    " e.status, 'title', e.title, 'text', e.body, 'area', e.area_code,"
	    " 'collection', c.slug, 'occurred_at', e.occurred_at, 'themes',"
	    " e.themes, 'consent', e.consent, 'created_at', e.created_at,"
	    " 'media', coalesce((SELECT json_agg(json_build_object('id', m.id,"
	    " 'sha256', m.blob_sha256, 'size', m.size, 'filename', m.filename,"
	    " 'declared_type', m.declared_type, 'status', m.status) ORDER BY"
	    " m.id) FROM media m WHERE m.entry_id = e.id), '[]'))"
	    " FROM entry e LEFT JOIN collection c ON c.id = e.collection_id"
	    " WHERE e.id = $1", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		*err = vh_xstrdup(PQerrorMessage(db));
		return (fail_tx(db, r, err, "entry"));
	}
	*out = json_loads(PQgetvalue(r, 0, 0), 0, &jerr);
	PQclear(r);
	/* Shown once, here; only its hash stays. */
	if (*out != NULL && receipt[0] != '\0')
		json_object_set_new(*out, "receipt", json_string(receipt));
	if (!own_tx)
		return (0);
	if ((r = vh_db_exec(db, "COMMIT", 0, NULL, err)) == NULL) {
		json_decref(*out);
		*out = NULL;
		return (VH_EDB);
	}
	PQclear(r);
	return (0);
}

int
vh_entry_store(PGconn *db, const json_t *obj, const struct vh_principal *who,
    const struct vh_entry_file *files, size_t n, int64_t *media_ids,
    json_t **out, char **err)
{
	return (store(db, obj, who, files, n, media_ids, out, true, err));
}

int
vh_entry_store_tx(PGconn *db, const json_t *obj,
    const struct vh_principal *who, const struct vh_entry_file *files,
    size_t n, int64_t *media_ids, json_t **out, char **err)
{
	return (store(db, obj, who, files, n, media_ids, out, false, err));
}
