-- A search result's thumbnail: the thumb.jpg of the entry's first photo
-- that the media jobs accepted, for the staff app's result list. It is
-- added around vh_search's answer rather than inside vh_search, so that
-- the search query itself (tuned elsewhere for speed) is left as it is,
-- and it is asked of the same access rule as GET /api/v1/media/{id}/
-- thumb.jpg (vh_access_media, schema/0009_access.sql): a link the viewer
-- could not open is never handed out (an analysis_only story gets none).
CREATE FUNCTION vh_search_thumbs(res jsonb, f jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN jsonb_typeof(res->'items') <> 'array' THEN res
	    ELSE jsonb_set(res, '{items}', coalesce((
		SELECT jsonb_agg(it || jsonb_build_object('thumb', (
		    SELECT '/api/v1/media/' || m.id || '/thumb.jpg'
		      FROM media m
		     WHERE m.entry_id = (it->>'id')::bigint
		       AND m.status = 'ready' AND m.family = 'image'
		       AND m.thumb_sha256 IS NOT NULL
		       AND vh_access_media(f, m.id, 'thumb.jpg')
		     ORDER BY m.id LIMIT 1)) ORDER BY n)
		  FROM jsonb_array_elements(res->'items') WITH ORDINALITY x(it, n)),
		'[]'::jsonb)) END
$$;
