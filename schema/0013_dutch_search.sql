-- Dutch morphology in search. Snowball's Dutch stemmer alone cuts words
-- by rule: "fietsen" becomes "fiets" but "fiets" becomes "fiet", and a
-- compound ("woninginbraak") stays one opaque stem. OpenTaal's Hunspell
-- dictionary (Debian's hunspell-nl) knows the words: through PostgreSQL's
-- ispell template it gives the stems of an inflected form (inbraken ->
-- inbraak, fietsje -> fiets) and splits compounds into their parts by
-- the dictionary's compound rules (inbraakpoging -> inbraakpoging,
-- inbraak, poging). Words it does not know fall through to Snowball.
-- One configuration, verhaal_dutch, serves documents and queries alike,
-- so both sides meet on the same lexemes.
--
-- PostgreSQL reads the dictionary from its tsearch_data directory as
-- verhaal_nl.dict / verhaal_nl.affix (UTF-8). `make deps`
-- (contrib/dev/deps.sh) writes them from /usr/share/hunspell/nl.{dic,aff};
-- Debian's own nl.dict cannot be loaded as is (entries with an escaped
-- slash, "km\/h", break PostgreSQL's reader), and its capitalised
-- street-name endings (-straat, -plein) are left out so that street names
-- are not split (deps.sh says more). A backend loads the
-- dictionary on first use: about 0.25 s and 19 MB per connection, paid
-- once by verhaald's long-lived pool connections.
DO $$
BEGIN
	CREATE TEXT SEARCH DICTIONARY verhaal_nl_hunspell (
		TEMPLATE = ispell, DictFile = verhaal_nl, AffFile = verhaal_nl,
		StopWords = dutch);
EXCEPTION WHEN OTHERS THEN
	RAISE EXCEPTION 'search needs the Dutch Hunspell dictionary verhaal_nl, made from Debian''s hunspell-nl package by `make deps`; PostgreSQL cannot load it'
	    USING DETAIL = 'PostgreSQL needs verhaal_nl.dict and verhaal_nl.affix '
		'in its tsearch_data directory ($(pg_config --sharedir)/tsearch_data); '
		'they are made from Debian''s hunspell-nl package '
		'(/usr/share/hunspell/nl.dic and nl.aff). Cause: ' || SQLERRM,
		HINT = 'run `make deps` (contrib/dev/deps.sh) as root on the '
		'database server, then migrate again';
END $$;

CREATE TEXT SEARCH CONFIGURATION verhaal_dutch (COPY = pg_catalog.dutch);
ALTER TEXT SEARCH CONFIGURATION verhaal_dutch
	ALTER MAPPING FOR asciiword, word, asciihword, hword, hword_part,
	    hword_asciipart
	WITH verhaal_nl_hunspell, dutch_stem;

-- The index, rebuilt on the new configuration (same name, same weights).
ALTER TABLE entry DROP COLUMN search;
ALTER TABLE entry ADD COLUMN search tsvector GENERATED ALWAYS AS
	(setweight(to_tsvector('verhaal_dutch'::regconfig, title), 'A') ||
	 setweight(to_tsvector('verhaal_dutch'::regconfig, vh_themes_text(themes)), 'B') ||
	 setweight(to_tsvector('verhaal_dutch'::regconfig, body), 'C') ||
	 setweight(to_tsvector('verhaal_dutch'::regconfig, transcript), 'D')) STORED;
CREATE INDEX entry_search_idx ON entry USING gin (search);

-- The query for highlighting: every positive word of q, any of them. A
-- phrase ('fiets' <-> 'gestolen') or an AND chooses which entries match;
-- once an entry matched, each of its words that the query names is
-- marked, not only those ts_headline's fragment cover happens to pick.
CREATE FUNCTION vh_headline_query(q tsquery) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN numnode(q) = 0 THEN q
	    ELSE regexp_replace(replace(q::text, '!', ''),
		'<->|<[0-9]+>|&', '|', 'g')::tsquery END
$$;

-- The search functions (0005, and whatever later migrations made of
-- them) are patched where they name the text search configuration or
-- the highlight query, rather than copied here whole, so that what other
-- work changed in them (consent, roles) is kept. Every function of this
-- schema that builds a Dutch query or headline moves to verhaal_dutch;
-- vh_search must also take the highlight query. A patch that no longer
-- applies stops the migration instead of leaving search half-moved.
DO $$
DECLARE
	p record;
	src text;
	edits text[][] := ARRAY[
	    [$a$to_tsquery(''dutch''$a$, $b$to_tsquery(''verhaal_dutch''$b$],
	    [$a$ts_headline(''dutch''$a$, $b$ts_headline(''verhaal_dutch''$b$],
	    [$a$to_tsquery('dutch'$a$, $b$to_tsquery('verhaal_dutch'$b$]];
	hl_from text := $a$e.transcript), %s, ''StartSel$a$;
	hl_to text := $b$e.transcript), vh_headline_query(%s), ''StartSel$b$;
	n int := 0;
BEGIN
	FOR p IN SELECT f.oid FROM pg_proc f
	    JOIN pg_namespace s ON s.oid = f.pronamespace
	   WHERE s.nspname = current_schema() AND f.prokind = 'f'
	     AND f.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')
	     AND f.prosrc ~ '''dutch'''
	LOOP
		src := pg_get_functiondef(p.oid);
		FOR i IN 1 .. array_length(edits, 1) LOOP
			src := replace(src, edits[i][1], edits[i][2]);
		END LOOP;
		IF p.oid = 'vh_search(jsonb)'::regprocedure THEN
			IF strpos(src, hl_from) = 0 THEN
				RAISE EXCEPTION 'migration 0013: vh_search no longer '
				    'builds its headline as 0005 did; patch it by hand';
			END IF;
			src := replace(src, hl_from, hl_to);
		END IF;
		IF src ~ '''dutch''' THEN
			RAISE EXCEPTION 'migration 0013: % still names the dutch '
			    'configuration in a way this patch does not know',
			    p.oid::regprocedure;
		END IF;
		EXECUTE src;
		n := n + 1;
	END LOOP;
	IF n < 2 OR strpos(pg_get_functiondef('vh_search(jsonb)'::regprocedure),
	    'vh_headline_query') = 0 THEN
		RAISE EXCEPTION 'migration 0013: the search functions were not found';
	END IF;
END $$;
