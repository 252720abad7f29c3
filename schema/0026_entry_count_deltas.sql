-- Entry counts without a shared row to lock (issue 18). Until now every
-- entry insert updated one entry_count row (schema/0005), and entries of
-- the same status, kind, wijk, collection and month share it: concurrent
-- uploads waited for each other's row lock until each committed, so
-- their commits came one after another and could not share a WAL flush.
--
-- Now the trigger only appends a delta row (+1 or -1 per key), which no
-- other transaction ever waits for. The totals live in
-- entry_count_total; entry_count is a view over totals and deltas
-- together, so every reader (they all sum n over a filter: facets,
-- "<k" suppression, dossiers, collection sizes) sees the same sums as
-- before, unchanged. vh_entry_count_fold(), run by the daemon's periodic
-- tus reaper task, moves committed deltas into the totals in one statement:
-- a reader's snapshot sees a delta either still as a delta or already in
-- its total, never both and never neither, and a delta that commits
-- during a fold is simply left for the next one.
--
-- A key whose count went back to 0 keeps its row (a 0 total, as the
-- old upsert left it), so even a group that sums to 0 appears exactly
-- as before.

ALTER TABLE entry_count RENAME TO entry_count_total;
ALTER TABLE entry_count_total RENAME CONSTRAINT entry_count_pkey
	TO entry_count_total_pkey;

-- No index and no key: an insert touches one heap page and nothing
-- else. Readers scan it, which stays cheap while the fold keeps it short.
CREATE TABLE entry_count_delta (
	status		text NOT NULL,
	kind		text NOT NULL,
	wijk		text NOT NULL,
	collection_id	bigint NOT NULL,
	month		date NOT NULL,
	theme		text NOT NULL,
	n		bigint NOT NULL
);

CREATE VIEW entry_count AS
	SELECT status, kind, wijk, collection_id, month, theme, n
	  FROM entry_count_total
	UNION ALL
	SELECT status, kind, wijk, collection_id, month, theme, n
	  FROM entry_count_delta;

CREATE OR REPLACE FUNCTION vh_entry_count_add(e entry, d integer)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO entry_count_delta (status, kind, wijk, collection_id,
	    month, theme, n)
	SELECT e.status, e.kind, coalesce(e.wijk_code, e.area_code, ''),
	    coalesce(e.collection_id, 0), e.month, t, d
	  FROM (SELECT '' AS t UNION SELECT DISTINCT unnest(e.themes)) s
$$;

-- Moves the committed deltas into the totals; returns how many delta rows
-- it folded (0 also when another fold or a rebuild holds the lock: the
-- deltas are then left to it or to the next fold). Deleting the deltas
-- and adding them to the totals is one statement with one snapshot,
-- committed together. Sorted keys: totals rows are locked in one order.
-- Folds and rebuilds take advisory lock (1986356067, 1) so that they never
-- run at the same time (two int4 keys: a space apart from the blob and
-- upload locks' bigint keys); inserts never take it.
CREATE FUNCTION vh_entry_count_fold() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	rows bigint;
BEGIN
	IF NOT pg_try_advisory_xact_lock(1986356067, 1) THEN
		RETURN 0;
	END IF;
	WITH d AS (DELETE FROM entry_count_delta RETURNING *),
	s AS (SELECT status, kind, wijk, collection_id, month, theme,
		sum(n) AS n, count(*) AS rows
	    FROM d GROUP BY 1, 2, 3, 4, 5, 6),
	u AS (INSERT INTO entry_count_total AS c (status, kind, wijk,
		collection_id, month, theme, n)
	    SELECT status, kind, wijk, collection_id, month, theme, n
	      FROM s ORDER BY theme, status, kind, wijk, collection_id, month
	    ON CONFLICT (theme, status, kind, wijk, collection_id, month)
	    DO UPDATE SET n = c.n + excluded.n)
	SELECT coalesce(sum(s.rows), 0) INTO rows FROM s;
	RETURN rows;
END $$;

CREATE OR REPLACE FUNCTION vh_entry_count_rebuild() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	rows bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(1986356067, 1);
	LOCK TABLE entry IN SHARE MODE;
	DELETE FROM entry_count_delta;
	DELETE FROM entry_count_total;
	INSERT INTO entry_count_total (status, kind, wijk, collection_id,
	    month, theme, n)
	SELECT status, kind, coalesce(wijk_code, area_code, ''),
	    coalesce(collection_id, 0),
	    month, t, count(*)
	  FROM entry, LATERAL (SELECT '' AS t UNION SELECT DISTINCT
	      unnest(themes)) s
	 GROUP BY 1, 2, 3, 4, 5, 6;
	GET DIAGNOSTICS rows = ROW_COUNT;
	RETURN rows;
END $$;
