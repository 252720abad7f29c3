-- Review for visits, checked input and small numbers that protect
-- (issue 11, items 2, 3, 5 and 6).

-- The status a new entry starts in. Residents' stories and field workers'
-- visits wait for a moderator; a deployment that set review_visits =
-- false (config, sent per session as verhaal.review_visits) releases
-- visits to staff readers on arrival. Staff stories stay as before.
CREATE FUNCTION vh_entry_initial_status(kind text, resident boolean)
RETURNS text LANGUAGE sql STABLE AS $$
	SELECT CASE
	    WHEN resident THEN 'pending_review'
	    WHEN kind = 'visit' THEN CASE WHEN coalesce(current_setting(
		'verhaal.review_visits', true), '') = 'false'
		THEN 'approved' ELSE 'pending_review' END
	    ELSE 'received' END
$$;

-- has_audio and has_photo: a file processing rejected does not count (a
-- file still waiting for its job does, until the job decides).
CREATE OR REPLACE FUNCTION vh_entry_has(e_id bigint, what text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM media m WHERE m.entry_id = e_id AND
	    m.status <> 'rejected' AND
	    CASE WHEN m.family IS NOT NULL THEN
		m.family = CASE what WHEN 'audio' THEN 'audio' ELSE 'image' END
	    WHEN what = 'audio' THEN m.declared_type LIKE 'audio/%' OR m.filename ~*
		'\.(opus|ogg|oga|m4a|mp3|wav|aac|amr|3gp|flac|webm)$'
	    ELSE m.declared_type LIKE 'image/%' OR m.filename ~*
		'\.(jpe?g|png|heic|heif|webp|gif|tiff?)$' END)
$$;

-- The first of an entry's references that names nothing: 'area' with
-- the code, or 'themes' with the item's position (from 1) and slug; no
-- row when all are known. Before any area is imported (the seed loads
-- Utrecht's on first run) a well-formed code cannot be checked and is
-- taken as it is.
CREATE FUNCTION vh_entry_unknown_ref(p_area text, p_themes jsonb,
    OUT field text, OUT pos bigint, OUT value text)
RETURNS SETOF record LANGUAGE sql STABLE AS $$
	SELECT f, i, v FROM (
	    SELECT 1 AS o, 'area' AS f, 0::bigint AS i, p_area AS v
	     WHERE p_area IS NOT NULL AND EXISTS (SELECT 1 FROM area) AND
		NOT EXISTS (SELECT 1 FROM area a WHERE a.code = p_area)
	    UNION ALL
	    SELECT 2, 'themes', x.i, x.t FROM jsonb_array_elements_text(
		coalesce(p_themes, '[]')) WITH ORDINALITY x(t, i)
	     WHERE NOT EXISTS (SELECT 1 FROM theme th WHERE th.slug = x.t)) u
	 ORDER BY o, i LIMIT 1
$$;

-- Small numbers (docs/privacy.md, "Small numbers"). A count from 1 to
-- k-1 is a statistic that may point at a person; a list of items the
-- viewer may read anyway is not one, and neither is a work queue or a
-- person's own entries. So a search's total (the length of its list) and
-- its kind facet are shown as they are, and so are collection sizes;
-- area and theme statistics are suppressed.
--
-- Complementary suppression: cells that add up to a total shown beside
-- them (a search's wijk facet: each entry lies in at most one wijk, and
-- the total is exact) must not let the one suppressed cell be worked out
-- as the total minus the others. When exactly one cell of such a group
-- is below k, the smallest other non-zero cell is withheld too and shown
-- as "x" (CBS's mark for "geheim"). Theme cells do not add up (an entry
-- may carry several themes, or none), so they are suppressed alone.

-- The cells of one additive group as shown, in their order.
CREATE FUNCTION vh_k_group(cells bigint[], k integer) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	WITH c AS (SELECT n, i FROM unnest(cells) WITH ORDINALITY x(n, i)),
	second AS (SELECT i FROM c WHERE n >= k
		AND (SELECT count(*) FROM c WHERE n > 0 AND n < k) = 1
		ORDER BY n, i LIMIT 1)
	SELECT coalesce(jsonb_agg(CASE WHEN c.i IN (SELECT i FROM second)
	    THEN to_jsonb('x'::text) ELSE vh_k(c.n, k) END ORDER BY c.i), '[]')
	  FROM c
$$;

-- The facets of 0005, computed without suppression, then suppressed by
-- the rule above.
ALTER FUNCTION vh_search_facets(jsonb) RENAME TO vh_search_facets_counts;

CREATE FUNCTION vh_search_facets(f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	k int := coalesce((f->>'k')::int, 5);
	r jsonb := vh_search_facets_counts(f || '{"k": 1}');
	wijk jsonb := coalesce(r->'facets'->'wijk', '[]');
	shown jsonb;
BEGIN
	shown := vh_k_group(ARRAY(SELECT (x->>'count')::numeric::bigint
	    FROM jsonb_array_elements(wijk) WITH ORDINALITY a(x, i) ORDER BY i), k);
	RETURN jsonb_set(jsonb_set(r, '{facets,theme}', (SELECT coalesce(
	    jsonb_agg(x || jsonb_build_object('count', vh_k(
	    (x->>'count')::numeric::bigint, k)) ORDER BY i), '[]')
	    FROM jsonb_array_elements(r->'facets'->'theme') WITH ORDINALITY
	    a(x, i))), '{facets,wijk}', (SELECT coalesce(jsonb_agg(x ||
	    jsonb_build_object('count', shown->(i::int - 1)) ORDER BY i), '[]')
	    FROM jsonb_array_elements(wijk) WITH ORDINALITY a(x, i)));
END $$;
