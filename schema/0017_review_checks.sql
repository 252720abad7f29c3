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
-- row when all are known.
CREATE FUNCTION vh_entry_unknown_ref(p_area text, p_themes jsonb,
    OUT field text, OUT pos bigint, OUT value text)
RETURNS SETOF record LANGUAGE sql STABLE AS $$
	SELECT f, i, v FROM (
	    SELECT 1 AS o, 'area' AS f, 0::bigint AS i, p_area AS v
	     WHERE p_area IS NOT NULL AND
		NOT EXISTS (SELECT 1 FROM area a WHERE a.code = p_area)
	    UNION ALL
	    SELECT 2, 'themes', x.i, x.t FROM jsonb_array_elements_text(
		coalesce(p_themes, '[]')) WITH ORDINALITY x(t, i)
	     WHERE NOT EXISTS (SELECT 1 FROM theme th WHERE th.slug = x.t)) u
	 ORDER BY o, i LIMIT 1
$$;
