-- The audit trail made tamper-evident, and consent texts as data.
--
-- Audit rows are chained: each carries seq (its place in the chain), the
-- hash of the row before it (prev_hash) and its own hash, SHA-256 of
-- prev_hash || its canonical content (vh_audit_canon). The insert trigger
-- computes both under a row lock on audit_chain, the chain's head, so
-- concurrent inserts take their places one after the other and a rolled
-- back insert leaves the head as it was. Rows are append-only: a trigger
-- refuses UPDATE, DELETE and TRUNCATE except inside vh_audit_trim(),
-- which removes rows past the retention period and turns the newest
-- removed row into an anchor: it keeps its seq and hash, so the next row
-- still chains from it and vh_audit_verify() starts there.

-- Audit rows outlive the accounts they name (the name is in actor), and
-- ON DELETE SET NULL would be an UPDATE of an append-only row.
ALTER TABLE audit DROP CONSTRAINT IF EXISTS audit_account_id_fkey;
ALTER TABLE audit ADD COLUMN seq bigint;
ALTER TABLE audit ADD COLUMN prev_hash bytea;
ALTER TABLE audit ADD COLUMN hash bytea;
ALTER TABLE audit ADD COLUMN anchor boolean NOT NULL DEFAULT false;

CREATE TABLE audit_chain (
	one	boolean PRIMARY KEY DEFAULT true CHECK (one),
	seq	bigint NOT NULL,
	hash	bytea NOT NULL
);

-- What a row's hash covers: every column but the chain's own.
CREATE FUNCTION vh_audit_canon(a audit) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
	SELECT convert_to(jsonb_build_array(a.id, a.seq,
	    to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
	    a.account_id, a.actor, a.actor_role, a.action, a.object_type,
	    a.object_id, a.reason, a.client_addr, a.request_id)::text, 'UTF8')
$$;

-- Chain the rows written before this migration, oldest first.
DO $$
DECLARE
	r	record;
	h	bytea := decode(repeat('00', 32), 'hex');
	n	bigint := 0;
	x	audit;
BEGIN
	FOR r IN SELECT id FROM audit ORDER BY id LOOP
		n := n + 1;
		UPDATE audit SET seq = n, prev_hash = h WHERE id = r.id;
		SELECT * INTO x FROM audit WHERE id = r.id;
		h := sha256(h || vh_audit_canon(x));
		UPDATE audit SET hash = h WHERE id = r.id;
	END LOOP;
	INSERT INTO audit_chain (seq, hash) VALUES (n, h);
END $$;

ALTER TABLE audit ALTER COLUMN seq SET NOT NULL;
ALTER TABLE audit ALTER COLUMN prev_hash SET NOT NULL;
ALTER TABLE audit ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX audit_seq ON audit (seq);

CREATE FUNCTION vh_audit_chain_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	head	record;
BEGIN
	SELECT seq, hash INTO head FROM audit_chain FOR UPDATE;
	NEW.seq := head.seq + 1;
	NEW.prev_hash := head.hash;
	NEW.anchor := false;
	NEW.hash := sha256(NEW.prev_hash || vh_audit_canon(NEW));
	UPDATE audit_chain SET seq = NEW.seq, hash = NEW.hash;
	RETURN NEW;
END $$;
CREATE TRIGGER audit_chain_insert BEFORE INSERT ON audit
	FOR EACH ROW EXECUTE FUNCTION vh_audit_chain_insert();

-- Only vh_audit_trim() sets verhaal.audit_trim, for its own transaction.
CREATE FUNCTION vh_audit_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF coalesce(current_setting('verhaal.audit_trim', true), '') = 'on'
	    AND TG_OP <> 'TRUNCATE' THEN
		RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	END IF;
	IF TG_TABLE_NAME = 'audit_chain' AND TG_OP = 'UPDATE' AND
	    pg_trigger_depth() > 1 THEN
		RETURN NEW;	-- the insert trigger moving the head
	END IF;
	RAISE EXCEPTION 'audit rows are append-only (% refused)', TG_OP
	    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
	FOR EACH ROW EXECUTE FUNCTION vh_audit_guard();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION vh_audit_guard();
CREATE TRIGGER audit_chain_guard BEFORE UPDATE OR DELETE ON audit_chain
	FOR EACH ROW EXECUTE FUNCTION vh_audit_guard();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
	FOR EACH STATEMENT EXECUTE FUNCTION vh_audit_guard();

-- Where roles are separate (the tables owned by the role that migrates,
-- the daemon connecting as another), nobody but the owner may even try;
-- the triggers above hold for the owner and for superusers too (the test
-- clusters run everything as their superuser, so there they are the guard).
REVOKE UPDATE, DELETE, TRUNCATE ON audit, audit_chain FROM PUBLIC;

-- One audit row; for a daily action (plays) none when the same person
-- already has one for the same action and object today (UTC). Locks the
-- head first, so two plays at once still make one row. Returns the row's
-- id, or 0 when none was needed.
CREATE FUNCTION vh_audit_append(p_account bigint, p_actor text, p_role text,
    p_action text, p_type text, p_object text, p_reason text, p_addr text,
    p_request text, p_daily boolean) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	new_id	bigint;
BEGIN
	PERFORM 1 FROM audit_chain FOR UPDATE;
	IF p_daily AND EXISTS (SELECT 1 FROM audit WHERE object_type = p_type
	    AND object_id = p_object AND action = p_action AND actor = p_actor
	    AND account_id IS NOT DISTINCT FROM p_account
	    AND at >= date_trunc('day', now() AT TIME ZONE 'UTC')
	    AT TIME ZONE 'UTC') THEN
		RETURN 0;
	END IF;
	INSERT INTO audit (account_id, actor, actor_role, action, object_type,
	    object_id, reason, client_addr, request_id)
	VALUES (p_account, p_actor, p_role, p_action, p_type, p_object,
	    p_reason, p_addr, p_request) RETURNING id INTO new_id;
	RETURN new_id;
END $$;

-- Removes the rows older than cutoff; the newest of them stays as the
-- anchor the rest chains from. Returns how many rows went.
CREATE FUNCTION vh_audit_trim(cutoff timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	last	record;
	n	bigint;
BEGIN
	PERFORM 1 FROM audit_chain FOR UPDATE;
	SELECT id, seq INTO last FROM audit WHERE at < cutoff AND NOT anchor
	    ORDER BY seq DESC LIMIT 1;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	PERFORM set_config('verhaal.audit_trim', 'on', true);
	DELETE FROM audit WHERE seq < last.seq;
	GET DIAGNOSTICS n = ROW_COUNT;
	UPDATE audit SET anchor = true, account_id = NULL, actor = 'system',
	    actor_role = '', action = 'anchor', object_type = '',
	    object_id = '', reason = 'rows up to seq ' || last.seq ||
	    ' trimmed at ' || now(), client_addr = '', request_id = ''
	    WHERE id = last.id;
	PERFORM set_config('verhaal.audit_trim', 'off', true);
	RETURN n + 1;
END $$;

-- Walks the chain: ok, how many rows, and the first bad row with what is
-- wrong with it.
CREATE FUNCTION vh_audit_verify(OUT ok boolean, OUT nrows bigint,
    OUT bad_id bigint, OUT bad_seq bigint, OUT problem text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r	record;
	prev	record;
	head	record;
	first	boolean := true;
BEGIN
	ok := false;
	nrows := 0;
	FOR r IN SELECT a.id, a.seq, a.prev_hash, a.hash, a.anchor,
	    vh_audit_canon(a) AS canon FROM audit a ORDER BY a.seq LOOP
		nrows := nrows + 1;
		bad_id := r.id;
		bad_seq := r.seq;
		IF first THEN
			first := false;
			IF NOT r.anchor AND (r.seq <> 1 OR r.prev_hash <>
			    decode(repeat('00', 32), 'hex')) THEN
				problem := 'the chain starts neither at its first row'
				    ' nor at a trim anchor: rows before it are missing';
				RETURN;
			END IF;
		ELSE
			IF r.anchor THEN
				problem := 'a trim anchor inside the chain';
				RETURN;
			END IF;
			IF r.seq <> prev.seq + 1 THEN
				problem := 'rows between seq ' || prev.seq || ' and '
				    || r.seq || ' are missing';
				RETURN;
			END IF;
			IF r.prev_hash <> prev.hash THEN
				problem := 'it does not chain from the row before it';
				RETURN;
			END IF;
		END IF;
		IF NOT r.anchor AND r.hash <> sha256(r.prev_hash || r.canon) THEN
			problem := 'its content does not match its hash (changed)';
			RETURN;
		END IF;
		prev := r;
	END LOOP;
	SELECT seq, hash INTO head FROM audit_chain;
	IF first THEN
		bad_id := NULL;
		bad_seq := NULL;
		IF head.seq <> 0 THEN
			problem := 'every row is missing';
			RETURN;
		END IF;
	ELSIF head.seq <> prev.seq OR head.hash <> prev.hash THEN
		problem := 'rows after it are missing (the chain''s head is seq '
		    || head.seq || ')';
		RETURN;
	END IF;
	bad_id := NULL;
	bad_seq := NULL;
	ok := true;
END $$;

-- A collection's consent texts: what a resident was shown, per version
-- and language. A story's consent record points at the exact text.
CREATE TABLE consent_text (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	collection_id	bigint NOT NULL REFERENCES collection ON DELETE CASCADE,
	version		text NOT NULL CHECK (version ~ '^[A-Za-z0-9._-]{1,32}$'),
	language	text NOT NULL CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$'),
	body		text NOT NULL CHECK (length(body) BETWEEN 1 AND 100000),
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (collection_id, version, language),
	UNIQUE (id, collection_id)
);

-- The text a consent names, of the entry's own collection. NULL only for
-- an entry outside any collection (a staff upload with a consent taken on
-- paper): there is no collection text to point at. Records from before
-- this migration keep NULL (NOT VALID: new rows are checked).
ALTER TABLE consent ADD COLUMN text_id bigint;
ALTER TABLE consent ADD CONSTRAINT consent_text_fk
	FOREIGN KEY (text_id, collection_id)
	REFERENCES consent_text (id, collection_id);
ALTER TABLE consent ADD CONSTRAINT consent_names_text
	CHECK (collection_id IS NULL OR text_id IS NOT NULL) NOT VALID;
CREATE INDEX consent_text_idx ON consent (text_id);
