#ifndef VH_API_H
#define VH_API_H
/* Request handlers, one file per family (vh_api_<family>.c), all routed
 * from the table in vh_routes.c. */
#include "vh_route.h"

#define VH_HANDLER(name) void name(struct vh_ctx *, struct vh_http_req *, \
	    const struct vh_route_params *, const struct vh_principal *)

/* vh_api_health.c */
VH_HANDLER(vh_api_healthz);
VH_HANDLER(vh_api_readyz);

/* vh_api_entries.c: one-request multipart submissions */
VH_HANDLER(vh_api_entries_post);
VH_HANDLER(vh_api_collection_upload);

/* vh_api_tus.c: resumable uploads */
VH_HANDLER(vh_api_tus_options);
VH_HANDLER(vh_api_tus_create);
VH_HANDLER(vh_api_tus_head);
VH_HANDLER(vh_api_tus_patch);
VH_HANDLER(vh_api_tus_delete);

/* vh_api_media.c: stored files */
VH_HANDLER(vh_api_media_original);
/* A stated reason for reading sealed data: 3 to 500 characters, not only
 * blanks, no control characters. */
bool	vh_api_reason_ok(const char *);

/* vh_api_session.c: logins */
VH_HANDLER(vh_api_session_login);
VH_HANDLER(vh_api_session_get);
VH_HANDLER(vh_api_session_logout);

/* vh_api_audit.c: the audit trail */
VH_HANDLER(vh_api_audit_list);
struct vh_config;

/* vh_api_renditions.c: what the media jobs made */
VH_HANDLER(vh_api_media_get);
VH_HANDLER(vh_api_media_opus);
VH_HANDLER(vh_api_media_m4a);
VH_HANDLER(vh_api_media_peaks);
VH_HANDLER(vh_api_media_display);
VH_HANDLER(vh_api_media_thumb);

/* vh_api_withdraw.c: a resident withdraws a story with a receipt code */
VH_HANDLER(vh_api_withdraw);

/* vh_api_own.c: a field worker changes or withdraws their own entry */
VH_HANDLER(vh_api_entry_patch);
VH_HANDLER(vh_api_entry_withdraw_own);
VH_HANDLER(vh_api_entry_patch_own);	/* vh_api_entry_patch's for field workers */
/* vh_api_resident.c: the resident's page, receipts again, a story's state */
VH_HANDLER(vh_api_resident_page);
VH_HANDLER(vh_api_upload_receipt);
VH_HANDLER(vh_api_receipt_status);
VH_HANDLER(vh_api_resident_buurten);
VH_HANDLER(vh_api_resident_buurten_geojson);
VH_HANDLER(vh_api_resident_settings);
/* The Dutch page for an upload link that does not work (410 when its
 * collection exists, else 404). */
void	vh_api_resident_dead_link(struct vh_http_req *, bool collection_exists);
/* An address refused for too many wrong upload links (429, Retry-After):
 * for a browser opening the link (page, and Accept prefers HTML) the
 * resident page saying how long to wait, else problem+json. */
void	vh_api_resident_refused(struct vh_ctx *, struct vh_http_req *,
	    bool page, int64_t retry_after_s);
/*
 * Receipt codes, the one check behind POST /api/v1/receipt and
 * /api/v1/withdraw. Worker: the entry stored under code, unless addr (a
 * rate-limit key) or the code tried too many wrong codes (VH_ETOOBIG,
 * *retry_after_s); a wrong code (VH_ENOENT) is counted against both.
 * cfg is the job's snapshot. VH_EDB with *err (caller frees).
 */
int	vh_api_receipt_find(struct vh_ctx *, const struct vh_config *,
	    PGconn *, const char *addr, const char *code, int64_t *entry,
	    int64_t *retry_after_s, char **err)
	    __attribute__((warn_unused_result));
struct json_t;
/* Loop: the code in a {"receipt"} body (caller frees), or NULL once a
 * 422 is answered. */
char	*vh_api_receipt_code(struct vh_http_req *, const struct json_t *body);
/* Loop: the 429 for too many wrong codes. */
void	vh_api_receipt_refuse(struct vh_http_req *, int64_t retry_after_s);

/* vh_api_moderation.c: approve, publish, reject, redact */
VH_HANDLER(vh_api_entry_approve);
VH_HANDLER(vh_api_entry_publish);
VH_HANDLER(vh_api_entry_reject);
VH_HANDLER(vh_api_entry_redact);

/* vh_api_entry_edit.c: a moderator's corrections, an entry's history */
VH_HANDLER(vh_api_entry_history);

/* vh_api_accounts.c: accounts and tokens (admins) */
VH_HANDLER(vh_api_accounts_list);
VH_HANDLER(vh_api_accounts_post);
VH_HANDLER(vh_api_account_patch);
VH_HANDLER(vh_api_tokens_list);
VH_HANDLER(vh_api_tokens_post);
VH_HANDLER(vh_api_token_revoke);

/* vh_api_web.c: the web app's pages and assets (web_root) */
VH_HANDLER(vh_api_web_app);
VH_HANDLER(vh_api_web_asset);
VH_HANDLER(vh_api_web_werkbezoek);
/* Answers req with the built page (e.g. "resident.html", borrowed) of
 * web_root, revalidated (no-cache), with the pages' security headers. */
void	vh_api_web_page(struct vh_ctx *, struct vh_http_req *, const char *page);
/* Adds the pages' headers (CSP, Referrer-Policy) to a response. */
void	vh_api_web_headers(struct vh_http_req *);

/* vh_api_search.c: search, one entry, exports */
VH_HANDLER(vh_api_search_entries);
VH_HANDLER(vh_api_entry_get);
VH_HANDLER(vh_api_job_get);
VH_HANDLER(vh_api_export_buurten_geojson);

/* vh_api_exports.c: the entry table (CSV, XLSX), area layers, fields */
VH_HANDLER(vh_api_export_entries_csv);
VH_HANDLER(vh_api_export_entries_xlsx);
VH_HANDLER(vh_api_export_entries_zip);
VH_HANDLER(vh_api_export_areas_geojson);
VH_HANDLER(vh_api_export_fields);

/* vh_api_areas.c: areas, indicators, dossiers, collections, themes */
VH_HANDLER(vh_api_areas_list);
VH_HANDLER(vh_api_area_get);
VH_HANDLER(vh_api_area_indicators);
VH_HANDLER(vh_api_area_dossier);
VH_HANDLER(vh_api_indicators_list);
VH_HANDLER(vh_api_collections_list);
VH_HANDLER(vh_api_collections_post);
/* Consent texts and a collection's public face (vh_api_collections.c). */
VH_HANDLER(vh_api_collection_consent_post);
VH_HANDLER(vh_api_collection_consent_get);
VH_HANDLER(vh_api_collection_get);
VH_HANDLER(vh_api_collection_link_rotate);
VH_HANDLER(vh_api_themes_list);
VH_HANDLER(vh_api_themes_post);

/* vh_api_odk.c: OpenRosa for ODK Collect and Web Forms; ODK tokens */
VH_HANDLER(vh_api_odk_form_list);
VH_HANDLER(vh_api_odk_form_get);
VH_HANDLER(vh_api_odk_submission_head);
VH_HANDLER(vh_api_odk_submission_post);
VH_HANDLER(vh_api_odk_tokens_post);
VH_HANDLER(vh_api_odk_tokens_list);
VH_HANDLER(vh_api_odk_token_revoke);
/* 401 for an OpenRosa route: a Basic challenge and an OpenRosaResponse. */
void	vh_api_odk_unauthorized(struct vh_http_req *, const char *detail);

#endif
