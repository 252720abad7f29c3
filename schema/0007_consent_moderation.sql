-- Consent as data, moderation and redaction, withdrawal and retention.
-- Nothing in the logs and tombstones below holds a story's content: they
-- name entries by id and say what happened, when and why.

-- What a resident agreed to, for one entry. The scopes, narrowest first:
-- analysis_only (counted and searched, never shown verbatim),
-- quote_anonymised (text may be read and quoted without names),
-- audio_to_staff (the recording may be played to staff), publish.
CREATE TABLE consent (
	entry_id	bigint PRIMARY KEY REFERENCES entry ON DELETE CASCADE,
	scope		text NOT NULL CHECK (scope IN ('analysis_only',
			'quote_anonymised', 'audio_to_staff', 'publish')),
	text_version	text NOT NULL CHECK (length(text_version) BETWEEN 1 AND 32),
	language	text NOT NULL CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$'),
	given_at	timestamptz NOT NULL DEFAULT now(),
	collection_id	bigint REFERENCES collection
);
CREATE INDEX consent_scope_idx ON consent (scope);

-- The withdrawal receipt a resident was shown once; only its SHA-256.
CREATE TABLE receipt (
	code_hash	bytea PRIMARY KEY,
	entry_id	bigint NOT NULL UNIQUE REFERENCES entry ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now()
);

-- Moderators' decisions on an entry. A reason is the moderator's words,
-- never a quote of the story; it goes with the entry when that is erased.
CREATE TABLE moderation (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entry_id	bigint NOT NULL REFERENCES entry ON DELETE CASCADE,
	account_id	bigint REFERENCES account ON DELETE SET NULL,
	action		text NOT NULL CHECK (action IN ('publish', 'reject')),
	reason		text NOT NULL DEFAULT '',
	at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX moderation_entry_idx ON moderation (entry_id);

-- Who redacted what and when: positions only (character ranges of a
-- field, millisecond ranges of a recording) and the replacement used,
-- never the removed words. Kept after the entry is gone (no foreign key).
CREATE TABLE redaction (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entry_id	bigint NOT NULL,
	media_id	bigint,
	account_id	bigint REFERENCES account ON DELETE SET NULL,
	actor		text NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('text', 'audio')),
	spans		jsonb NOT NULL,
	at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX redaction_entry_idx ON redaction (entry_id);

-- What remains of an erased entry: that it existed, of which kind, in
-- which collection and month, and why it went. No personal data.
CREATE TABLE tombstone (
	entry_id	bigint PRIMARY KEY,
	kind		text NOT NULL,
	collection_id	bigint REFERENCES collection ON DELETE SET NULL,
	created_month	date NOT NULL,
	removed_at	timestamptz NOT NULL DEFAULT now(),
	reason		text NOT NULL CHECK (reason IN ('withdrawn', 'retention',
			'admin'))
);

-- Every erasure: what (counts and ids), when, why, by whom; no content.
CREATE TABLE deletion_log (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entry_id	bigint NOT NULL,
	at		timestamptz NOT NULL DEFAULT now(),
	reason		text NOT NULL,
	actor		text NOT NULL,
	what		jsonb NOT NULL
);
CREATE INDEX deletion_log_at_idx ON deletion_log (at);

-- The SHA-256 names an entry's rows hold: every column that references
-- blob(sha256), in any table tied to the entry by entry_id or media_id
-- (so derived renditions added by later migrations are found too).
CREATE FUNCTION vh_entry_blobs(eid bigint) RETURNS SETOF text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	ref record;
BEGIN
	FOR ref IN
		SELECT c.conrelid::regclass AS tbl, a.attname AS col,
		    EXISTS (SELECT 1 FROM pg_attribute x WHERE
		    x.attrelid = c.conrelid AND x.attname = 'entry_id' AND
		    NOT x.attisdropped) AS has_entry,
		    EXISTS (SELECT 1 FROM pg_attribute x WHERE
		    x.attrelid = c.conrelid AND x.attname = 'media_id' AND
		    NOT x.attisdropped) AS has_media
		FROM pg_constraint c
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND
		    a.attnum = c.conkey[1]
		WHERE c.contype = 'f' AND c.confrelid = 'blob'::regclass
	LOOP
		IF ref.has_entry THEN
			RETURN QUERY EXECUTE format('SELECT %I::text FROM %s'
			    ' WHERE entry_id = $1 AND %I IS NOT NULL',
			    ref.col, ref.tbl, ref.col) USING eid;
		ELSIF ref.has_media THEN
			RETURN QUERY EXECUTE format('SELECT %I::text FROM %s'
			    ' WHERE media_id IN (SELECT id FROM media WHERE'
			    ' entry_id = $1) AND %I IS NOT NULL',
			    ref.col, ref.tbl, ref.col) USING eid;
		END IF;
	END LOOP;
END $$;

-- Whether any row still references the blob.
CREATE FUNCTION vh_blob_in_use(hex text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
	ref record;
	found boolean;
BEGIN
	FOR ref IN
		SELECT c.conrelid::regclass AS tbl, a.attname AS col
		FROM pg_constraint c
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND
		    a.attnum = c.conkey[1]
		WHERE c.contype = 'f' AND c.confrelid = 'blob'::regclass
	LOOP
		EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I = $1)',
		    ref.tbl, ref.col) INTO found USING hex;
		IF found THEN
			RETURN true;
		END IF;
	END LOOP;
	RETURN false;
END $$;
