-- Logins, sessions, login throttling and the audit trail. Session ids and
-- CSRF tokens are stored only as their SHA-256, like API tokens.

ALTER TABLE account ADD COLUMN last_login_at timestamptz;
ALTER TABLE account ADD COLUMN password_changed_at timestamptz;

-- A browser session, made by POST /api/v1/session. It ends at expires_at,
-- or earlier when idle past the configured timeout, on logout, or when its
-- account is disabled or changes password (the rows are then deleted).
CREATE TABLE session (
	id_hash		bytea PRIMARY KEY,		-- SHA-256 of the cookie value
	account_id	bigint NOT NULL REFERENCES account ON DELETE CASCADE,
	csrf_hash	bytea NOT NULL,			-- SHA-256 of the CSRF token
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	last_seen_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_account ON session (account_id);
CREATE INDEX session_expires ON session (expires_at);

-- Failed logins counted in a window, per account name (as typed, so that
-- unknown names are throttled too) and per client address (an IPv6
-- address by its /64). A row past its window is reset on the next failure.
CREATE TABLE login_throttle (
	scope		text NOT NULL CHECK (scope IN ('account', 'address')),
	key		text NOT NULL,
	failures	integer NOT NULL DEFAULT 0,
	window_start	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (scope, key)
);

-- Who read, played, exported, redacted or deleted what, when and from
-- where. Rows hold identifiers and reasons, never story content, so they
-- may outlive the entries they name (a withdrawn entry's id stays here).
CREATE TABLE audit (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	account_id	bigint REFERENCES account ON DELETE SET NULL,
	actor		text NOT NULL,	-- account name, 'resident', 'anonymous', 'verhaalctl', 'system'
	actor_role	text NOT NULL DEFAULT '',
	action		text NOT NULL CHECK (action ~ '^[a-z][a-z_]{0,31}$'),
	object_type	text NOT NULL DEFAULT '' CHECK (object_type ~ '^[a-z_]{0,32}$'),
	object_id	text NOT NULL DEFAULT '',
	reason		text NOT NULL DEFAULT '',
	client_addr	text NOT NULL DEFAULT '',
	request_id	text NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_object ON audit (object_type, object_id, id);
CREATE INDEX audit_action ON audit (action, id);
