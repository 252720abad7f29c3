-- The baseline of the search bench: the search SQL of commit 49c4869
-- (28 November 2026), the day issue 14 set the bar (free text p95 576 ms,
-- text + filters p95 273 ms at 1,000,000 entries). tests/bench/search.sh
-- times these functions and today's in one run, query by query on the
-- same database, so that the comparison holds however loaded the machine
-- is.
--
-- The functions below are 0005_search.sql of that commit, unchanged but
-- for their schema (search_base) and a search_path on the plpgsql ones,
-- so that their "entry" is search_base.entry: a copy of the bench's
-- entries with the index of that day (the Snowball 'dutch' configuration,
-- theme words through it too). Every other table (consent, media, area,
-- collection, theme, entry_count) is today's: they hold the same rows.
\set ON_ERROR_STOP 1
SET synchronous_commit = off;
SET jit = off;
SET maintenance_work_mem = '512MB';
-- A plain sequential scan returns the rows in heap order (not joined to
-- another scan midway, nor split among parallel workers).
SET synchronize_seqscans = off;
SET max_parallel_workers_per_gather = 0;
DROP SCHEMA IF EXISTS search_base CASCADE;
CREATE SCHEMA search_base;
SET search_path = search_base, public;

-- The columns of entry at 49c4869 (the same as today's), in heap order.
CREATE TABLE search_base.entry AS
SELECT id, kind, status, title, body, area_code, collection_id, occurred_at,
       themes, consent, account_id, created_at, updated_at, transcript,
       sort_at, month, wijk_code,
       setweight(to_tsvector('dutch'::regconfig, title), 'A') ||
       setweight(to_tsvector('dutch'::regconfig, vh_themes_text(themes)), 'B') ||
       setweight(to_tsvector('dutch'::regconfig, body), 'C') ||
       setweight(to_tsvector('dutch'::regconfig, transcript), 'D') AS search
  FROM public.entry;
ALTER TABLE search_base.entry ADD PRIMARY KEY (id);
CREATE INDEX ON search_base.entry USING gin (search);
CREATE INDEX ON search_base.entry USING gin (themes);
CREATE INDEX ON search_base.entry (sort_at DESC, id DESC);
CREATE INDEX ON search_base.entry (wijk_code, sort_at DESC, id DESC);
CREATE INDEX ON search_base.entry (account_id, sort_at DESC, id DESC);
VACUUM ANALYZE search_base.entry;

-- From here on: schema/0005_search.sql at 49c4869.
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
LANGUAGE plpgsql STABLE SET search_path = search_base, public AS $$
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
LANGUAGE plpgsql STABLE SET search_path = search_base, public AS $$
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
LANGUAGE plpgsql STABLE SET search_path = search_base, public
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
LANGUAGE plpgsql STABLE SET search_path = search_base, public AS $$
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
LANGUAGE plpgsql STABLE SET search_path = search_base, public AS $$
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

