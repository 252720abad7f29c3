/*
 * Entries. Clients describe an entry as a JSON object (the "entry" part of
 * a multipart submission) or as tus Upload-Metadata; both become the same
 * object, validated here against one list of fields. Storing runs on a
 * worker thread: blob rows, the entry and its media are written in one
 * transaction, after every file is already durable in the blob store.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh_areas.h"
#include "vh_audit.h"
#include "vh_config.h"
#include "vh_consent.h"
#include "vh_db.h"
#include "vh_entry.h"
#include "vh_jobq.h"
#include "vh_error.h"
#include "vh_xmalloc.h"

enum ftype { F_STRING, F_ARRAY, F_OBJECT, F_INTEGER, F_NUMBER };

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
	/* WGS84 degrees: they become the area, and are stored only with
	 * keep_location (vh_entry_set_rules). */
	{ "lat", F_NUMBER, 0 },
	{ "lon", F_NUMBER, 0 },
	/* A resident's browser's own secret: it may fetch the receipt
	 * again (schema/0019); never stored itself. */
	{ "device", F_STRING, 128 },
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
		case F_NUMBER:
			if (!json_is_number(v) || fabs(json_number_value(v)) >
			    (strcmp(key, "lat") == 0 ? 90 : 180)) {
				*why = vh_xasprintf("'%s' must be a number of "
				    "degrees (WGS84) from -%d to %d", key,
				    strcmp(key, "lat") == 0 ? 90 : 180,
				    strcmp(key, "lat") == 0 ? 90 : 180);
				return (VH_EINVAL);
			}
			break;
		}
	}
	if ((json_object_get(obj, "lat") == NULL) !=
	    (json_object_get(obj, "lon") == NULL)) {
		*why = vh_xstrdup("'lat' and 'lon' go together: send both or "
		    "neither");
		return (VH_EINVAL);
	}
	if (json_object_get(obj, "lat") != NULL &&
	    json_object_get(obj, "area") != NULL) {
		*why = vh_xstrdup("send 'area' or 'lat' and 'lon', not both: "
		    "the position decides the area");
		return (VH_EINVAL);
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
	/* A resident adds files only to a story its own device sent (the
	 * database checks the device, vh_entry_check_refs). */
	if (who->role == VH_ROLE_RESIDENT &&
	    ((kind != NULL && strcmp(kind, "story") != 0) ||
	    (json_object_get(obj, "entry_id") != NULL &&
	    json_object_get(obj, "device") == NULL))) {
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
	    "collection", "occurred_at", "device" };
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
	for (size_t i = 0; i < 2; i++) {
		const char	*key = i == 0 ? "lat" : "lon";
		char		*num;
		double		 d;

		if ((s = vh_tus_metadata_get(md, key, &len)) == NULL)
			continue;
		num = vh_xstrndup(s, len);
		d = strtod(num, &end);
		if (len == 0 || *end != '\0' || !isfinite(d)) {
			free(num);
			*why = vh_xasprintf("metadata '%s' must be decimal "
			    "degrees", key);
			goto fail;
		}
		free(num);
		json_object_set_new(obj, key, json_real(d));
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

/*
 * The code for a failed statement r (cleared here): bad dates and such
 * are the client's to fix (VH_EINVAL, *err becomes why), the rest
 * VH_EDB. The transaction is left to the function that began it.
 */
static int
fail_stmt(PGresult *r, char **err, const char *why)
{
	int	rc = VH_EDB;

	if (strncmp(vh_db_sqlstate(r), "22", 2) == 0) {
		free(*err);
		*err = vh_xasprintf("%s", why);
		rc = VH_EINVAL;
	}
	PQclear(r);
	return (rc);
}

/* Whether s may be quoted back to a client: a theme slug's characters. */
static bool
slug_like(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > 64)
		return (false);
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    s[i] != '-')
			return (false);
	return (true);
}

int
vh_entry_set_rules(PGconn *db, const struct vh_config *cfg, char **err)
{
	const char	*p[2] = { cfg->review_visits ? "true" : "false",
			    cfg->keep_location ? "true" : "false" };
	PGresult	*r;

	/* Session level: the connection is the worker's, and every
	 * submission sets them again, so a reload takes effect at once. */
	if ((r = vh_db_exec_prepared(db, "SELECT set_config('verhaal.review_visits',"
	    " $1, false), set_config('verhaal.keep_location', $2, false)", 2,
	    p, err)) == NULL)
		return (VH_EDB);
	PQclear(r);
	return (0);
}

int
vh_entry_count_fold(PGconn *db, int64_t *n, char **err)
{
	PGresult	*r;

	*n = 0;
	if ((r = vh_db_exec_prepared(db, "SELECT vh_entry_count_fold()", 0, NULL,
	    err)) == NULL)
		return (VH_EDB);
	*n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return (0);
}

/* The buurt holding the entry's 'lat'/'lon'. */
static int
locate(PGconn *db, const json_t *obj, char area[16], char **err)
{
	int	rc;

	rc = vh_areas_locate(db, json_number_value(json_object_get(obj, "lat")),
	    json_number_value(json_object_get(obj, "lon")), area);
	if (rc == VH_ENOENT || rc == VH_EINVAL) {
		*err = vh_xstrdup("no area boundary known to verhaal holds the "
		    "position 'lat'/'lon'; send 'area' (a CBS code) instead");
		return (VH_EINVAL);
	}
	if (rc != 0) {
		*err = vh_xstrdup("the position could not be looked up");
		return (VH_EDB);
	}
	return (0);
}

int
vh_entry_place(PGconn *db, json_t *obj, char **err)
{
	char	area[16];
	int	rc;

	if (json_object_get(obj, "lat") == NULL)
		return (0);
	if ((rc = locate(db, obj, area, err)) != 0)
		return (rc);
	json_object_del(obj, "lat");
	json_object_del(obj, "lon");
	json_object_set_new(obj, "area", json_string(area));
	return (0);
}

/*
 * The area an entry names: 'area', or the buurt holding 'lat'/'lon'
 * (the position itself is kept only with keep_location, by the
 * statement that stores the entry). Then every reference
 * must name something that exists: the area and each theme. area gets
 * the code ("" for none). VH_EINVAL with *err naming the field, VH_EDB.
 */
static int
resolve_refs(PGconn *db, const json_t *obj, char area[16], char **err)
{
	const json_t	*lat = json_object_get(obj, "lat");
	const char	*p[2];
	char		*themes = NULL, *why = NULL;
	PGresult	*r;
	int		 rc;

	area[0] = '\0';
	if (lat != NULL) {
		if ((rc = locate(db, obj, area, err)) != 0)
			return (rc);
	} else if (str(obj, "area") != NULL)
		snprintf(area, 16, "%s", str(obj, "area"));
	if (json_object_get(obj, "themes") != NULL)
		themes = json_dumps(json_object_get(obj, "themes"), JSON_COMPACT);
	p[0] = area[0] != '\0' ? area : NULL;
	p[1] = themes;
	r = vh_db_exec_prepared(db, "SELECT field, pos, value FROM"
	    " vh_entry_unknown_ref($1, $2::jsonb)", 2, p, &why);
	free(themes);
	if (r == NULL) {
		*err = why;
		return (VH_EDB);
	}
	rc = 0;
	if (PQntuples(r) == 1) {
		rc = VH_EINVAL;
		if (strcmp(PQgetvalue(r, 0, 0), "area") == 0)
			*err = vh_xasprintf("'area': no area %s is known to "
			    "verhaal (GET /api/v1/areas lists them)", area);
		else if (slug_like(PQgetvalue(r, 0, 2)))
			*err = vh_xasprintf("'themes': no theme '%s' (GET "
			    "/api/v1/themes lists them)", PQgetvalue(r, 0, 2));
		else
			*err = vh_xasprintf("'themes': item %s is no theme slug "
			    "(GET /api/v1/themes lists them)", PQgetvalue(r, 0, 1));
	}
	PQclear(r);
	return (rc);
}

/* The entry's 'lat'/'lon' as statement parameters, or NULL for none. */
static void
position(const json_t *obj, char lat[32], char lon[32], const char **plat,
    const char **plon)
{
	*plat = *plon = NULL;
	if (json_object_get(obj, "lat") == NULL)
		return;
	snprintf(lat, 32, "%.7f", json_number_value(json_object_get(obj,
	    "lat")));
	snprintf(lon, 32, "%.7f", json_number_value(json_object_get(obj,
	    "lon")));
	*plat = lat;
	*plon = lon;
}

/* Inserts the entry; *id gets its id. */
static int
insert_entry(PGconn *db, const json_t *obj, const struct vh_principal *who,
    char *id, size_t idlen, char **err)
{
	struct vh_db_params	 p;
	char			*themes, *consent;
	char			 area[16], lat[32], lon[32];
	const char		*plat, *plon;
	PGresult		*r;
	int			 rc;

	/* Only reports: the transaction is its beginner's to roll back. */
	if ((rc = resolve_refs(db, obj, area, err)) != 0)
		return (rc);
	themes = json_object_get(obj, "themes") != NULL ?
	    json_dumps(json_object_get(obj, "themes"), JSON_COMPACT) :
	    vh_xstrdup("[]");
	consent = json_object_get(obj, "consent") != NULL ?
	    json_dumps(json_object_get(obj, "consent"), JSON_COMPACT) : NULL;
	vh_db_params_init(&p);
	vh_db_params_str(&p, who->role == VH_ROLE_RESIDENT ? "story" :
	    str(obj, "kind"));
	vh_db_params_str(&p, str(obj, "title"));
	vh_db_params_str(&p, str(obj, "text"));
	vh_db_params_str(&p, area[0] != '\0' ? area : NULL);
	vh_db_params_id(&p, who->collection_id);
	vh_db_params_str(&p, str(obj, "collection"));
	vh_db_params_str(&p, str(obj, "occurred_at"));
	vh_db_params_str(&p, themes);
	vh_db_params_str(&p, consent);
	vh_db_params_id(&p, who->account_id);
	/* Residents' stories and visits wait for a moderator before
	 * analysts see them (schema/0017, vh_entry_set_rules). */
	vh_db_params_str(&p, who->role == VH_ROLE_RESIDENT ? "t" : "f");
	position(obj, lat, lon, &plat, &plon);
	vh_db_params_str(&p, plat);
	vh_db_params_str(&p, plon);
	r = vh_db_prepared(db,
	    "INSERT INTO entry (kind, title, body, area_code, collection_id,"
	    " occurred_at, themes, consent, account_id, status, lat, lon)"
	    " SELECT $1, coalesce($2, ''), coalesce($3, ''), $4,"
	    " coalesce($5::bigint, (SELECT id FROM collection WHERE slug = $6)),"
	    " $7::timestamptz,"
	    " ARRAY(SELECT jsonb_array_elements_text($8::jsonb)), $9::jsonb, $10,"
	    " vh_entry_initial_status($1, $11::boolean),"
	    " CASE WHEN vh_keep_location() THEN $12::float8 END,"
	    " CASE WHEN vh_keep_location() THEN $13::float8 END"
	    " WHERE $6::text IS NULL OR $5::bigint IS NOT NULL OR"
	    " EXISTS (SELECT 1 FROM collection WHERE slug = $6)"
	    " RETURNING id", p.n, p.v);
	free(themes);
	free(consent);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		*err = vh_xstrdup(PQerrorMessage(db));
		return (fail_stmt(r, err,
		    "'occurred_at' must be a date and time such as "
		    "2024-05-01T14:30:00+02:00"));
	}
	if (PQntuples(r) == 0) {
		*err = vh_xasprintf("no collection '%s'",
		    str(obj, "collection"));
		PQclear(r);
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
 * The receipt again for the browser that sent the story, should the answer
 * carrying it be lost: the device secret's hash, and the code sealed with
 * the secret (schema/0019). No device secret, nothing kept.
 */
static int
device_receipt(PGconn *db, const char *device, const char *id,
    const char receipt[VH_SECRET_LEN], char **err)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t		 hash[32], sealed[64];
	char		 hash_sql[67], sealed_sql[3 + 2 * sizeof sealed];
	const char	*params[3] = { id, hash_sql, sealed_sql };
	size_t		 n = strlen(receipt);
	PGresult	*r;

	if (device == NULL || strlen(device) < 16 || n > sizeof sealed)
		return (0);
	vh_auth_hash(device, hash);
	vh_auth_hash_sql(hash, hash_sql);
	vh_auth_seal(device, (const uint8_t *)receipt, n, sealed);
	memcpy(sealed_sql, "\\x", 2);
	for (size_t i = 0; i < n; i++) {
		sealed_sql[2 + 2 * i] = hex[sealed[i] >> 4];
		sealed_sql[3 + 2 * i] = hex[sealed[i] & 15];
	}
	sealed_sql[2 + 2 * n] = '\0';
	r = vh_db_prepared(db, "INSERT INTO receipt_device (entry_id, device_hash,"
	    " sealed) VALUES ($1, $2::bytea, $3::bytea)", 3, params);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*err = vh_xstrdup(PQerrorMessage(db));
		return (fail_stmt(r, err, "receipt"));
	}
	PQclear(r);
	return (0);
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
		    (rc = consent_text(db, obj, who, text_id, err)) != 0)
			return (rc == VH_EDB ? VH_EDB : VH_EINVAL);
		params[0] = id;
		params[1] = vh_consent_scope_name(c.scope);
		params[2] = c.version;
		params[3] = c.language;
		params[4] = *text_id != '\0' ? text_id : NULL;
		r = vh_db_prepared(db, "INSERT INTO consent (entry_id, scope,"
		    " text_version, language, collection_id, text_id)"
		    " SELECT id, $2, $3, $4, collection_id, $5::bigint FROM entry"
		    " WHERE id = $1", 5, params);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			*err = vh_xstrdup(PQerrorMessage(db));
			return (fail_stmt(r, err, "bad consent"));
		}
		PQclear(r);
	}
	if (who->role != VH_ROLE_RESIDENT)
		return (0);
	vh_auth_secret_new(receipt, hash);
	vh_auth_hash_sql(hash, hash_sql);
	params[0] = hash_sql;
	params[1] = id;
	r = vh_db_prepared(db, "INSERT INTO receipt (code_hash, entry_id)"
	    " VALUES ($1::bytea, $2)", 2, params);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*err = vh_xstrdup(PQerrorMessage(db));
		receipt[0] = '\0';
		return (fail_stmt(r, err, "receipt"));
	}
	PQclear(r);
	return (device_receipt(db, str(obj, "device"), id, receipt, err));
}

/*
 * A resident's device secret as the hash receipt_device holds, or NULL:
 * the browser that sent a story may add its photos to it (schema/0019).
 */
static const char *
device_hash(const json_t *obj, const struct vh_principal *who, char out[67])
{
	const char	*device = str(obj, "device");
	uint8_t		 hash[32];

	if (who->role != VH_ROLE_RESIDENT || device == NULL ||
	    strlen(device) < 16)
		return (NULL);
	vh_auth_hash(device, hash);
	vh_auth_hash_sql(hash, out);
	return (out);
}

/* Who may add files to an entry: its account, an admin, or the resident
 * device that sent it. */
#define OWNS_ENTRY "(account_id = $2 OR (SELECT role FROM account WHERE" \
	" id = $2) = 'admin' OR ($3::bytea IS NOT NULL AND EXISTS (SELECT 1" \
	" FROM receipt_device rd WHERE rd.entry_id = entry.id AND" \
	" rd.device_hash = $3::bytea)))"

/* Checks that an existing entry belongs to who. */
static int
check_entry(PGconn *db, const json_t *obj, const struct vh_principal *who,
    char *id, size_t idlen, char **err)
{
	struct vh_db_params	 p;
	char			 dev[67];
	PGresult		*r;

	/* id is the caller's too: the entry the files join. */
	snprintf(id, idlen, "%lld",
	    (long long)json_integer_value(json_object_get(obj, "entry_id")));
	vh_db_params_init(&p);
	vh_db_params_str(&p, id);
	vh_db_params_int(&p, who->account_id);
	vh_db_params_str(&p, device_hash(obj, who, dev));
	r = vh_db_prepared(db, "SELECT 1 FROM entry WHERE id = $1 AND "
	    OWNS_ENTRY " FOR UPDATE", p.n, p.v);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		*err = vh_xstrdup(PQerrorMessage(db));
		return (fail_stmt(r, err, "bad entry_id"));
	}
	if (PQntuples(r) == 0) {
		*err = vh_xasprintf("no entry %s of yours to add files to", id);
		PQclear(r);
		return (VH_EINVAL);
	}
	PQclear(r);
	return (0);
}

int
vh_entry_check_refs(PGconn *db, const json_t *obj,
    const struct vh_principal *who, char **err)
{
	struct vh_db_params	 p;
	char			 dev[67];
	bool			 add = json_object_get(obj, "entry_id") != NULL;
	PGresult		*r;
	int			 rc = 0;

	vh_db_params_init(&p);
	if (add)
		vh_db_params_int(&p,
		    json_integer_value(json_object_get(obj, "entry_id")));
	else
		vh_db_params_str(&p, NULL);
	vh_db_params_int(&p, who->account_id);
	/* Files added to an entry use none of its other fields. */
	vh_db_params_str(&p, !add ? str(obj, "collection") : NULL);
	vh_db_params_id(&p, who->collection_id);
	vh_db_params_str(&p, !add ? str(obj, "occurred_at") : NULL);
	vh_db_params_str(&p, device_hash(obj, who, dev));
	/* The same conditions as check_entry and insert_entry. */
	r = vh_db_prepared(db, "SELECT $1::bigint IS NULL OR EXISTS (SELECT 1"
	    " FROM entry WHERE id = $1 AND (account_id = $2 OR (SELECT role"
	    " FROM account WHERE id = $2) = 'admin' OR ($6::bytea IS NOT NULL"
	    " AND EXISTS (SELECT 1 FROM receipt_device rd WHERE"
	    " rd.entry_id = entry.id AND rd.device_hash = $6::bytea)))),"
	    " $3::text IS NULL OR $4::bigint IS NOT NULL OR"
	    " EXISTS (SELECT 1 FROM collection WHERE slug = $3),"
	    " $5::timestamptz", p.n, p.v);
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
		*err = vh_xasprintf("no entry %s of yours to add files to",
		    p.v[0]);
		rc = VH_EINVAL;
	} else if (strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
		*err = vh_xasprintf("no collection '%s'", str(obj, "collection"));
		rc = VH_EINVAL;
	}
	PQclear(r);
	if (rc == 0 && !add) {
		char area[16];

		rc = resolve_refs(db, obj, area, err);
	}
	if (rc == 0 && !add)
		rc = consent_text(db, obj, who, NULL, err);
	return (rc);
}

static int
store(PGconn *db, const json_t *obj, const struct vh_principal *who,
    const struct vh_entry_file *files, size_t n, int64_t *media_ids,
    json_t **out, bool own_tx, char **err)
{
	struct vh_db_params	 p;
	char			 id[32], receipt[VH_SECRET_LEN] = "";
	PGresult		*r;
	json_error_t		 jerr;
	int64_t			 media_id;
	int			 rc;

	*out = NULL;
	/* The transaction is this function's unless the caller holds one
	 * (own_tx false); only the function that began it rolls it back. */
	if (own_tx && vh_db_begin(db, err) != 0)
		return (VH_EDB);
	if (json_object_get(obj, "entry_id") != NULL)
		rc = check_entry(db, obj, who, id, sizeof id, err);
	else if ((rc = insert_entry(db, obj, who, id, sizeof id, err)) == 0)
		rc = store_consent(db, obj, who, id, receipt, err);
	if (rc != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		vh_db_params_init(&p);
		vh_db_params_str(&p, files[i].sha256);
		vh_db_params_int(&p, files[i].size);
		vh_db_params_str(&p, id);
		vh_db_params_str(&p, files[i].filename != NULL ?
		    files[i].filename : "");
		vh_db_params_str(&p, files[i].declared_type != NULL ?
		    files[i].declared_type : "");
		r = vh_db_prepared(db,
		    "WITH b AS (INSERT INTO blob (sha256, size) VALUES ($1, $2)"
		    " ON CONFLICT (sha256) DO NOTHING),"
		    " m AS (INSERT INTO media (entry_id, blob_sha256, size,"
		    " filename, declared_type) VALUES ($3, $1, $2, $4, $5)"
		    " RETURNING id) SELECT id FROM m", p.n, p.v);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			*err = vh_xstrdup(PQerrorMessage(db));
			rc = fail_stmt(r, err, "bad file");
			goto fail;
		}
		media_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		if (media_ids != NULL)
			media_ids[i] = media_id;
		PQclear(r);
		/* The media job is queued in the same transaction; the
		 * runners are woken when it commits. */
		if ((rc = vh_jobq_enqueue(db, "media", media_id, NULL, NULL,
		    err)) != 0)
			goto fail;
	}
	vh_db_params_init(&p);
	vh_db_params_str(&p, id);
	r = vh_db_prepared(db,
	    "SELECT json_build_object('id', e.id, 'kind', e.kind, 'status',"
	    " e.status, 'title', e.title, 'text', e.body, 'area', e.area_code,"
	    " 'collection', c.slug, 'occurred_at', e.occurred_at, 'themes',"
	    " e.themes, 'consent', e.consent, 'created_at', e.created_at,"
	    " 'media', coalesce((SELECT json_agg(json_build_object('id', m.id,"
	    " 'sha256', m.blob_sha256, 'size', m.size, 'filename', m.filename,"
	    " 'declared_type', m.declared_type, 'status', m.status) ORDER BY"
	    " m.id) FROM media m WHERE m.entry_id = e.id), '[]'))"
	    " FROM entry e LEFT JOIN collection c ON c.id = e.collection_id"
	    " WHERE e.id = $1", p.n, p.v);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		*err = vh_xstrdup(PQerrorMessage(db));
		rc = fail_stmt(r, err, "entry");
		goto fail;
	}
	*out = json_loads(PQgetvalue(r, 0, 0), 0, &jerr);
	PQclear(r);
	/* Shown once, here; only its hash stays. */
	if (*out != NULL && receipt[0] != '\0')
		json_object_set_new(*out, "receipt", json_string(receipt));
	if (!own_tx)
		return (0);
	if (vh_db_commit(db, err) != 0) {
		/* A failed COMMIT has rolled back. */
		json_decref(*out);
		*out = NULL;
		return (VH_EDB);
	}
	return (0);
fail:
	if (own_tx)
		vh_db_rollback(db);
	return (rc);
}

/* The fields a field worker may change in their own entry. */
static const char *const editable[] = { "title", "text", "area", "lat",
    "lon", "themes", "occurred_at" };

static int
edit_checks(const json_t *obj, const struct vh_principal *who, char **why)
{
	const char	*key;
	json_t		*v, *copy;
	size_t		 i;
	int		 rc;

	if (!json_is_object(obj) || json_object_size(obj) == 0) {
		*why = vh_xstrdup("send a JSON object with the fields to "
		    "change: title, text, area (or lat and lon), themes, "
		    "occurred_at");
		return (VH_EINVAL);
	}
	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; i < sizeof editable / sizeof editable[0]; i++)
			if (strcmp(key, editable[i]) == 0)
				break;
		if (i == sizeof editable / sizeof editable[0]) {
			*why = vh_xasprintf("'%s' cannot be changed; the fields "
			    "that can are title, text, area (or lat and lon), "
			    "themes and occurred_at", strlen(key) <= 32 &&
			    slug_like(key) ? key : "that field");
			return (VH_EINVAL);
		}
	}
	/* The same checks as a new entry's, for the fields sent. */
	copy = json_deep_copy(obj);
	json_object_set_new(copy, "entry_id", json_integer(1));
	rc = vh_entry_validate(copy, who, why);
	json_decref(copy);
	return (rc);
}

int
vh_entry_edit(PGconn *db, int64_t id, const struct vh_principal *who,
    const struct vh_audit_actor *actor, const json_t *obj, json_t **out,
    char **err)
{
	struct vh_db_params	 p;
	char			 area[16], *themes = NULL;
	char			 changed[128] = "", lat[32], lon[32];
	const char		*ids, *plat, *plon, *key;
	json_t			*v;
	json_error_t		 jerr;
	PGresult		*r = NULL;
	int			 rc;

	*out = NULL;
	if ((rc = edit_checks(obj, who, err)) != 0)
		return (rc);
	vh_db_params_init(&p);
	vh_db_params_int(&p, id);
	vh_db_params_int(&p, who->account_id);
	/* The id as text, for the messages and the audit row. */
	ids = p.v[0];
	if (vh_db_begin(db, err) != 0)
		return (VH_EDB);
	if ((r = vh_db_exec_prepared(db, "SELECT status FROM entry WHERE id = $1 AND"
	    " account_id = $2 FOR UPDATE", p.n, p.v, err)) == NULL) {
		rc = VH_EDB;
		goto fail;
	}
	/* Someone else's entry is no entry, as in every read path. */
	if (PQntuples(r) == 0) {
		*err = vh_xasprintf("no entry %s of yours", ids);
		rc = VH_ENOENT;
		goto fail;
	}
	if (strcmp(PQgetvalue(r, 0, 0), "published") == 0 ||
	    strcmp(PQgetvalue(r, 0, 0), "rejected") == 0 ||
	    strcmp(PQgetvalue(r, 0, 0), "withdrawn") == 0) {
		*err = vh_xasprintf("entry %s is %s; it can be changed only "
		    "until it is published", ids, PQgetvalue(r, 0, 0));
		rc = VH_ECONFLICT;
		goto fail;
	}
	PQclear(r);
	r = NULL;
	if ((rc = resolve_refs(db, obj, area, err)) != 0)
		goto fail;
	if (json_object_get(obj, "themes") != NULL)
		themes = json_dumps(json_object_get(obj, "themes"), JSON_COMPACT);
	vh_db_params_str(&p, str(obj, "title"));
	vh_db_params_str(&p, str(obj, "text"));
	vh_db_params_str(&p, json_object_get(obj, "area") != NULL ||
	    json_object_get(obj, "lat") != NULL ? area : NULL);
	vh_db_params_str(&p, themes);
	vh_db_params_str(&p, str(obj, "occurred_at"));
	position(obj, lat, lon, &plat, &plon);
	vh_db_params_str(&p, plat);
	vh_db_params_str(&p, plon);
	/* An approved entry that changes goes back to its reviewers. A new
	 * place replaces the kept point: a new position's (with
	 * keep_location), or none, as a point that no longer lies in the
	 * entry's buurt describes nothing. */
	r = vh_db_prepared(db, "UPDATE entry SET title = coalesce($3, title),"
	    " body = coalesce($4, body), area_code = coalesce($5, area_code),"
	    " lat = CASE WHEN $5::text IS NULL THEN lat WHEN vh_keep_location()"
	    " THEN $8::float8 END,"
	    " lon = CASE WHEN $5::text IS NULL THEN lon WHEN vh_keep_location()"
	    " THEN $9::float8 END,"
	    " themes = CASE WHEN $6::jsonb IS NULL THEN themes ELSE"
	    " ARRAY(SELECT jsonb_array_elements_text($6::jsonb)) END,"
	    " occurred_at = coalesce($7::timestamptz, occurred_at),"
	    " status = CASE WHEN status = 'approved' THEN"
	    " vh_entry_initial_status(kind, false) ELSE status END,"
	    " updated_at = now() WHERE id = $1 AND account_id = $2"
	    " RETURNING json_build_object('id', id, 'kind', kind, 'status',"
	    " status, 'title', title, 'text', body, 'area', area_code,"
	    " 'themes', themes, 'occurred_at', occurred_at, 'updated_at',"
	    " updated_at)", p.n, p.v);
	free(themes);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = strncmp(vh_db_sqlstate(r), "22", 2) == 0 ? VH_EINVAL : VH_EDB;
		*err = rc == VH_EINVAL ? vh_xstrdup("'occurred_at' must be a "
		    "date and time such as 2024-05-01T14:30:00+02:00") :
		    vh_xstrdup(PQerrorMessage(db));
		goto fail;
	}
	*out = json_loads(PQgetvalue(r, 0, 0), 0, &jerr);
	PQclear(r);
	r = NULL;
	/* The audit row names the fields, in the same transaction. */
	json_object_foreach((json_t *)obj, key, v) {
		if (changed[0] != '\0')
			strncat(changed, ",", sizeof changed - strlen(changed) - 1);
		strncat(changed, key, sizeof changed - strlen(changed) - 1);
	}
	if ((rc = vh_audit_record(db, actor, "edit", "entry", ids, changed,
	    err)) != 0)
		goto fail;
	if (vh_db_commit(db, err) != 0) {
		/* A failed COMMIT has rolled back. */
		json_decref(*out);
		*out = NULL;
		return (VH_EDB);
	}
	return (0);
fail:
	PQclear(r);
	vh_db_rollback(db);
	json_decref(*out);
	*out = NULL;
	return (rc);
}

int
vh_entry_claim_withdrawal(PGconn *db, int64_t id,
    const struct vh_principal *who, char **err)
{
	struct vh_db_params	 p;
	PGresult		*r;
	int			 rc = 0;

	vh_db_params_init(&p);
	vh_db_params_int(&p, id);
	vh_db_params_int(&p, who->account_id);
	/* One statement decides, so a moderator publishing at the same
	 * moment either wins (409 here) or finds it withdrawn. */
	if ((r = vh_db_exec_prepared(db, "WITH u AS (UPDATE entry SET status ="
	    " 'withdrawn', updated_at = now() WHERE id = $1 AND account_id ="
	    " $2 AND status NOT IN ('published', 'rejected') RETURNING id)"
	    " SELECT (SELECT count(*) FROM u), (SELECT status FROM entry"
	    " WHERE id = $1 AND account_id = $2)", p.n, p.v, err)) == NULL)
		return (VH_EDB);
	if (strcmp(PQgetvalue(r, 0, 0), "1") == 0)
		rc = 0;
	else if (PQgetisnull(r, 0, 1)) {
		*err = vh_xasprintf("no entry %s of yours", p.v[0]);
		rc = VH_ENOENT;
	} else {
		*err = vh_xasprintf("entry %s is %s; it can be withdrawn only "
		    "until it is published", p.v[0], PQgetvalue(r, 0, 1));
		rc = VH_ECONFLICT;
	}
	PQclear(r);
	return (rc);
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
