-- Collections, entries, their media and the blobs that hold them, and the
-- state of resumable (tus) uploads.

-- A campaign or series of stories. Residents upload through the
-- collection's link, whose secret is stored only as a SHA-256.
CREATE TABLE collection (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	slug			text NOT NULL UNIQUE
				CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
	title			text NOT NULL,
	description		text NOT NULL DEFAULT '',
	consent_version		text NOT NULL DEFAULT '1',
	upload_secret_hash	bytea UNIQUE,
	created_at		timestamptz NOT NULL DEFAULT now()
);

-- Content-addressed file content; one row per distinct SHA-256.
CREATE TABLE blob (
	sha256		text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	size		bigint NOT NULL CHECK (size >= 0),
	created_at	timestamptz NOT NULL DEFAULT now()
);

-- One resident story or one werkbezoek.
CREATE TABLE entry (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('story', 'visit')),
	status		text NOT NULL DEFAULT 'received' CHECK (status IN
			('received', 'processing', 'pending_review', 'published',
			 'rejected', 'withdrawn')),
	title		text NOT NULL DEFAULT '',
	body		text NOT NULL DEFAULT '',
	area_code	text CHECK (area_code ~ '^(GM[0-9]{4}|WK[0-9]{6}|BU[0-9]{8})$'),
	collection_id	bigint REFERENCES collection,
	occurred_at	timestamptz,
	themes		text[] NOT NULL DEFAULT '{}',
	consent		jsonb,
	account_id	bigint REFERENCES account,	-- NULL for residents
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX entry_collection_idx ON entry (collection_id);
CREATE INDEX entry_area_idx ON entry (area_code);

-- One file of an entry. declared_type and filename are what the client
-- said; they are recorded, never trusted.
CREATE TABLE media (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entry_id	bigint NOT NULL REFERENCES entry ON DELETE CASCADE,
	blob_sha256	text NOT NULL REFERENCES blob,
	size		bigint NOT NULL,
	filename	text NOT NULL DEFAULT '',
	declared_type	text NOT NULL DEFAULT '',
	status		text NOT NULL DEFAULT 'received',
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_entry_idx ON media (entry_id);
CREATE INDEX media_blob_idx ON media (blob_sha256);

-- A tus upload in progress. "offset" is durable: the bytes before it were
-- fdatasync'd before it was written. Any verhaald can continue an upload.
CREATE TABLE upload (
	id		text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
	length		bigint CHECK (length >= 0),	-- NULL: deferred
	"offset"	bigint NOT NULL DEFAULT 0 CHECK ("offset" >= 0),
	metadata	text NOT NULL DEFAULT '',	-- the raw Upload-Metadata
	spool_name	text NOT NULL,
	account_id	bigint REFERENCES account,
	collection_id	bigint REFERENCES collection,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	completed_at	timestamptz,
	media_id	bigint REFERENCES media ON DELETE SET NULL,
	CHECK (length IS NULL OR "offset" <= length)
);
CREATE INDEX upload_expires_idx ON upload (expires_at) WHERE completed_at IS NULL;
