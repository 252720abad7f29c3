-- Search: themes, the Dutch full-text index over entries, the columns
-- keyset pagination sorts on, and summary counts that keep facets and
-- dossiers fast over a million entries. The query builders live here too
-- (vh_search_* functions): verhaald passes the filters as one jsonb
-- object and gets JSON back, so the API and a psql session run exactly
-- the same SQL.

-- The safety plan's themes; admins add more. An entry's themes hold
-- slugs. indicator_key names the registered figure a theme is compared
-- with in a dossier (the divergence flag); NULL when there is none.
CREATE TABLE theme (
	slug		text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
	title		text NOT NULL UNIQUE CHECK (title <> ''),
	indicator_key	text,
	position	integer NOT NULL DEFAULT 1000,
	created_at	timestamptz NOT NULL DEFAULT now()
);
INSERT INTO theme (slug, title, indicator_key, position) VALUES
	('veiligheidsgevoel', 'Veiligheidsgevoel', NULL, 1),
	('woninginbraak', 'Woninginbraak',
	    '47018NED/GeregistreerdeMisdrijven_1/1.1.1', 2),
	('autokraak', 'Autokraak', '47018NED/GeregistreerdeMisdrijven_1/1.2.1', 3),
	('fietsendiefstal', 'Fietsendiefstal',
	    '47018NED/GeregistreerdeMisdrijven_1/1.2.3', 4),
	('overlast-en-leefbaarheid', 'Overlast en leefbaarheid',
	    '47018NED/GeregistreerdeMisdrijven_1/2.7.3', 5),
	('polarisatie-en-radicalisering', 'Polarisatie en radicalisering', NULL, 6),
	('digitale-veiligheid', 'Digitale veiligheid', NULL, 7),
	('kwetsbare-personen', 'Kwetsbare personen', NULL, 8),
	('ondermijning', 'Ondermijning', '47018NED/GeregistreerdeMisdrijven_1/3.1.1', 9),
	('geweld', 'Geweld', '47018NED/GeregistreerdeMisdrijven_1/1.4.5', 10),
	('toerisme-en-evenementen', 'Toerisme en evenementen', NULL, 11);

-- Themes as words for the index: "overlast-en-leefbaarheid" is found by
-- "overlast". array_to_string is only STABLE in general (element output
-- functions); for text[] it is immutable, which a generated column needs.
CREATE FUNCTION vh_themes_text(text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT translate(array_to_string($1, ' '), '-', ' ') $$;

ALTER TABLE entry ADD COLUMN transcript text NOT NULL DEFAULT '';
-- When it happened, or else when it arrived: the sort key of listings and
-- the time axis of filters and dossiers.
ALTER TABLE entry ADD COLUMN sort_at timestamptz
	GENERATED ALWAYS AS (coalesce(occurred_at, created_at)) STORED;
ALTER TABLE entry ADD COLUMN month date GENERATED ALWAYS AS
	(date_trunc('month', coalesce(occurred_at, created_at)
	    AT TIME ZONE 'Europe/Amsterdam')::date) STORED;
-- The wijk an entry lies in, so "a wijk includes its buurten" is one
-- equality and facets group by a column.
ALTER TABLE entry ADD COLUMN wijk_code text GENERATED ALWAYS AS
	(CASE WHEN area_code LIKE 'WK%' THEN area_code
	      WHEN area_code LIKE 'BU%' THEN 'WK' || substr(area_code, 3, 6) END)
	STORED;
ALTER TABLE entry ADD COLUMN search tsvector GENERATED ALWAYS AS
	(setweight(to_tsvector('dutch'::regconfig, title), 'A') ||
	 setweight(to_tsvector('dutch'::regconfig, vh_themes_text(themes)), 'B') ||
	 setweight(to_tsvector('dutch'::regconfig, body), 'C') ||
	 setweight(to_tsvector('dutch'::regconfig, transcript), 'D')) STORED;

CREATE INDEX entry_search_idx ON entry USING gin (search);
CREATE INDEX entry_themes_idx ON entry USING gin (themes);
-- Keyset pagination: (sort_at, id) descending, overall and per wijk.
CREATE INDEX entry_sort_idx ON entry (sort_at DESC, id DESC);
CREATE INDEX entry_wijk_sort_idx ON entry (wijk_code, sort_at DESC, id DESC);
CREATE INDEX entry_account_idx ON entry (account_id, sort_at DESC, id DESC);

-- Entry counts by every dimension a facet or a gemeente/wijk dossier
-- groups or filters on without free text. theme '' counts the entries
-- themselves; other rows count entries per theme (an entry with two
-- themes adds to both). Areas are kept at wijk level (the gemeente code
-- for entries placed on the gemeente, '' for none): buurten hold few
-- enough entries to count directly, and a finer key would make the
-- table nearly as long as entry itself.
-- Kept by a trigger; vh_entry_count_rebuild() recomputes it after bulk
-- loads that ran with the trigger disabled.
CREATE TABLE entry_count (
	status		text NOT NULL,
	kind		text NOT NULL,
	wijk		text NOT NULL,		-- WK…, GM… or ''
	collection_id	bigint NOT NULL,	-- 0 for none
	month		date NOT NULL,
	theme		text NOT NULL,
	n		bigint NOT NULL,
	PRIMARY KEY (theme, status, kind, wijk, collection_id, month)
);

CREATE FUNCTION vh_entry_count_add(e entry, d integer) RETURNS void
LANGUAGE sql AS $$
	-- Sorted keys: concurrent writers lock rows in the same order.
	INSERT INTO entry_count AS c (status, kind, wijk, collection_id,
	    month, theme, n)
	SELECT e.status, e.kind, coalesce(e.wijk_code, e.area_code, ''),
	    coalesce(e.collection_id, 0), e.month, t, d
	  FROM (SELECT '' AS t UNION SELECT DISTINCT unnest(e.themes)) s
	 ORDER BY t
	ON CONFLICT (theme, status, kind, wijk, collection_id, month)
	DO UPDATE SET n = c.n + excluded.n
$$;

CREATE FUNCTION vh_entry_count_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND (OLD.status, OLD.kind, OLD.wijk_code,
	    OLD.area_code, OLD.collection_id, OLD.month, OLD.themes) IS NOT
	    DISTINCT FROM (NEW.status, NEW.kind, NEW.wijk_code, NEW.area_code,
	    NEW.collection_id, NEW.month,
	    NEW.themes) THEN
		RETURN NULL;
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		PERFORM vh_entry_count_add(OLD, -1);
	END IF;
	IF TG_OP IN ('UPDATE', 'INSERT') THEN
		PERFORM vh_entry_count_add(NEW, 1);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER entry_count_sync AFTER INSERT OR UPDATE OR DELETE ON entry
	FOR EACH ROW EXECUTE FUNCTION vh_entry_count_sync();

CREATE FUNCTION vh_entry_count_rebuild() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	rows bigint;
BEGIN
	LOCK TABLE entry IN SHARE MODE;
	DELETE FROM entry_count;
	INSERT INTO entry_count (status, kind, wijk, collection_id, month,
	    theme, n)
	SELECT status, kind, coalesce(wijk_code, area_code, ''),
	    coalesce(collection_id, 0),
	    month, t, count(*)
	  FROM entry, LATERAL (SELECT '' AS t UNION SELECT DISTINCT
	      unnest(themes)) s
	 GROUP BY 1, 2, 3, 4, 5, 6;
	GET DIAGNOSTICS rows = ROW_COUNT;
	RETURN rows;
END $$;

-- The buurt (else wijk, else gemeente) whose boundary holds a WGS84
-- point, or NULL.
CREATE FUNCTION vh_area_at(lon double precision, lat double precision)
RETURNS text LANGUAGE sql STABLE AS $$
	SELECT code FROM area
	 WHERE boundary IS NOT NULL
	   AND ST_Contains(boundary, ST_SetSRID(ST_MakePoint(lon, lat), 4326))
	 ORDER BY CASE level WHEN 'buurt' THEN 0 WHEN 'wijk' THEN 1 ELSE 2 END
	 LIMIT 1
$$;

-- Periods in filters: "2023", "2023-05" or "2023-05-10", read in Dutch
-- local time. A start is the first instant of the period, an end the
-- first instant after it, so to=2023 includes all of 2023.
CREATE FUNCTION vh_period_start(p text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT CASE
	    WHEN p ~ '^\d{4}$' THEN make_date(p::int, 1, 1)
	    WHEN p ~ '^\d{4}-\d{2}$' THEN (p || '-01')::date
	    ELSE p::date END::timestamp AT TIME ZONE 'Europe/Amsterdam'
$$;
CREATE FUNCTION vh_period_end(p text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT CASE
	    WHEN p ~ '^\d{4}$' THEN make_date(p::int + 1, 1, 1)
	    WHEN p ~ '^\d{4}-\d{2}$' THEN ((p || '-01')::date + interval '1 month')::date
	    ELSE p::date + 1 END::timestamp AT TIME ZONE 'Europe/Amsterdam'
$$;

-- A count as shown: below k (but not 0) it becomes "<k".
CREATE FUNCTION vh_k(n bigint, k integer) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN n > 0 AND n < k THEN to_jsonb('<' || k)
	    ELSE to_jsonb(coalesce(n, 0)) END
$$;

-- Audio and photos: the family media processing found (0004), else
-- what the uploader declared or the file is named.
CREATE FUNCTION vh_entry_has(e_id bigint, what text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM media m WHERE m.entry_id = e_id AND
	    CASE WHEN m.family IS NOT NULL THEN
		m.family = CASE what WHEN 'audio' THEN 'audio' ELSE 'image' END
	    WHEN what = 'audio' THEN m.declared_type LIKE 'audio/%' OR m.filename ~*
		'\.(opus|ogg|oga|m4a|mp3|wav|aac|amr|3gp|flac|webm)$'
	    ELSE m.declared_type LIKE 'image/%' OR m.filename ~*
		'\.(jpe?g|png|heic|heif|webp|gif|tiff?)$' END)
$$;

-- Whether the viewer may read an entry's words verbatim: a story whose
-- consent is analysis_only is counted and searched, never shown to
-- analysts (the consent table arrives with 0007; resolved at run time).
CREATE FUNCTION vh_verbatim_sql(f jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN f->>'role' IN ('admin', 'moderator') THEN 'true'
	    ELSE 'NOT EXISTS (SELECT 1 FROM consent cs WHERE cs.entry_id = e.id'
		' AND cs.scope = ''analysis_only'')' END
$$;

CREATE FUNCTION vh_html_escape(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT replace(replace(replace(s, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')
$$;

-- The WHERE clause (over "entry e") for a filter object f:
--   role, account     who asks (analysts: published only; field workers:
--                     their own entries; admins and moderators: all)
--   q                 websearch syntax, Dutch configuration
--   area              GM (everything in it), WK (with its buurten), BU
--   theme             array of slugs, any of them
--   kind, status, collection (slug), from, to (vh_period_*),
--   has_audio, has_photo (booleans)
-- Values are inlined as quoted literals so the planner sees constants.
CREATE FUNCTION vh_search_where(f jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	w text[] := ARRAY['true'];
	a text := f->>'area';
BEGIN
	CASE f->>'role'
	WHEN 'admin', 'moderator' THEN NULL;
	WHEN 'analyst' THEN w := w || 'e.status = ''published'''::text;
	WHEN 'fieldworker' THEN
		w := w || format('e.account_id = %L::bigint', f->>'account');
	ELSE w := w || 'false'::text;
	END CASE;
	IF f ? 'q' THEN
		w := w || format('e.search @@ websearch_to_tsquery(''dutch'', %L)',
		    f->>'q');
	END IF;
	IF a LIKE 'GM%' THEN
		w := w || format('substr(e.area_code, 3, 4) = %L', substr(a, 3, 4));
	ELSIF a LIKE 'WK%' THEN
		w := w || format('e.wijk_code = %L', a);
	ELSIF a IS NOT NULL THEN
		w := w || format('e.area_code = %L', a);
	END IF;
	IF f ? 'theme' THEN
		w := w || format('e.themes && %L::text[]',
		    ARRAY(SELECT jsonb_array_elements_text(f->'theme')));
	END IF;
	IF f ? 'kind' THEN w := w || format('e.kind = %L', f->>'kind'); END IF;
	IF f ? 'status' THEN w := w || format('e.status = %L', f->>'status'); END IF;
	IF f ? 'collection' THEN
		w := w || format('e.collection_id = (SELECT id FROM collection'
		    ' WHERE slug = %L)', f->>'collection');
	END IF;
	IF f ? 'from' THEN
		w := w || format('e.sort_at >= %L::timestamptz',
		    vh_period_start(f->>'from'));
	END IF;
	IF f ? 'to' THEN
		w := w || format('e.sort_at < %L::timestamptz',
		    vh_period_end(f->>'to'));
	END IF;
	IF f ? 'has_audio' THEN
		w := w || format('%s vh_entry_has(e.id, ''audio'')',
		    CASE WHEN (f->>'has_audio')::boolean THEN '' ELSE 'NOT' END);
	END IF;
	IF f ? 'has_photo' THEN
		w := w || format('%s vh_entry_has(e.id, ''photo'')',
		    CASE WHEN (f->>'has_photo')::boolean THEN '' ELSE 'NOT' END);
	END IF;
	RETURN array_to_string(w, ' AND ');
END $$;

-- The same filter over entry_count c, or NULL when the summary cannot
-- answer it exactly (free text, themes, media, day-precise periods,
-- buurten, field workers).
CREATE FUNCTION vh_search_count_where(f jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	w text[] := ARRAY['true'];
	a text := f->>'area';
BEGIN
	IF f ?| ARRAY['q', 'theme', 'has_audio', 'has_photo'] OR a LIKE 'BU%' OR
	    f->>'from' !~ '^\d{4}(-\d{2})?$' OR f->>'to' !~ '^\d{4}(-\d{2})?$' THEN
		RETURN NULL;
	END IF;
	CASE f->>'role'
	WHEN 'admin', 'moderator' THEN NULL;
	WHEN 'analyst' THEN w := w || 'c.status = ''published'''::text;
	ELSE RETURN NULL;
	END CASE;
	IF a LIKE 'GM%' THEN
		w := w || format('substr(c.wijk, 3, 4) = %L', substr(a, 3, 4));
	ELSIF a LIKE 'WK%' THEN
		w := w || format('c.wijk = %L', a);
	END IF;
	IF f ? 'kind' THEN w := w || format('c.kind = %L', f->>'kind'); END IF;
	IF f ? 'status' THEN w := w || format('c.status = %L', f->>'status'); END IF;
	IF f ? 'collection' THEN
		w := w || format('c.collection_id = coalesce((SELECT id FROM'
		    ' collection WHERE slug = %L), -1)', f->>'collection');
	END IF;
	IF f ? 'from' THEN
		w := w || format('c.month >= %L::date',
		    (vh_period_start(f->>'from') AT TIME ZONE 'Europe/Amsterdam')::date);
	END IF;
	IF f ? 'to' THEN
		w := w || format('c.month < %L::date',
		    (vh_period_end(f->>'to') AT TIME ZONE 'Europe/Amsterdam')::date);
	END IF;
	RETURN array_to_string(w, ' AND ');
END $$;

-- Rounds an estimate to two significant digits.
CREATE FUNCTION vh_round2(x numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN x < 100 THEN round(x)::bigint
	    ELSE round(x, 1 - floor(log(x))::int)::bigint END
$$;

-- Total and facets (theme, wijk, kind) of a filter. Exact from
-- entry_count when it can answer; else exact while at most cap entries
-- match; beyond that estimated from the first cap matches in heap order,
-- scaled by how much of the table they covered (approximate: true).
-- Index scans are off so that "first in heap order" holds.
CREATE FUNCTION vh_search_facets(f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET enable_indexscan = off SET enable_indexonlyscan = off AS $$
DECLARE
	k int := coalesce((f->>'k')::int, 5);
	cap int := coalesce((f->>'facet_cap')::int, 5000);
	cw text := vh_search_count_where(f);
	r jsonb;
BEGIN
	IF cw IS NOT NULL THEN
		RETURN vh_search_facets_summary(cw, k);
	END IF;
	EXECUTE format($q$
	WITH m AS MATERIALIZED (
		SELECT e.kind, e.wijk_code, e.themes, (e.ctid::text::point)[0] AS blk
		  FROM entry e WHERE %1$s LIMIT %2$s + 1),
	s AS (SELECT count(*) AS n,
		CASE WHEN count(*) > %2$s THEN
		    greatest(pg_relation_size('entry') /
		    current_setting('block_size')::numeric, 1) / (max(blk) + 1)::numeric
		ELSE 1 END AS scale FROM m)
	SELECT jsonb_build_object(
	    'n', s.n, 'approximate', s.n > %2$s,
	    'total', vh_k(CASE WHEN s.n > %2$s THEN vh_round2((s.n * s.scale)::numeric)
		ELSE s.n END, %3$s),
	    'facets', jsonb_build_object(
		'theme', (SELECT coalesce(jsonb_agg(jsonb_build_object('value',
		    t, 'title', th.title, 'count', vh_k(c, %3$s))
		    ORDER BY c DESC, t), '[]')
		    FROM (SELECT t, vh_round2((count(*) * s.scale)::numeric) AS c FROM m,
		    unnest(m.themes) t GROUP BY t) x
		    LEFT JOIN theme th ON th.slug = x.t),
		'wijk', (SELECT coalesce(jsonb_agg(jsonb_build_object('value',
		    x.w, 'name', a.name, 'count', vh_k(c, %3$s))
		    ORDER BY c DESC, x.w), '[]')
		    FROM (SELECT wijk_code AS w, vh_round2((count(*) * s.scale)::numeric) AS c
		    FROM m WHERE wijk_code IS NOT NULL GROUP BY 1) x
		    LEFT JOIN area a ON a.code = x.w),
		'kind', (SELECT coalesce(jsonb_agg(jsonb_build_object('value',
		    x.kind, 'count', vh_k(c, %3$s)) ORDER BY x.kind), '[]')
		    FROM (SELECT kind, vh_round2((count(*) * s.scale)::numeric) AS c FROM m
		    GROUP BY 1) x)))
	  FROM s
	$q$, vh_search_where(f), cap, k) INTO r;
	RETURN r - 'n';
END $$;

CREATE FUNCTION vh_search_facets_summary(cw text, k int) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r jsonb;
BEGIN
	EXECUTE format($q$
	SELECT jsonb_build_object('approximate', false,
	    'total', (SELECT vh_k(coalesce(sum(n), 0)::bigint, %2$s)
		FROM entry_count c WHERE theme = '' AND %1$s),
	    'facets', jsonb_build_object(
		'theme', (SELECT coalesce(jsonb_agg(jsonb_build_object('value',
		    x.theme, 'title', th.title, 'count', vh_k(x.c, %2$s))
		    ORDER BY x.c DESC, x.theme), '[]')
		    FROM (SELECT c.theme, sum(n)::bigint AS c FROM entry_count c
		    WHERE theme <> '' AND %1$s GROUP BY 1 HAVING sum(n) > 0) x
		    LEFT JOIN theme th ON th.slug = x.theme),
		'wijk', (SELECT coalesce(jsonb_agg(jsonb_build_object('value',
		    x.w, 'name', a.name, 'count', vh_k(x.c, %2$s))
		    ORDER BY x.c DESC, x.w), '[]')
		    FROM (SELECT c.wijk AS w, sum(n)::bigint AS c FROM entry_count c
		    WHERE theme = '' AND c.wijk LIKE 'WK%%'
		    AND %1$s GROUP BY 1 HAVING sum(n) > 0) x
		    LEFT JOIN area a ON a.code = x.w),
		'kind', (SELECT coalesce(jsonb_agg(jsonb_build_object('value',
		    x.kind, 'count', vh_k(x.c, %2$s)) ORDER BY x.kind), '[]')
		    FROM (SELECT kind, sum(n)::bigint AS c FROM entry_count c
		    WHERE theme = '' AND %1$s GROUP BY 1 HAVING sum(n) > 0) x)))
	$q$, cw, k) INTO r;
	RETURN r;
END $$;

-- Decodes an opaque cursor (url-safe base64 of a small JSON object).
CREATE FUNCTION vh_cursor_decode(c text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT convert_from(decode(rpad(translate(c, '-_', '+/'),
	    (length(c) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb
$$;
CREATE FUNCTION vh_cursor_encode(j jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT rtrim(translate(replace(encode(convert_to(j::text, 'UTF8'),
	    'base64'), E'\n', ''), '+/', '-_'), '=')
$$;

-- One page of a search: f as for vh_search_where plus sort ("relevance",
-- the default with q, or "recent"), limit, cursor, k and facets (false
-- to skip them). Keyset pagination: the cursor holds the sort key of the
-- last entry shown, so entries arriving meanwhile never shift a page.
CREATE FUNCTION vh_search(f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	w text := vh_search_where(f);
	lim int := least(greatest(coalesce((f->>'limit')::int, 20), 1), 200);
	rel boolean := f ? 'q' AND coalesce(f->>'sort', 'relevance') = 'relevance';
	tsq text := format('websearch_to_tsquery(''dutch'', %L)', f->>'q');
	rank text := CASE WHEN rel THEN format('ts_rank(e.search, %s)', tsq)
	    ELSE 'NULL::real' END;
	ord text := CASE WHEN rel THEN 'rank DESC, id DESC'
	    ELSE 'sort_at DESC, id DESC' END;
	cur jsonb;
	page jsonb;
	nextc text;
	res jsonb;
BEGIN
	IF f ? 'cursor' THEN
		BEGIN
			cur := vh_cursor_decode(f->>'cursor');
		EXCEPTION WHEN OTHERS THEN
			RAISE invalid_parameter_value USING MESSAGE = 'bad cursor';
		END;
		IF (cur->>'s') IS DISTINCT FROM (CASE WHEN rel THEN 'r' ELSE 't' END) THEN
			RAISE invalid_parameter_value
			    USING MESSAGE = 'the cursor belongs to another sort order';
		END IF;
		w := w || CASE WHEN rel THEN format(
		    ' AND (%s, e.id) < (%L::real, %L::bigint)', rank, cur->>'r',
		    cur->>'i') ELSE format(
		    ' AND (e.sort_at, e.id) < (%L::timestamptz, %L::bigint)',
		    cur->>'t', cur->>'i') END;
	END IF;
	EXECUTE format($q$
	WITH p AS (
		SELECT e.id, e.sort_at, %1$s AS rank FROM entry e
		 WHERE %2$s ORDER BY %3$s LIMIT %4$s),
	q AS (SELECT p.*, row_number() OVER (ORDER BY %3$s) AS i FROM p)
	SELECT jsonb_build_object(
	    'items', coalesce(jsonb_agg(jsonb_build_object(
		'id', e.id, 'kind', e.kind, 'status', e.status, 'title', e.title,
		'snippet', CASE WHEN %8$s THEN %5$s END,
		'occurred_at', e.occurred_at, 'created_at', e.created_at,
		'area', CASE WHEN e.area_code IS NOT NULL THEN jsonb_build_object(
		    'code', e.area_code, 'name', a.name) END,
		'wijk', e.wijk_code,
		'themes', to_jsonb(e.themes), 'collection', c.slug,
		'rank', q.rank,
		'has_audio', vh_entry_has(e.id, 'audio'),
		'has_photo', vh_entry_has(e.id, 'photo'),
		'href', '/api/v1/entries/' || e.id) ORDER BY q.i)
		FILTER (WHERE q.i <= %6$s), '[]'),
	    'next', (SELECT jsonb_build_object('s', %7$L, 'r', q2.rank,
		't', q2.sort_at, 'i', q2.id) FROM q q2 WHERE q2.i = %6$s
		AND (SELECT count(*) FROM q) > %6$s))
	  FROM q JOIN entry e ON e.id = q.id
	  LEFT JOIN area a ON a.code = e.area_code
	  LEFT JOIN collection c ON c.id = e.collection_id
	$q$, rank, w, ord, lim + 1,
	    CASE WHEN f ? 'q' THEN format('ts_headline(''dutch'', vh_html_escape('
		'e.body || '' '' || e.transcript), %s, ''StartSel=<mark>, '
		'StopSel=</mark>, MaxFragments=2, MaxWords=25, MinWords=8'')', tsq)
	    ELSE 'vh_html_escape(left(e.body, 240))' END,
	    lim, CASE WHEN rel THEN 'r' ELSE 't' END, vh_verbatim_sql(f)) INTO page;
	res := jsonb_build_object('items', page->'items',
	    'next_cursor', CASE WHEN page->'next' <> 'null' THEN
		vh_cursor_encode(page->'next') END,
	    'sort', CASE WHEN rel THEN 'relevance' ELSE 'recent' END);
	IF coalesce((f->>'facets')::boolean, true) THEN
		res := res || vh_search_facets(f);
	END IF;
	RETURN res;
END $$;

-- One entry with its media, or NULL when f's viewer may not see it.
CREATE FUNCTION vh_entry_get(id bigint, f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r jsonb;
BEGIN
	EXECUTE format($q$
	SELECT jsonb_build_object('id', e.id, 'kind', e.kind, 'status', e.status,
	    'title', e.title, 'verbatim', %3$s,
	    'text', CASE WHEN %3$s THEN e.body END,
	    'transcript', CASE WHEN %3$s THEN e.transcript END,
	    'occurred_at', e.occurred_at, 'created_at', e.created_at,
	    'updated_at', e.updated_at,
	    'area', CASE WHEN e.area_code IS NOT NULL THEN jsonb_build_object(
		'code', e.area_code, 'name', a.name, 'level', a.level) END,
	    'wijk', CASE WHEN e.wijk_code IS NOT NULL THEN jsonb_build_object(
		'code', e.wijk_code, 'name', w.name) END,
	    'themes', to_jsonb(e.themes), 'collection', c.slug,
	    'consent', e.consent,
	    'media', coalesce((SELECT jsonb_agg(jsonb_build_object('id', m.id,
		'filename', m.filename, 'declared_type', m.declared_type,
		'size', m.size, 'sha256', m.blob_sha256, 'status', m.status,
		'href', '/api/v1/media/' || m.id, 'original', '/api/v1/media/' || m.id || '/original') ORDER BY m.id)
		FROM media m WHERE m.entry_id = e.id), '[]'))
	  FROM entry e LEFT JOIN area a ON a.code = e.area_code
	  LEFT JOIN area w ON w.code = e.wijk_code
	  LEFT JOIN collection c ON c.id = e.collection_id
	 WHERE e.id = %1$s AND %2$s$q$, id,
	    vh_search_where(f - ARRAY['q', 'area', 'theme', 'kind', 'status',
	    'collection', 'from', 'to', 'has_audio', 'has_photo']),
	    vh_verbatim_sql(f)) INTO r;
	RETURN r;
END $$;

-- Stories of an area as rows (theme, month, n) for the dossier: from
-- entry_count for a gemeente or wijk, counted directly for a buurt.
-- analyst: published entries only.
CREATE FUNCTION vh_dossier_counts(code text, role text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN code LIKE 'BU%' THEN format('(SELECT t AS theme,'
	    ' e.month, count(*) AS n FROM entry e, LATERAL (SELECT '''' AS t'
	    ' UNION SELECT DISTINCT unnest(e.themes)) x WHERE e.area_code = %L'
	    ' AND %s GROUP BY 1, 2)', code, CASE WHEN role = 'analyst' THEN
	    'e.status = ''published''' ELSE 'true' END)
	ELSE format('(SELECT theme, month, sum(n) AS n FROM entry_count c'
	    ' WHERE %s AND %s GROUP BY 1, 2)', CASE WHEN code LIKE 'GM%'
	    THEN format('substr(c.wijk, 3, 4) = %L', substr(code, 3, 4))
	    ELSE format('c.wijk = %L', code) END, CASE WHEN role = 'analyst'
	    THEN 'c.status = ''published''' ELSE 'true' END) END
$$;

-- An area's dossier: f = {code, from, to (years), role, k}. Indicator
-- series; stories per theme and year on the same axis (from
-- entry_count); the latest entries; and per theme with a linked
-- indicator whether figures and stories move apart. NULL: no such area.
CREATE FUNCTION vh_area_dossier(f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	code text := f->>'code';
	k int := coalesce((f->>'k')::int, 5);
	y1 int := coalesce(substr(f->>'to', 1, 4)::int,
	    extract(year FROM now())::int);
	y0 int := coalesce(substr(f->>'from', 1, 4)::int, y1 - 9);
	src text := vh_dossier_counts(f->>'code', f->>'role');
	area jsonb;
	series jsonb;
	stories jsonb;
	totals jsonb;
	div jsonb;
	latest jsonb;
BEGIN
	SELECT jsonb_build_object('code', a.code, 'name', a.name, 'level', a.level,
	    'parent', a.parent) INTO area FROM area a WHERE a.code = f->>'code';
	IF area IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT coalesce(jsonb_agg(jsonb_build_object('key', i.key, 'title',
	    i.title, 'unit', i.unit, 'source', i.source, 'values', v.vals)
	    ORDER BY i.key), '[]') INTO series
	  FROM indicator i JOIN LATERAL (
		SELECT jsonb_agg(jsonb_build_object('period', iv.period,
		    'period_type', iv.period_type, 'value', iv.value)
		    ORDER BY iv.period_start, iv.period) AS vals
		  FROM indicator_value iv
		 WHERE iv.indicator_id = i.id AND iv.area_code = code
		   AND (iv.period_start IS NULL OR extract(year FROM
		       iv.period_start) BETWEEN y0 AND y1)) v ON v.vals IS NOT NULL;
	-- Per theme and year, zero-filled on the axis.
	EXECUTE format($q$
	WITH y AS (SELECT generate_series(%1$s, %2$s) AS y),
	cnt AS (SELECT c.theme, extract(year FROM c.month)::int AS y,
		sum(n)::bigint AS n FROM %3$s c
		WHERE %4$s AND c.month >= make_date(%1$s, 1, 1)
		AND c.month < make_date(%2$s + 1, 1, 1) GROUP BY 1, 2),
	th AS (SELECT DISTINCT theme FROM cnt WHERE theme <> '' AND n > 0)
	SELECT jsonb_build_object(
	    'themes', (SELECT coalesce(jsonb_agg(jsonb_build_object(
		'theme', th.theme, 'title', t.title, 'counts',
		(SELECT jsonb_agg(vh_k(coalesce(cnt.n, 0), %5$s) ORDER BY y.y)
		   FROM y LEFT JOIN cnt ON cnt.y = y.y AND cnt.theme = th.theme))
		ORDER BY th.theme), '[]') FROM th LEFT JOIN theme t
		ON t.slug = th.theme),
	    'total', (SELECT jsonb_agg(vh_k(coalesce(cnt.n, 0), %5$s) ORDER BY y.y)
		FROM y LEFT JOIN cnt ON cnt.y = y.y AND cnt.theme = ''))
	$q$, y0, y1, src, 'true', k) INTO stories;
	-- Divergence: first and last year of the window with a figure.
	EXECUTE format($q$
	WITH l AS (SELECT t.slug, t.title, i.id AS ind, i.key FROM theme t
		JOIN indicator i ON i.key = t.indicator_key),
	v AS (SELECT l.slug, iv.period::int AS y, iv.value FROM l
		JOIN indicator_value iv ON iv.indicator_id = l.ind
		WHERE iv.area_code = %3$L AND iv.period_type = 'year'
		AND iv.value IS NOT NULL AND iv.period::int BETWEEN %1$s AND %2$s),
	ends AS (SELECT slug, min(y) AS ya, max(y) AS yb FROM v GROUP BY 1
		HAVING min(y) < max(y)),
	s AS (SELECT c.theme, extract(year FROM c.month)::int AS y,
		sum(n)::bigint AS n FROM %4$s c WHERE %5$s
		GROUP BY 1, 2),
	d AS (SELECT l.slug, l.key, e.ya, e.yb,
		(SELECT value FROM v WHERE v.slug = l.slug AND v.y = e.ya) AS ia,
		(SELECT value FROM v WHERE v.slug = l.slug AND v.y = e.yb) AS ib,
		coalesce((SELECT n FROM s WHERE s.theme = l.slug AND s.y = e.ya), 0) AS sa,
		coalesce((SELECT n FROM s WHERE s.theme = l.slug AND s.y = e.yb), 0) AS sb
		FROM l JOIN ends e ON e.slug = l.slug),
	r AS (SELECT d.*, CASE WHEN ia > 0 THEN (ib - ia) / ia END AS ic,
		CASE WHEN sa >= %6$s AND sb >= %6$s THEN (sb - sa)::numeric / sa END AS sc
		FROM d)
	SELECT coalesce(jsonb_agg(jsonb_build_object('theme', slug,
	    'indicator', key, 'from', ya, 'to', yb,
	    'indicator_change', round(ic, 3), 'stories', jsonb_build_array(
		vh_k(sa, %6$s), vh_k(sb, %6$s)),
	    'stories_change', round(sc, 3),
	    'diverging', coalesce(sign(ic) * sign(sc) < 0 AND abs(ic) >= 0.1
		AND abs(sc) >= 0.1, false),
	    'note', CASE WHEN sc IS NULL THEN 'too few stories to compare'
		WHEN sign(ic) * sign(sc) < 0 AND abs(ic) >= 0.1 AND abs(sc) >= 0.1
		THEN CASE WHEN ic < 0 THEN 'registered figures fall while stories rise'
		ELSE 'registered figures rise while stories fall' END
		ELSE 'figures and stories move together' END) ORDER BY slug), '[]')
	  FROM r
	$q$, y0, y1, code, src, 'true', k) INTO div;
	latest := vh_search(jsonb_build_object('role', f->>'role', 'account',
	    f->>'account', 'area', code, 'limit', 10, 'facets', false))->'items';
	RETURN jsonb_build_object('area', area, 'from', y0, 'to', y1,
	    'axis', (SELECT jsonb_agg(g::text) FROM generate_series(y0, y1) g),
	    'indicators', series, 'stories', stories, 'divergence', div,
	    'latest', latest, 'k', k);
END $$;

-- The export query for f (COPY … TO STDOUT as CSV): one row per entry.
CREATE FUNCTION vh_export_entries_sql(f jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT format($q$
	SELECT e.id, e.kind, e.status, e.occurred_at, e.created_at,
	    e.area_code, a.name AS area_name, e.wijk_code, w.name AS wijk_name,
	    c.slug AS collection, array_to_string(e.themes, ';') AS themes,
	    e.title, CASE WHEN %2$s THEN e.body END AS text,
	    CASE WHEN %2$s THEN e.transcript END AS transcript,
	    (SELECT count(*) FROM media m WHERE m.entry_id = e.id) AS media
	  FROM entry e LEFT JOIN area a ON a.code = e.area_code
	  LEFT JOIN area w ON w.code = e.wijk_code
	  LEFT JOIN collection c ON c.id = e.collection_id
	 WHERE %1$s ORDER BY e.sort_at DESC, e.id DESC$q$, vh_search_where(f),
	    vh_verbatim_sql(f))
$$;

-- Buurten as a GeoJSON FeatureCollection: entries matching f counted per
-- buurt (k-protected) and each indicator's latest value in the period.
CREATE FUNCTION vh_export_buurten(f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	k int := coalesce((f->>'k')::int, 5);
	a text := f->>'area';
	r jsonb;
BEGIN
	EXECUTE format($q$
	WITH n AS (SELECT e.area_code, count(*) AS n FROM entry e
		WHERE %1$s AND e.area_code LIKE 'BU%%' GROUP BY 1),
	b AS (SELECT * FROM area WHERE level = 'buurt' AND (%2$L::text IS NULL
		OR code = %2$L OR parent = %2$L OR substr(parent, 3, 4) =
		substr(%2$L, 3, 4) AND %2$L LIKE 'GM%%'))
	SELECT jsonb_build_object('type', 'FeatureCollection',
	    'features', coalesce(jsonb_agg(jsonb_build_object('type', 'Feature',
		'id', b.code,
		'geometry', ST_AsGeoJSON(b.boundary, 6)::jsonb,
		'properties', jsonb_build_object('code', b.code, 'name', b.name,
		    'wijk', b.parent, 'entries', vh_k(coalesce(n.n, 0), %3$s))
		    || coalesce(ind.p, '{}')) ORDER BY b.code), '[]'))
	  FROM b LEFT JOIN n ON n.area_code = b.code
	  LEFT JOIN LATERAL (SELECT jsonb_object_agg(x.key, x.value) AS p FROM (
		SELECT DISTINCT ON (i.key) i.key, iv.value FROM indicator_value iv
		  JOIN indicator i ON i.id = iv.indicator_id
		 WHERE iv.area_code = b.code AND iv.value IS NOT NULL
		   AND (%4$L::timestamptz IS NULL OR iv.period_start >= %4$L)
		   AND (%5$L::timestamptz IS NULL OR iv.period_start < %5$L)
		 ORDER BY i.key, iv.period_start DESC NULLS LAST) x) ind ON true
	$q$, vh_search_where(f), a, k,
	    CASE WHEN f ? 'from' THEN vh_period_start(f->>'from') END,
	    CASE WHEN f ? 'to' THEN vh_period_end(f->>'to') END) INTO r;
	RETURN r;
END $$;
