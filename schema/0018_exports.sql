-- Exports for the tools analysts use: the entry table with local times,
-- consent scope, link and media by type (CSV dialects and XLSX), and an
-- area layer (GeoJSON) whose fields keep their types and have short,
-- documented names (vh_export_fields, GET /api/v1/exports/fields).
-- Everything still goes through the one access rule (0009): counts
-- through vh_search_where, words through vh_access_sql(f, 'quote').

-- A time as ISO 8601 in Europe/Amsterdam with its offset
-- ("2026-11-30T14:00:00+01:00"): what Dutch readers expect, and what
-- pandas, R and Excel's Power Query parse without help.
CREATE FUNCTION vh_iso_local(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT to_char(t AT TIME ZONE 'Europe/Amsterdam',
	    'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN o < interval '0' THEN '-'
	    ELSE '+' END || to_char(abs(extract(epoch FROM o))::int / 3600,
	    'FM00') || ':' || to_char(abs(extract(epoch FROM o))::int % 3600 /
	    60, 'FM00')
	  FROM (SELECT (t AT TIME ZONE 'Europe/Amsterdam') -
	    (t AT TIME ZONE 'UTC') AS o) x
$$;

-- The export of 0009 with its times in local ISO 8601; otherwise the
-- same columns, for clients that read them by position.
CREATE OR REPLACE FUNCTION vh_export_entries_sql(f jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT format($q$
	SELECT e.id, e.kind, e.status, vh_iso_local(e.occurred_at) AS occurred_at,
	    vh_iso_local(e.created_at) AS created_at,
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

-- The analyst's table (CSV dialects and XLSX): one row per entry with
-- its consent scope, its link (f->>'base' is the server's own origin, or
-- nothing for a relative link) and its files counted by kind. typed:
-- times as local timestamps (XLSX writes them as dates) and text as it
-- is (a workbook's string cell is never a formula), else as text and
-- through vh_csv_cell.
CREATE FUNCTION vh_export_table_sql(f jsonb, typed boolean) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT format($q$
	SELECT e.id, %3$L || '/api/v1/entries/' || e.id AS url, e.kind, e.status,
	    cs.scope AS consent_scope,
	    %4$s AS occurred_at, %5$s AS created_at,
	    e.area_code, %6$s(a.name) AS area_name, e.wijk_code,
	    %6$s(w.name) AS wijk_name,
	    %6$s(c.slug) AS collection,
	    %6$s(array_to_string(e.themes, ';')) AS themes,
	    CASE WHEN %2$s THEN %6$s(e.title) END AS title,
	    CASE WHEN %2$s THEN %6$s(e.body) END AS text,
	    CASE WHEN %2$s THEN %6$s(e.transcript) END AS transcript,
	    coalesce(mc.photo, 0) AS media_photo, coalesce(mc.audio, 0) AS media_audio,
	    coalesce(mc.other, 0) AS media_other
	  FROM entry e LEFT JOIN area a ON a.code = e.area_code
	  LEFT JOIN area w ON w.code = e.wijk_code
	  LEFT JOIN collection c ON c.id = e.collection_id
	  LEFT JOIN consent cs ON cs.entry_id = e.id
	  LEFT JOIN LATERAL (SELECT
		count(*) FILTER (WHERE k = 'image') AS photo,
		count(*) FILTER (WHERE k = 'audio') AS audio,
		count(*) FILTER (WHERE k = 'other') AS other
	    FROM (SELECT CASE WHEN m.family = 'image' OR m.family IS NULL AND
		(m.declared_type LIKE 'image/%%' OR m.filename ~*
		'\.(jpe?g|png|heic|heif|webp|gif|tiff?)$') THEN 'image'
		WHEN vh_media_use(m.family, m.declared_type, m.filename, NULL)
		= 'play' THEN 'audio' ELSE 'other' END AS k
		FROM media m WHERE m.entry_id = e.id) mk) mc ON true
	 WHERE %1$s ORDER BY e.sort_at DESC, e.id DESC$q$, vh_search_where(f),
	    vh_access_sql(f, 'quote'), coalesce(f->>'base', ''),
	    CASE WHEN typed THEN '(e.occurred_at AT TIME ZONE ''Europe/Amsterdam'')'
	    ELSE 'vh_iso_local(e.occurred_at)' END,
	    CASE WHEN typed THEN '(e.created_at AT TIME ZONE ''Europe/Amsterdam'')'
	    ELSE 'vh_iso_local(e.created_at)' END,
	    CASE WHEN typed THEN '' ELSE 'vh_csv_cell' END)
$$;

-- The indicators of the area layer: those asked for (f->'indicators', a
-- list of ids), else every one with a figure at the level.
CREATE FUNCTION vh_export_indicators(f jsonb, lvl text) RETURNS SETOF indicator
LANGUAGE sql STABLE AS $$
	SELECT i.* FROM indicator i
	 WHERE CASE WHEN f ? 'indicators' THEN i.id IN (SELECT x::bigint FROM
		jsonb_array_elements_text(f->'indicators') x)
	   ELSE EXISTS (SELECT 1 FROM indicator_figure g JOIN area a ON
		a.code = g.area_code AND a.level = lvl WHERE g.indicator_id = i.id
		AND g.value IS NOT NULL) END
	 ORDER BY i.id
$$;

-- The field dictionary of the area layer at level lvl (and of the
-- entry table): each field's short name (at most 10 characters, so a
-- shapefile keeps it), type and meaning; the indicators with their
-- title, unit, source key and source.
CREATE FUNCTION vh_export_fields(f jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('level', coalesce(f->>'level', 'buurt'),
	    'geojson', jsonb_build_array(
		jsonb_build_object('name', 'code', 'type', 'string', 'description',
		    'CBS area code (BU… or WK…)'),
		jsonb_build_object('name', 'name', 'type', 'string', 'description',
		    'area name'),
		jsonb_build_object('name', 'level', 'type', 'string', 'description',
		    'buurt or wijk'),
		jsonb_build_object('name', 'parent', 'type', 'string', 'description',
		    'the wijk of a buurt, the gemeente of a wijk'),
		jsonb_build_object('name', 'entries', 'type', 'integer', 'description',
		    'entries matching the filters; null when suppressed'),
		jsonb_build_object('name', 'entries_s', 'type', 'integer', 'description',
		    format('1 when entries is suppressed (fewer than %s, not 0), else 0',
		    coalesce((f->>'k')::int, 5))))
	    || coalesce((SELECT jsonb_agg(x ORDER BY o) FROM (
		SELECT i.id * 3 AS o, jsonb_build_object('name', 'i' || i.id,
		    'type', 'real', 'description', 'the latest figure in the period; null when missing',
		    'title', i.title, 'unit', i.unit, 'key', i.key, 'source', i.source) x
		  FROM vh_export_indicators(f, coalesce(f->>'level', 'buurt')) i
		UNION ALL
		SELECT i.id * 3 + 1, jsonb_build_object('name', 'i' || i.id || '_y',
		    'type', 'integer', 'description', 'year of i' || i.id || '; null when missing')
		  FROM vh_export_indicators(f, coalesce(f->>'level', 'buurt')) i
		UNION ALL
		SELECT i.id * 3 + 2, jsonb_build_object('name', 'i' || i.id || '_m',
		    'type', 'integer', 'description', '1 when i' || i.id ||
		    ' is missing or not published, 0 when it has a value; '
		    'derived figures are summed or recomputed from buurten')
		  FROM vh_export_indicators(f, coalesce(f->>'level', 'buurt')) i) y), '[]'),
	    'csv', jsonb_build_array('id', 'url', 'kind', 'status', 'consent_scope',
		'occurred_at', 'created_at', 'area_code', 'area_name', 'wijk_code',
		'wijk_name', 'collection', 'themes', 'title', 'text', 'transcript',
		'media_photo', 'media_audio', 'media_other'))
$$;

-- The area layer as rows of GeoJSON Features, for streaming (as 0009's
-- vh_export_buurten_sql): level f->>'level' (buurt or wijk), entry
-- counts as integers with a separate suppression flag, indicators as
-- numbers under short names.
CREATE FUNCTION vh_export_areas_sql(f jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT format($q$
	WITH n AS (SELECT %4$s AS code, count(*) AS n FROM entry e
		WHERE %1$s AND %4$s IS NOT NULL GROUP BY 1),
	b AS (SELECT * FROM area WHERE level = %5$L AND (%2$L::text IS NULL
		OR code = %2$L OR parent = %2$L OR substr(code, 3, 4) =
		substr(%2$L, 3, 4) AND %2$L LIKE 'GM%%')),
	ind AS (SELECT id FROM vh_export_indicators(%6$L::jsonb, %5$L))
	SELECT jsonb_build_object('type', 'Feature', 'id', b.code,
		'geometry', ST_AsGeoJSON(b.boundary, 6)::jsonb,
		'properties', jsonb_build_object('code', b.code, 'name', b.name,
		    'level', b.level, 'parent', b.parent,
		    'entries', CASE WHEN coalesce(n.n, 0) BETWEEN 1 AND %3$s - 1
			THEN NULL ELSE coalesce(n.n, 0) END,
		    'entries_s', CASE WHEN coalesce(n.n, 0) BETWEEN 1 AND %3$s - 1
			THEN 1 ELSE 0 END)
		    || coalesce(p.p, '{}'))::text
	  FROM b LEFT JOIN n ON n.code = b.code
	  LEFT JOIN LATERAL (SELECT jsonb_object_agg(kv.k, kv.v) AS p
	    FROM (SELECT ind.id, x.value, x.y FROM ind LEFT JOIN LATERAL (%7$s) x
		ON true) r,
	    LATERAL (VALUES ('i' || r.id, to_jsonb(r.value::float8)),
		('i' || r.id || '_y', to_jsonb(r.y)),
		('i' || r.id || '_m', to_jsonb(CASE WHEN r.value IS NULL THEN 1
		ELSE 0 END))) kv(k, v)) p ON true
	 ORDER BY b.code$q$, vh_search_where(f), f->>'area',
	    coalesce((f->>'k')::int, 5),
	    CASE WHEN f->>'level' = 'wijk' THEN 'e.wijk_code'
	    ELSE 'CASE WHEN e.area_code LIKE ''BU%'' THEN e.area_code END' END,
	    coalesce(f->>'level', 'buurt'), f,
	    format('SELECT g.value, extract(year FROM g.period_start)::int AS y'
		' FROM indicator_figure g WHERE g.indicator_id = ind.id AND'
		' g.area_code = b.code AND g.value IS NOT NULL AND (%1$L::timestamptz'
		' IS NULL OR g.period_start >= %1$L) AND (%2$L::timestamptz IS NULL'
		' OR g.period_start < %2$L) ORDER BY g.period_start DESC NULLS LAST'
		' LIMIT 1', CASE WHEN f ? 'from' THEN vh_period_start(f->>'from') END,
	    CASE WHEN f ? 'to' THEN vh_period_end(f->>'to') END))
$$;

-- The ZIP export of a search's entries (GET /api/v1/exports/entries.zip):
-- two queries, the analyst's table (entries.csv) and the files
-- (media.csv, and the files themselves in the same order): each entry's
-- display photos where the viewer may read them and its AAC audio where
-- the viewer may play it, as the renditions media processing made.
CREATE FUNCTION vh_export_media_sql(f jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT format($q$
	SELECT e.id AS entry_id, m.id AS media_id, x.kind,
	    'media/' || e.id || '/' || m.id || x.ext AS path, x.sha256, b.size
	  FROM entry e JOIN media m ON m.entry_id = e.id,
	  LATERAL (VALUES ('photo', '.jpg', m.display_sha256, 'read'),
		('audio', '.m4a', m.m4a_sha256, 'play')) x(kind, ext, sha256, use)
	  JOIN blob b ON b.sha256 = x.sha256
	 WHERE %1$s AND m.status = 'ready' AND x.sha256 IS NOT NULL
	   AND x.use = ANY(%2$s)
	 ORDER BY e.sort_at DESC, e.id DESC, m.id, x.kind$q$, vh_search_where(f),
	    vh_access_uses_sql(f))
$$;

CREATE FUNCTION vh_export_zip_sql(f jsonb, OUT entries text, OUT files text)
LANGUAGE sql STABLE AS $$
	SELECT vh_export_table_sql(f, false), vh_export_media_sql(f)
$$;

-- Search speed (issue 14's bench): theme tags are slugs an admin chose,
-- not prose, and 0013 sent them through the Dutch dictionary, which
-- split every tag into parts (woninginbraak -> woning, inbraak;
-- fietsendiefstal -> fiets, diefstal; overlast -> la, las, last). So
-- every tagged entry carried the lexemes of common words: on the bench
-- data "inbraak" matched 27,097 of 100,000 entries, 14,289 of them by
-- text, and ranking matches is the p95 of free-text search. The tags are
-- indexed unsplit now ('simple': the slug's words as they are). A query
-- still finds a tag whose word the Dutch dictionary keeps whole
-- (geweld, leefbaarheid, veiligheidsgevoel); a compound tag is found by
-- the theme filter (theme=woninginbraak), no longer by q alone. Stories'
-- own words keep the Dutch morphology.
ALTER TABLE entry DROP COLUMN search;
ALTER TABLE entry ADD COLUMN search tsvector GENERATED ALWAYS AS
	(setweight(to_tsvector('verhaal_dutch'::regconfig, title), 'A') ||
	 setweight(to_tsvector('simple'::regconfig, vh_themes_text(themes)), 'B') ||
	 setweight(to_tsvector('verhaal_dutch'::regconfig, body), 'C') ||
	 setweight(to_tsvector('verhaal_dutch'::regconfig, transcript), 'D')) STORED;
CREATE INDEX entry_search_idx ON entry USING gin (search);
