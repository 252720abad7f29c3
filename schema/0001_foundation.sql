-- Accounts and API tokens: who may call verhaal. Passwords and tokens are
-- stored only as hashes.
CREATE TABLE account (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
	role		text NOT NULL CHECK (role IN ('admin', 'moderator', 'analyst', 'fieldworker')),
	password_hash	text,
	disabled	boolean NOT NULL DEFAULT false,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_token (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id	bigint NOT NULL REFERENCES account ON DELETE CASCADE,
	token_hash	bytea NOT NULL UNIQUE,	-- SHA-256 of the secret
	label		text NOT NULL DEFAULT '',
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz,
	last_used_at	timestamptz,
	revoked_at	timestamptz
);
