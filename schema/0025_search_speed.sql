-- Search speed (issue 14: free-text search no slower than before Dutch
-- morphology). Hunspell gives a word its variants ("buurt" is also a form
-- of "buur"), so a query matches more entries than Snowball's stem did,
-- and sort=relevance ranked every match: each one fetched from the heap
-- and passed through ts_rank, to keep 21. Most of a search's time went
-- there (tests/bench/search.sh; EXPLAIN in the issue's note).
--
-- The top of the ranking comes from the head of an entry: its title
-- (weight A) and theme tags (B). ts_rank with its default weights
-- {D 0.1, C 0.2, B 0.4, A 1.0} and no normalisation scores a disjunction
-- of words (what websearch_to_tsquery makes of one word and its
-- variants, or of "a or b") as the mean over the query's words of
--     (w_max + sum over the other positions j of w_j / j^2) / (pi^2 / 6)
-- (calc_rank_or in PostgreSQL's tsrank.c), which is below
-- w_max * (1 + pi^2 / 6) / (pi^2 / 6) = 1.608 w_max. An entry that has
-- none of the query's words in its head has w_max <= 0.2 (text C,
-- transcript D) for every word, so its rank is below 0.3216; one with a
-- word in its title ranks at least 0.608 for that word. So when at least
-- limit + 1 head matches rank above 0.33, the first page (and each page
-- after a cursor) is exactly the head matches' first page: no entry
-- outside the head can reach it. Otherwise, and for queries ranked by
-- another formula (AND and phrases: calc_rank_and, no such bound), every
-- match is ranked as before. The order, the pages and the ranks shown
-- are the same either way; only the work differs.
--
-- The head is found through its own index: the lexemes of search that
-- carry weight A or B (ts_filter), the same lexemes as the ranking sees.

CREATE INDEX entry_search_head_idx ON entry USING gin (ts_filter(search, '{a,b}'));

-- The page query "p" of vh_search: the first n entries of f's matches w
-- by ord, with their rank (rank: the ts_rank expression). q: the user's
-- query text, for the head condition.
CREATE FUNCTION vh_search_page_sql(rel boolean, rank text, w text, ord text,
    n int, q text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	tsq tsquery;
	all_ranked text := format('p AS (SELECT e.id, e.sort_at, %s AS rank'
	    ' FROM entry e WHERE %s ORDER BY %s LIMIT %s)', rank, w, ord, n);
BEGIN
	IF NOT rel OR q IS NULL THEN
		RETURN all_ranked;
	END IF;
	tsq := websearch_to_tsquery('verhaal_dutch', q);
	-- Only a disjunction of plain lexemes is ranked by calc_rank_or:
	-- no AND, phrase or NOT, no weights or prefixes (outside the quoted
	-- lexemes themselves).
	IF numnode(tsq) = 0 OR regexp_replace(tsq::text, '''([^'']|'''')*''',
	    '', 'g') ~ '[&<!:]' THEN
		RETURN all_ranked;
	END IF;
	-- h: the head matches' first page; its rows, when enough of them
	-- rank above the bound, else the whole ranking (not run otherwise:
	-- its one-time filter is false).
	RETURN format($q$h AS MATERIALIZED (SELECT e.id, e.sort_at, %1$s AS rank
		FROM entry e WHERE %2$s AND ts_filter(e.search, '{a,b}') @@ %5$L::tsquery
		ORDER BY %3$s LIMIT %4$s),
	hn AS MATERIALIZED (SELECT count(*) FILTER (WHERE rank > 0.33) = %4$s AS enough FROM h),
	p AS (SELECT h.* FROM h WHERE (SELECT enough FROM hn)
	    UNION ALL
	    (SELECT e.id, e.sort_at, %1$s AS rank FROM entry e
	      WHERE %2$s AND NOT (SELECT enough FROM hn) ORDER BY %3$s LIMIT %4$s))$q$,
	    rank, w, ord, n, tsq);
END $$;

-- vh_search takes its page query from vh_search_page_sql. Patched where
-- it builds it, as 0013 patched the configuration, so that what other
-- migrations made of vh_search is kept; a patch that no longer applies
-- stops the migration.
DO $$
DECLARE
	src text := pg_get_functiondef('vh_search(jsonb)'::regprocedure);
	p_from text := E'\tWITH p AS (\n\t\tSELECT e.id, e.sort_at, %1$s AS rank FROM entry e\n\t\t WHERE %2$s ORDER BY %3$s LIMIT %4$s),';
	p_to text := E'\tWITH %9$s,';
	a_from text := $a$vh_access_sql(f, 'read')) INTO page;$a$;
	a_to text := $a$vh_access_sql(f, 'read'), vh_search_page_sql(rel, rank, w, ord, lim + 1, f->>'q')) INTO page;$a$;
BEGIN
	IF strpos(src, p_from) = 0 OR strpos(src, a_from) = 0 OR
	    strpos(src, '%9$') <> 0 THEN
		RAISE EXCEPTION 'migration 0025: vh_search no longer builds its '
		    'page query as 0009 did; patch it by hand';
	END IF;
	EXECUTE replace(replace(src, p_from, p_to), a_from, a_to);
END $$;

-- Loads the Dutch dictionary into this session, which a backend otherwise
-- reads on its first search, in that request's time (about 0.25 s of CPU).
-- verhaald no longer calls it on connecting (that put the cost before the
-- first job of every pool worker, whatever the job); search pays it on
-- first use, and a caller that wants it paid earlier calls this.
-- (Migrations are recorded by version only, not by their text, so this
-- comment could be corrected after 0025 was applied.)
CREATE FUNCTION vh_session_warm() RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM to_tsvector('verhaal_dutch', 'verhaal');
END $$;
