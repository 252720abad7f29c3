-- The point an entry was placed by (issue 11, item 6). A position sent as
-- lat/lon (JSON, tus metadata) or an ODK geopoint becomes the buurt that
-- holds it; the point itself is kept only where the deployment set
-- keep_location = true (config, sent per session as
-- verhaal.keep_location, as review_visits is). Otherwise these stay NULL.
ALTER TABLE entry
	ADD COLUMN lat double precision CHECK (lat BETWEEN -90 AND 90),
	ADD COLUMN lon double precision CHECK (lon BETWEEN -180 AND 180),
	ADD CONSTRAINT entry_lat_lon_check CHECK ((lat IS NULL) = (lon IS NULL));

-- Whether this session keeps coordinates: only an explicit 'true' does,
-- so a connection that never said keeps none.
CREATE FUNCTION vh_keep_location() RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT coalesce(current_setting('verhaal.keep_location', true), '')
	    = 'true'
$$;
