#ifndef VH_ODK_H
#define VH_ODK_H
/*
 * verhaal as an OpenRosa server (ODK Collect, ODK Web Forms): the
 * werkbezoek XForm generated from the themes and buurten, field workers'
 * ODK tokens and HTTP Basic logins, the confined parse of a submission's
 * XML, and the storing of a submission as a visit entry with the
 * OpenRosa rules for split, repeated and edited submissions. Blocking:
 * for worker threads.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "vh_auth.h"
#include "vh_odkxml.h"

#define VH_ODK_FORM_ID	"werkbezoek"

struct vh_odk_form {
	char	*xml;		/* caller frees (vh_odk_form_clear) */
	size_t	 len;
	char	 version[32];
	char	 md5[33];	/* hex MD5 of the xml bytes */
};

/* Builds the form from the database; 0 or VH_EDB with *err. */
int	vh_odk_form_build(PGconn *, struct vh_odk_form *, char **err)
	    __attribute__((warn_unused_result));
void	vh_odk_form_clear(struct vh_odk_form *);

/*
 * Parses a submission's XML in a confined child (vh_sandbox). 0;
 * VH_EINVAL or VH_ETOOBIG with *why for the client (the file's fault,
 * a crashed or stuck parser included); VH_EAGAIN with *why when no child
 * could be started. Caller frees *why.
 */
int	vh_odk_parse(const char *xml, size_t len,
	    struct vh_odkxml_instance *out, char **why)
	    __attribute__((warn_unused_result));

/* An attachment already durable in the blob store. */
struct vh_odk_file {
	const char	*filename;
	const char	*declared_type;
	char		 sha256[65];
	int64_t		 size;
};

struct vh_odk_submission {
	const struct vh_odkxml_instance	*inst;
	char				 xml_sha256[65];
	int64_t				 xml_size;
	const char			*device_id;	/* "" if none */
	bool				 incomplete;	/* *isIncomplete* = yes */
	bool				 keep_location;
	const struct vh_odk_file	*files;		/* named in inst only */
	size_t				 nfiles;
};

enum vh_odk_outcome {
	VH_ODK_NEW,		/* a new visit entry */
	VH_ODK_MORE,		/* the same instance: missing files added */
	VH_ODK_SAME,		/* the same instance, nothing new */
	VH_ODK_EDIT,		/* replaced its deprecatedID's version */
};

/*
 * Stores a submission for who in one transaction. 0 with *entry_id and
 * *outcome; VH_ECONFLICT (the instanceID holds other XML, or the
 * deprecatedID was already edited), VH_ENOENT (unknown deprecatedID),
 * VH_EINVAL (a value the entry refuses) with *err for the client; VH_EDB
 * with *err for the log.
 */
int	vh_odk_store(PGconn *, const struct vh_principal *,
	    const struct vh_odk_submission *, int64_t *entry_id,
	    enum vh_odk_outcome *outcome, char **err)
	    __attribute__((warn_unused_result));

/* An ODK token (kind 'odk' only: a token in a path reaches proxy logs,
 * so it opens nothing but the OpenRosa routes), as vh_auth_lookup_token. */
int	vh_odk_lookup_token(PGconn *, const char *token, struct vh_principal *,
	    char **err) __attribute__((warn_unused_result));
/* Failed Basic logins allowed per name and per address in a window
 * (the login_max_failures* and login_window settings). */
struct vh_odk_basic_limits {
	int64_t	max_account, max_address, window_ms;
};
/* HTTP Basic: an account's name and password, from client address addr
 * (a rate-limit key). VH_ENOENT for a wrong pair or a disabled account;
 * VH_ETOOBIG when too many failed; VH_EDB with *err. */
int	vh_odk_lookup_basic(PGconn *, const char *name, const char *password,
	    const char *addr, const struct vh_odk_basic_limits *,
	    struct vh_principal *, char **err) __attribute__((warn_unused_result));

/* A new ODK token for the field worker name (the account is made when
 * there is none, and *created says so, for the caller's user_add audit
 * row; it must be a field worker). 0 with the secret and the token's id;
 * VH_EINVAL with *err (bad name, not a field worker); VH_EDB. */
int	vh_odk_token_add(PGconn *, const char *name, bool *created,
	    char secret[VH_SECRET_LEN],
	    int64_t *id, char **err) __attribute__((warn_unused_result));

/* The server URL Collect is given for a token: base + "/odk/key/" +
 * token, base without a trailing slash. Caller frees. */
char	*vh_odk_server_url(const char *base, const char *token);
/* ODK Collect's settings QR payload: the JSON {"general": {"server_url":
 * url}, "admin": {}, "project": {"name": project}}, zlib-compressed, in
 * standard base64. Caller frees. */
char	*vh_odk_settings(const char *server_url, const char *project);

#endif
