-- Areas (gemeente, wijken, buurten with their CBS codes and boundaries) and
-- the indicators measured over them, as imported by `verhaalctl
-- import-areas` and `verhaalctl import-indicators`.
CREATE EXTENSION IF NOT EXISTS postgis;

-- One row per CBS region. The code carries the hierarchy (BU03440111 lies
-- in WK034401, which lies in GM0344); parent repeats it so that queries
-- can join without string surgery. The boundary may be missing: the CBS
-- region list and the GeoJSON files arrive separately.
CREATE TABLE area (
	code		text PRIMARY KEY
			CHECK (code ~ '^(GM[0-9]{4}|WK[0-9]{6}|BU[0-9]{8})$'),
	level		text NOT NULL CHECK (level IN ('gemeente', 'wijk', 'buurt')),
	name		text NOT NULL,
	parent		text REFERENCES area (code) DEFERRABLE INITIALLY DEFERRED,
	boundary	geometry(MultiPolygon, 4326),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	CHECK ((level = 'gemeente') = (parent IS NULL)),
	CHECK (level <> 'gemeente' OR code ~ '^GM'),
	CHECK (level <> 'wijk' OR (code ~ '^WK' AND parent = ('GM' || substr(code, 3, 4)))),
	CHECK (level <> 'buurt' OR (code ~ '^BU' AND parent = ('WK' || substr(code, 3, 6))))
);
CREATE INDEX area_boundary_idx ON area USING gist (boundary);
CREATE INDEX area_parent_idx ON area (parent);

-- Other names for an area, for sources that name areas instead of coding
-- them (utrecht.incijfers.nl uses the municipality's own buurt names).
-- Matching compares normalised names: lower case, "Buurt "/"Wijk "
-- dropped, "e.o." read as "en omgeving", punctuation folded to spaces.
-- No foreign key: the known aliases below are seeded before any area is
-- imported; an alias whose code is absent simply never matches.
CREATE TABLE area_alias (
	alias		text PRIMARY KEY,
	code		text NOT NULL,
	source		text NOT NULL DEFAULT ''
);
CREATE INDEX area_alias_code_idx ON area_alias (code);

-- Municipal (utrecht.incijfers.nl) names that differ from CBS's beyond
-- normalisation. Same areas, the municipality merges the names of two
-- parts of the buurt.
INSERT INTO area_alias (alias, code, source) VALUES
	('Pr.Bernhardpl e.o., Demkageb', 'BU03440233', 'utrecht.incijfers.nl'),
	('Geuzenwijk, De Driehoek', 'BU03440241', 'utrecht.incijfers.nl');

-- What is measured: one row per source variable (a CBS topic together
-- with its dimension value, a StatLine column, a kwb column ...).
CREATE TABLE indicator (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key		text NOT NULL UNIQUE,	-- e.g. 47018NED/GeregistreerdeMisdrijven_1/0.0.0
	title		text NOT NULL,
	unit		text,			-- NULL when the source does not say
	source		text NOT NULL,		-- e.g. "CBS 47018NED"
	created_at	timestamptz NOT NULL DEFAULT now()
);

-- One figure for one area and period. A value the source marks as
-- missing (".") is kept with value NULL, so "not published" stays
-- distinguishable from both zero and "no row at all".
CREATE TABLE indicator_value (
	indicator_id	bigint NOT NULL REFERENCES indicator ON DELETE CASCADE,
	area_code	text NOT NULL REFERENCES area (code),
	period_type	text NOT NULL CHECK (period_type IN ('year', 'month', 'wave')),
	period		text NOT NULL,		-- 2023, 2023-01, or a wave label
	period_start	date,			-- NULL for waves without a date
	value		numeric,
	missing		boolean GENERATED ALWAYS AS (value IS NULL) STORED,
	source_file	text NOT NULL,
	imported_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (indicator_id, area_code, period),
	CHECK (period_type <> 'year' OR period ~ '^[0-9]{4}$'),
	CHECK (period_type <> 'month' OR period ~ '^[0-9]{4}-[0-9]{2}$')
);
CREATE INDEX indicator_value_area_idx ON indicator_value (area_code, period_start);

-- Every import attempt, successful or not, for the audit trail.
CREATE TABLE import_log (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('areas', 'indicators')),
	file		text NOT NULL,
	format		text,
	ok		boolean NOT NULL,
	rows		integer NOT NULL DEFAULT 0,
	values_stored	integer NOT NULL DEFAULT 0,
	missing		integer NOT NULL DEFAULT 0,
	unmatched	integer NOT NULL DEFAULT 0,
	message		text NOT NULL DEFAULT '',
	imported_at	timestamptz NOT NULL DEFAULT now()
);
