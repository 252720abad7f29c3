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
-- slash, "km\/h", break PostgreSQL's reader). A backend loads the
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

-- The search functions of 0005 are patched where they name the text
-- search configuration and the highlight query, rather than copied
-- here whole, so that what later work changed in them (consent, roles)
-- is kept. A patch that no longer applies stops the migration.
DO $$
DECLARE
	fn text;
	src text;
	out text;
	edits text[][] := ARRAY[
	    ['vh_search_where(jsonb)', $a$websearch_to_tsquery(''dutch''$a$,
		$b$websearch_to_tsquery(''verhaal_dutch''$b$],
	    ['vh_search(jsonb)', $a$websearch_to_tsquery(''dutch''$a$,
		$b$websearch_to_tsquery(''verhaal_dutch''$b$],
	    ['vh_search(jsonb)', $a$ts_headline(''dutch''$a$,
		$b$ts_headline(''verhaal_dutch''$b$],
	    ['vh_search(jsonb)', $a$e.transcript), %s, ''StartSel$a$,
		$b$e.transcript), vh_headline_query(%s), ''StartSel$b$]];
BEGIN
	FOR i IN 1 .. array_length(edits, 1) LOOP
		fn := edits[i][1];
		src := pg_get_functiondef(fn::regprocedure);
		IF strpos(src, edits[i][2]) = 0 THEN
			RAISE EXCEPTION 'migration 0013: % no longer contains %',
			    fn, edits[i][2];
		END IF;
		out := replace(src, edits[i][2], edits[i][3]);
		EXECUTE out;
	END LOOP;
END $$;
