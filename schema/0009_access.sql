-- One access rule for every read path. Who may see an entry, and what of
-- it, is decided here and nowhere else: the search, the entry, the media
-- and their renditions, the sealed originals, the CSV and GeoJSON exports,
-- the dossier and the moderation "publish" action all ask vh_access (the
-- C side through lib/vh_access.c). The query builders of 0005 are
-- redefined to take their conditions from it.
--
-- The rule (docs/privacy.md has the same table):
--
--   1. Whether the viewer sees the entry at all (vh_access_sees):
--
--      role         status                       sees
--      admin        any                          yes
--      moderator    any                          yes
--      analyst      approved, published          yes
--      analyst      pending_review, received,    no: 404, not listed,
--                   processing, rejected, ...        not counted
--      fieldworker  any, own entries only        yes (others' no)
--      anyone else  -                            no
--
--   2. If so, the uses its consent scope allows (vh_access_scope_uses):
--
--      scope             analyst, fieldworker      admin, moderator
--      (none: visits)    count search read quote   same
--                        play publish
--      analysis_only     count search              count search read play
--      quote_anonymised  count search read quote   + play
--      audio_to_staff    count search read play    same
--      publish           all six                   all six
--
--   Reviewers read and hear every story (they must, to publish, reject or
--   redact it); quoting and publication stay the resident's to allow.
--
--   What each use shows:
--      count, search  that the entry exists and its themes (id, kind,
--                     status, themes, area, time, collection): it is
--                     counted, matched by q, listed, without title or text
--      read           title, text, transcript, snippets; photos (their
--                     description, display.jpg, thumb.jpg)
--      quote          title, text and transcript in the CSV export
--      play           recordings (their description, audio.opus,
--                     audio.m4a, peaks.json)
--      publish        POST /api/v1/entries/{id}/publish
--
--   So an analyst sees of an approved or published analysis_only story
--   only that it exists and its themes, everywhere; of a pending one
--   nothing at all.
--
--   Moderators end a review in one of three ways. "approve" (vrijgeven)
--   releases the entry to staff readers, whatever its scope: what they
--   then see is the scope's part of the table above. "publish"
--   (publiceren) also clears it for use outside the staff (a council
--   report, an exhibition) and needs the publish use, i.e. the publish
--   scope or a visit without consent; an approved entry may be published
--   later, and a published one is released too. "reject" ends it.

-- The statuses with "approved"; moderation logs the new action.
ALTER TABLE entry DROP CONSTRAINT entry_status_check,
    ADD CONSTRAINT entry_status_check CHECK (status IN ('received',
    'processing', 'pending_review', 'approved', 'published', 'rejected',
    'withdrawn'));
ALTER TABLE moderation DROP CONSTRAINT moderation_action_check,
    ADD CONSTRAINT moderation_action_check CHECK (action IN ('approve',
    'publish', 'reject'));

-- The consent scopes, narrowest first; '' stands for "no consent record".
CREATE FUNCTION vh_access_scopes() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT ARRAY['', 'analysis_only', 'quote_anonymised', 'audio_to_staff',
	    'publish']
$$;

-- Part 1 of the rule. Written as one CASE over constants so that, with
-- the role given as a literal, PostgreSQL inlines and folds it to a plain
-- condition ("e.status IN ('approved', 'published')") in the builders'
-- queries.
CREATE FUNCTION vh_access_sees(role text, account bigint, owner bigint,
    status text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE role
	    WHEN 'admin' THEN true
	    WHEN 'moderator' THEN true
	    WHEN 'analyst' THEN status IN ('approved', 'published')
	    WHEN 'fieldworker' THEN owner IS NOT NULL AND owner = account
	    ELSE false END
$$;

-- Part 2 of the rule: the uses, in a fixed order.
CREATE FUNCTION vh_access_scope_uses(role text, scope text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT ARRAY(SELECT u FROM unnest(ARRAY['count', 'search', 'read',
	    'quote', 'play', 'publish']) WITH ORDINALITY x(u, i)
	 WHERE role IN ('admin', 'moderator', 'analyst', 'fieldworker') AND (
	    u = ANY(CASE coalesce(scope, '')
		WHEN '' THEN ARRAY['count', 'search', 'read', 'quote', 'play',
		    'publish']
		WHEN 'analysis_only' THEN ARRAY['count', 'search']
		WHEN 'quote_anonymised' THEN ARRAY['count', 'search', 'read',
		    'quote']
		WHEN 'audio_to_staff' THEN ARRAY['count', 'search', 'read', 'play']
		WHEN 'publish' THEN ARRAY['count', 'search', 'read', 'quote',
		    'play', 'publish']
		ELSE '{}'::text[] END)
	    OR (role IN ('admin', 'moderator') AND
		u IN ('count', 'search', 'read', 'play')))
	 ORDER BY i)
$$;

-- The whole rule for one entry: the uses the viewer may make of it ('{}'
-- when it may not see it).
CREATE FUNCTION vh_access(role text, account bigint, owner bigint,
    status text, scope text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN vh_access_sees(role, account, owner, status)
	    THEN vh_access_scope_uses(role, scope) ELSE '{}'::text[] END
$$;

-- The scopes that allow role the use.
CREATE FUNCTION vh_access_scopes_for(role text, use text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT ARRAY(SELECT s FROM unnest(vh_access_scopes()) WITH ORDINALITY
	    x(s, i) WHERE use = ANY(vh_access_scope_uses(role, s)) ORDER BY i)
$$;

-- The rule as an SQL condition over "entry e" for a viewer f = {role,
-- account}: the query builders (search, entry, exports, dossier) put it
-- in their WHERE clauses and CASEs. The consent record is looked up only
-- when the use depends on it, so listing and counting stay a filter on
-- the entry row.
CREATE FUNCTION vh_access_sql(f jsonb, use text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	scopes text[] := vh_access_scopes_for(f->>'role', use);
	sees text := format('vh_access_sees(%L, %L::bigint, e.account_id,'
	    ' e.status)', f->>'role', f->>'account');
BEGIN
	IF cardinality(scopes) = 0 THEN
		RETURN 'false';
	ELSIF cardinality(scopes) = cardinality(vh_access_scopes()) THEN
		RETURN sees;
	END IF;
	RETURN format('(%s AND coalesce((SELECT cs.scope FROM consent cs WHERE'
	    ' cs.entry_id = e.id), '''') = ANY(%L::text[]))', sees, scopes);
END $$;

-- The uses of "entry e" for f, as an SQL expression (a text[]).
CREATE FUNCTION vh_access_uses_sql(f jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT format('vh_access(%L, %L::bigint, e.account_id, e.status,'
	    ' (SELECT cs.scope FROM consent cs WHERE cs.entry_id = e.id))',
	    f->>'role', f->>'account')
$$;

-- Which use a file, or one of its renditions, is: a recording is played,
-- anything else (photos, documents) read. rendition NULL means the file
-- itself (its description, its sealed original).
CREATE FUNCTION vh_media_use(family text, declared_type text, filename text,
    rendition text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE
	    WHEN rendition IN ('audio.opus', 'audio.m4a', 'peaks.json') THEN 'play'
	    WHEN rendition IN ('display.jpg', 'thumb.jpg') THEN 'read'
	    WHEN family IS NOT NULL THEN CASE WHEN family = 'audio' THEN 'play'
		ELSE 'read' END
	    WHEN declared_type LIKE 'audio/%' OR filename ~*
		'\.(opus|ogg|oga|m4a|mp3|wav|aac|amr|3gp|flac|webm)$' THEN 'play'
	    ELSE 'read' END
$$;

-- Whether viewer f may use media id (NULL rendition: the file itself).
-- False for a file that does not exist, so "not yours" and "not there"
-- give the same answer.
CREATE FUNCTION vh_access_media(f jsonb, id bigint, rendition text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT vh_media_use(m.family, m.declared_type,
	    m.filename, rendition) = ANY(vh_access(f->>'role',
	    (f->>'account')::bigint, e.account_id, e.status, cs.scope))
	  FROM media m JOIN entry e ON e.id = m.entry_id
	  LEFT JOIN consent cs ON cs.entry_id = e.id
	 WHERE m.id = vh_access_media.id), false)
$$;

-- The uses viewer f may make of entry id: NULL when there is no such
-- entry, '{}' when f may not see it.
CREATE FUNCTION vh_access_entry(f jsonb, id bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
	SELECT vh_access(f->>'role', (f->>'account')::bigint, e.account_id,
	    e.status, cs.scope)
	  FROM entry e LEFT JOIN consent cs ON cs.entry_id = e.id
	 WHERE e.id = vh_access_entry.id
$$;

-- A CSV cell as Excel and LibreOffice will not run it: a text starting
-- with = + - @, a tab or a carriage return is read as a formula (or
-- shifts the row), so it gets a leading apostrophe, which spreadsheets
-- show as plain text (OWASP "CSV injection").
CREATE FUNCTION vh_csv_cell(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN s ~ E'^[=+\\-@\t\r]' THEN '''' || s ELSE s END
$$;

-- Kept for callers of 0005: verbatim means "read".
CREATE OR REPLACE FUNCTION vh_verbatim_sql(f jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT vh_access_sql(f, 'read')
$$;

-- As in 0005, with who-sees-what taken from the rule.
CREATE OR REPLACE FUNCTION vh_search_where(f jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	w text[] := ARRAY['true'];
	a text := f->>'area';
BEGIN
	w := w || vh_access_sql(f, 'count');
	IF f ? 'q' THEN
		IF vh_access_sql(f, 'search') <> vh_access_sql(f, 'count') THEN
			w := w || vh_access_sql(f, 'search');
		END IF;
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

-- The status condition of the rule over a summary table's status column
-- col, or NULL when the summary cannot apply the rule: it has neither
-- owner nor consent scope, so a role whose view depends on ownership, or
-- that may not count every scope, is counted entry by entry.
CREATE FUNCTION vh_access_count_sql(f jsonb, col text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	role text := f->>'role';
BEGIN
	IF cardinality(vh_access_scopes_for(role, 'count')) <>
	    cardinality(vh_access_scopes()) OR EXISTS (SELECT 1 FROM
	    unnest(ARRAY['received', 'processing', 'pending_review', 'approved',
	    'published', 'rejected', 'withdrawn']) s WHERE vh_access_sees(role, 0, NULL, s)
	    IS DISTINCT FROM vh_access_sees(role, 0, 0, s)) THEN
		RETURN NULL;
	END IF;
	RETURN format('vh_access_sees(%L, NULL, NULL, %s)', role, col);
END $$;

CREATE OR REPLACE FUNCTION vh_search_count_where(f jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	w text[] := ARRAY['true'];
	a text := f->>'area';
	rule text := vh_access_count_sql(f, 'c.status');
BEGIN
	IF f ?| ARRAY['q', 'theme', 'has_audio', 'has_photo'] OR a LIKE 'BU%' OR
	    f->>'from' !~ '^\d{4}(-\d{2})?$' OR f->>'to' !~ '^\d{4}(-\d{2})?$' OR
	    rule IS NULL THEN
		RETURN NULL;
	END IF;
	w := w || rule;
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

-- As in 0005; title and snippet need "read".
CREATE OR REPLACE FUNCTION vh_search(f jsonb) RETURNS jsonb
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
		'id', e.id, 'kind', e.kind, 'status', e.status,
		'title', CASE WHEN %8$s THEN e.title END,
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
	    lim, CASE WHEN rel THEN 'r' ELSE 't' END,
	    vh_access_sql(f, 'read')) INTO page;
	res := jsonb_build_object('items', page->'items',
	    'next_cursor', CASE WHEN page->'next' <> 'null' THEN
		vh_cursor_encode(page->'next') END,
	    'sort', CASE WHEN rel THEN 'relevance' ELSE 'recent' END);
	IF coalesce((f->>'facets')::boolean, true) THEN
		res := res || vh_search_facets(f);
	END IF;
	RETURN res;
END $$;

-- As in 0005: title, text and transcript need "read"; the media list
-- holds only the files the viewer may use (photos read, recordings
-- played); "allowed" lists the uses.
CREATE OR REPLACE FUNCTION vh_entry_get(id bigint, f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r jsonb;
BEGIN
	EXECUTE format($q$
	SELECT jsonb_build_object('id', e.id, 'kind', e.kind, 'status', e.status,
	    'title', CASE WHEN %3$s THEN e.title END, 'verbatim', %3$s,
	    'text', CASE WHEN %3$s THEN e.body END,
	    'transcript', CASE WHEN %3$s THEN e.transcript END,
	    'occurred_at', e.occurred_at, 'created_at', e.created_at,
	    'updated_at', e.updated_at,
	    'area', CASE WHEN e.area_code IS NOT NULL THEN jsonb_build_object(
		'code', e.area_code, 'name', a.name, 'level', a.level) END,
	    'wijk', CASE WHEN e.wijk_code IS NOT NULL THEN jsonb_build_object(
		'code', e.wijk_code, 'name', w.name) END,
	    'themes', to_jsonb(e.themes), 'collection', c.slug,
	    'consent', e.consent, 'allowed', to_jsonb(%4$s),
	    'media', coalesce((SELECT jsonb_agg(jsonb_build_object('id', m.id,
		'filename', m.filename, 'declared_type', m.declared_type,
		'size', m.size, 'sha256', m.blob_sha256, 'status', m.status,
		'href', '/api/v1/media/' || m.id, 'original', '/api/v1/media/' || m.id || '/original') ORDER BY m.id)
		FROM media m WHERE m.entry_id = e.id AND vh_media_use(m.family,
		m.declared_type, m.filename, NULL) = ANY(%4$s)), '[]'))
	  FROM entry e LEFT JOIN area a ON a.code = e.area_code
	  LEFT JOIN area w ON w.code = e.wijk_code
	  LEFT JOIN collection c ON c.id = e.collection_id
	 WHERE e.id = %1$s AND %2$s$q$, id,
	    vh_search_where(f - ARRAY['q', 'area', 'theme', 'kind', 'status',
	    'collection', 'from', 'to', 'has_audio', 'has_photo']),
	    vh_access_sql(f, 'read'), vh_access_uses_sql(f)) INTO r;
	RETURN r;
END $$;

-- As in 0005, with the rule's status condition.
CREATE OR REPLACE FUNCTION vh_dossier_counts(code text, role text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN code LIKE 'BU%' THEN format('(SELECT t AS theme,'
	    ' e.month, count(*) AS n FROM entry e, LATERAL (SELECT '''' AS t'
	    ' UNION SELECT DISTINCT unnest(e.themes)) x WHERE e.area_code = %L'
	    ' AND %s GROUP BY 1, 2)', code, vh_access_sql(jsonb_build_object(
	    'role', role), 'count'))
	ELSE format('(SELECT theme, month, sum(n) AS n FROM entry_count c'
	    ' WHERE %s AND %s GROUP BY 1, 2)', CASE WHEN code LIKE 'GM%'
	    THEN format('substr(c.wijk, 3, 4) = %L', substr(code, 3, 4))
	    ELSE format('c.wijk = %L', code) END, coalesce(vh_access_count_sql(
	    jsonb_build_object('role', role), 'c.status'), 'false')) END
$$;

-- The export's columns for f, one row per entry (COPY … TO STDOUT as
-- CSV): title, text and transcript only where the scope allows quoting
-- them, every free-text cell through vh_csv_cell.
CREATE OR REPLACE FUNCTION vh_export_entries_sql(f jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT format($q$
	SELECT e.id, e.kind, e.status, e.occurred_at, e.created_at,
	    e.area_code, vh_csv_cell(a.name) AS area_name, e.wijk_code,
	    vh_csv_cell(w.name) AS wijk_name,
	    vh_csv_cell(c.slug) AS collection,
	    vh_csv_cell(array_to_string(e.themes, ';')) AS themes,
	    CASE WHEN %2$s THEN vh_csv_cell(e.title) END AS title,
	    CASE WHEN %2$s THEN vh_csv_cell(e.body) END AS text,
	    CASE WHEN %2$s THEN vh_csv_cell(e.transcript) END AS transcript,
	    (SELECT count(*) FROM media m WHERE m.entry_id = e.id) AS media
	  FROM entry e LEFT JOIN area a ON a.code = e.area_code
	  LEFT JOIN area w ON w.code = e.wijk_code
	  LEFT JOIN collection c ON c.id = e.collection_id
	 WHERE %1$s ORDER BY e.sort_at DESC, e.id DESC$q$, vh_search_where(f),
	    vh_access_sql(f, 'quote'))
$$;

-- The GeoJSON export as rows, for streaming: the query's first row is
-- the head of the FeatureCollection, then one Feature per row; the
-- client of the query joins them with commas and closes the array.
-- Counts per buurt follow the rule through vh_search_where ("count").
CREATE FUNCTION vh_export_buurten_sql(f jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT format($q$
	WITH n AS (SELECT e.area_code, count(*) AS n FROM entry e
		WHERE %1$s AND e.area_code LIKE 'BU%%' GROUP BY 1),
	b AS (SELECT * FROM area WHERE level = 'buurt' AND (%2$L::text IS NULL
		OR code = %2$L OR parent = %2$L OR substr(parent, 3, 4) =
		substr(%2$L, 3, 4) AND %2$L LIKE 'GM%%'))
	SELECT jsonb_build_object('type', 'Feature', 'id', b.code,
		'geometry', ST_AsGeoJSON(b.boundary, 6)::jsonb,
		'properties', jsonb_build_object('code', b.code, 'name', b.name,
		    'wijk', b.parent, 'entries', vh_k(coalesce(n.n, 0), %3$s))
		    || coalesce(ind.p, '{}'))::text
	  FROM b LEFT JOIN n ON n.area_code = b.code
	  LEFT JOIN LATERAL (SELECT jsonb_object_agg(x.key, x.value) AS p FROM (
		SELECT DISTINCT ON (i.key) i.key, iv.value FROM indicator_value iv
		  JOIN indicator i ON i.id = iv.indicator_id
		 WHERE iv.area_code = b.code AND iv.value IS NOT NULL
		   AND (%4$L::timestamptz IS NULL OR iv.period_start >= %4$L)
		   AND (%5$L::timestamptz IS NULL OR iv.period_start < %5$L)
		 ORDER BY i.key, iv.period_start DESC NULLS LAST) x) ind ON true
	 ORDER BY b.code$q$, vh_search_where(f), f->>'area',
	    coalesce((f->>'k')::int, 5),
	    CASE WHEN f ? 'from' THEN vh_period_start(f->>'from') END,
	    CASE WHEN f ? 'to' THEN vh_period_end(f->>'to') END)
$$;
