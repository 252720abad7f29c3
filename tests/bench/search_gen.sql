-- Generates :n bench entries inside PostgreSQL. Words follow a Zipf-like
-- law: a word's rank is drawn log-uniformly over the vocabulary, so the
-- probability of rank r falls as 1/r (a few very common words, a long
-- tail of rare ones). The vocabulary is a list of common Dutch words
-- followed by ~40,000 generated Dutch-looking compounds. Entries are
-- spread over the imported buurten (a few on wijk level or without area)
-- and over ten years; themes are skewed too.
\set ON_ERROR_STOP 1
SET synchronous_commit = off;
SET jit = off;
SELECT setseed(0.42);

CREATE TEMP TABLE common(w) AS SELECT w FROM regexp_split_to_table(trim(
'de het een en van in is dat op te zijn met voor niet er aan ook als bij om
 maar door over dan nog wel naar uit was heeft hebben worden wordt kan moet
 veel meer buurt straat wijk bewoners mensen politie overlast avond nacht
 jongeren huis woning auto fiets fietsen school park winkel station plein
 veilig onveilig gevoel melding meldingen inbraak inbraken gestolen diefstal
 ruzie geluid lawaai vuil afval drugs dealen handhaving wijkagent gemeente
 kinderen ouders buren vrienden hond honden verlichting donker licht camera
 camera''s toezicht boa''s gesprek bijeenkomst zorgen angst bang boos blij
 rustig druk verkeer parkeren scooter scooters brommer snelheid ongeluk
 brand vuurwerk oudjaar zomer winter weekend zaterdag vrijdag ochtend middag
 terras kroeg horeca festival toeristen studenten ouderen eenzaam hulp zorg
 wijkteam buurthuis speeltuin voetbal basketbal hangplek portiek galerij
 flat trappenhuis lift kelder berging schuur tuin raam deur slot sleutel
 glas kapot vernield graffiti bekladding poep zwerfvuil container ratten
 internet telefoon oplichting phishing whatsapp hacken fraude witwassen
 ondermijning criminaliteit wapen mes messen geweld mishandeling bedreiging
 discriminatie polarisatie radicalisering extremisme spanning vertrouwen
 samen contact buurtapp appgroep buurtpreventie wandelen surveilleren
 opgelost verbeterd erger beter slechter vroeger tegenwoordig laatste jaren'), '\s+') w;

-- Dutch-looking compounds: stem + stem + ending.
CREATE TEMP TABLE vocab AS
WITH c AS (SELECT w, row_number() OVER () AS r FROM common),
a(s) AS (SELECT unnest('{buurt,straat,wijk,huis,fiets,park,school,water,brug,
	kerk,markt,haven,veld,bos,dijk,laan,plein,hoek,poort,toren,molen,tuin,
	berg,dal,zand,steen,licht,vuur,wind,zon,maan,ster,boom,bloem,gras,riet,
	vogel,vis,paard,koe}'::text[])),
b(s) AS (SELECT unnest('{bewoner,wacht,hek,lamp,bank,pad,sloot,muur,dak,
	raam,deur,trap,gang,zaal,winkel,kraam,stoep,rand,kant,zijde,hoek,plek,
	punt,lijn,weg,spoor,baan,kade,gracht,singel,hof,erf,stal,schuur,kelder,
	zolder,kamer,keuken,werk,feest}'::text[])),
e(s) AS (SELECT unnest('{"",en,je,tje,s,er,ing,heid,achtig,loos,baar,ig,
	lijk,ster,jes,eren,de,te,st,e,ers,ingen,heden,isch,ief}'::text[])),
g AS (SELECT a.s || b.s || e.s AS w FROM a, b, e ORDER BY md5(a.s || b.s || e.s))
SELECT r::int AS rank, w FROM c
UNION ALL
SELECT (SELECT count(*) FROM common) + row_number() OVER ()::int, w FROM g;
CREATE UNIQUE INDEX ON vocab (rank);
ANALYZE vocab;

-- 30,000 sentences of 6-16 words, each word's rank log-uniform in 1..V.
CREATE TEMP TABLE draw AS
SELECT i, j, least(v.n, floor(exp(random() * ln(v.n::float8)))::int + 1) AS rk
  FROM (SELECT count(*)::int AS n FROM vocab) v, generate_series(1, 30000) i,
       generate_series(1, 16) j
 WHERE j <= 6 + (i * 7) % 11;
CREATE TEMP TABLE sent AS
SELECT d.i AS id, string_agg(v.w, ' ' ORDER BY d.j) AS s
  FROM draw d JOIN vocab v ON v.rank = d.rk GROUP BY d.i;
CREATE UNIQUE INDEX ON sent (id);
ANALYZE sent;

CREATE TEMP TABLE buurt AS
SELECT row_number() OVER (ORDER BY code)::int AS i, code FROM area WHERE level = 'buurt';
CREATE TEMP TABLE wijk AS
SELECT row_number() OVER (ORDER BY code)::int AS i, code FROM area WHERE level = 'wijk';
CREATE TEMP TABLE th AS
SELECT row_number() OVER (ORDER BY position, slug)::int AS i, slug FROM theme;
CREATE UNIQUE INDEX ON buurt (i);
CREATE UNIQUE INDEX ON wijk (i);
SELECT greatest(count(*), 1) AS nbuurt FROM buurt \gset
SELECT greatest(count(*), 1) AS nwijk FROM wijk \gset

-- Bulk load: no trigger and no indexes while rows go in; both are
-- rebuilt afterwards, as a bulk import would.
ALTER TABLE entry DISABLE TRIGGER entry_count_sync;
DROP INDEX entry_search_idx, entry_search_head_idx, entry_themes_idx, entry_sort_idx,
    entry_wijk_sort_idx, entry_account_idx, entry_area_idx,
    entry_collection_idx;
INSERT INTO entry (kind, status, title, body, area_code, occurred_at, themes, created_at)
SELECT CASE WHEN r1 < 0.7 THEN 'story' ELSE 'visit' END,
       CASE WHEN r2 < 0.85 THEN 'published' WHEN r2 < 0.93 THEN 'pending_review'
	    WHEN r2 < 0.97 THEN 'received' ELSE 'rejected' END,
       (SELECT left(s, 60) FROM sent WHERE id = 1 + (g * 31 + (r3 * 30000)::int) % 30000),
       (SELECT string_agg(s, '. ') FROM sent WHERE id IN (
	    1 + (g * 7 + (r4 * 30000)::int) % 30000, 1 + (g * 13 + (r5 * 30000)::int) % 30000,
	    1 + (g * 17 + (r3 * 29999)::int) % 30000, 1 + (g * 19 + (r1 * 29989)::int) % 30000)),
       CASE WHEN r6 < 0.02 THEN NULL
	    WHEN r6 < 0.07 THEN (SELECT code FROM wijk WHERE i = 1 + (g % :nwijk)::int)
	    ELSE (SELECT code FROM buurt WHERE i = 1 + ((g * 7 + (r6 * 1000)::int) % :nbuurt)::int) END,
       now() - interval '10 years' * r7,
       CASE WHEN r8 < 0.1 THEN '{}'::text[]
	    WHEN r8 < 0.7 THEN ARRAY[(SELECT slug FROM th WHERE i = least(11,
		1 + floor(exp(r5 * ln(12)) - 1)::int + (g * 0)))]
	    ELSE ARRAY(SELECT DISTINCT slug FROM th WHERE i IN (1 + (g % 11)::int,
		1 + ((g / 11) % 11)::int)) END,
       now() - interval '10 years' * r7 + interval '3 days'
  FROM (SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5,
	    random() r6, random() r7, random() r8
	  FROM generate_series(1, :n) g) x;
ALTER TABLE entry ENABLE TRIGGER entry_count_sync;
SET maintenance_work_mem = '512MB';
CREATE INDEX entry_search_idx ON entry USING gin (search);
CREATE INDEX entry_search_head_idx ON entry USING gin (ts_filter(search, '{a,b}'));
CREATE INDEX entry_themes_idx ON entry USING gin (themes);
CREATE INDEX entry_sort_idx ON entry (sort_at DESC, id DESC);
CREATE INDEX entry_wijk_sort_idx ON entry (wijk_code, sort_at DESC, id DESC);
CREATE INDEX entry_account_idx ON entry (account_id, sort_at DESC, id DESC);
CREATE INDEX entry_area_idx ON entry (area_code);
CREATE INDEX entry_collection_idx ON entry (collection_id);
SELECT vh_entry_count_rebuild() AS summary_rows;
VACUUM ANALYZE entry;
ANALYZE entry_count_total;	-- the totals behind the view (schema/0026)

-- Words for the queries, kept for the bench: mid-frequency words
-- (ranks 60-400 of the vocabulary, as people search), and the most
-- frequent non-stopword for a query matching most entries.
DROP TABLE IF EXISTS bench_word;
CREATE TABLE bench_word AS
SELECT row_number() OVER (ORDER BY rank)::int AS i, w FROM vocab
 WHERE rank BETWEEN 60 AND 400 AND w ~ '^[a-z]+$'
   AND to_tsvector('dutch', w) <> '' ORDER BY rank LIMIT 40;
