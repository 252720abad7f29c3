-- The media pipeline: a durable job queue, and what the jobs learn about
-- each media file (family, type, duration, dimensions, derived blobs).

-- Work to do, claimed with FOR UPDATE SKIP LOCKED. A running job holds a
-- lease (locked_by, lease_until) that its process renews; when the lease
-- runs out (the runner died) any runner may claim the job again.
-- Completion is conditional on still holding the lease, so a job
-- completes at most once; "completions" makes that visible.
CREATE TABLE job (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('media')),
	media_id	bigint REFERENCES media ON DELETE CASCADE,
	state		text NOT NULL DEFAULT 'queued'
			CHECK (state IN ('queued', 'running', 'done', 'failed')),
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	completions	integer NOT NULL DEFAULT 0 CHECK (completions <= 1),
	run_after	timestamptz NOT NULL DEFAULT now(),
	locked_by	text,
	lease_until	timestamptz,
	last_error	text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	finished_at	timestamptz,
	UNIQUE (kind, media_id),
	CHECK ((state = 'running') = (locked_by IS NOT NULL AND
	    lease_until IS NOT NULL))
);
CREATE INDEX job_ready_idx ON job (run_after) WHERE state = 'queued';
CREATE INDEX job_lease_idx ON job (lease_until) WHERE state = 'running';

-- What classification and processing found. Coordinates are never stored:
-- a photo's position becomes entry.area_code and is forgotten.
ALTER TABLE media
	ADD COLUMN family		text
	    CHECK (family IN ('audio', 'image', 'text', 'pdf')),
	ADD COLUMN detected_type	text,
	ADD COLUMN reject_reason	text,
	ADD COLUMN duration_ms		bigint CHECK (duration_ms >= 0),
	ADD COLUMN width		integer CHECK (width > 0),
	ADD COLUMN height		integer CHECK (height > 0),
	ADD COLUMN loudness_lufs	double precision,
	ADD COLUMN taken_at		timestamptz,
	ADD COLUMN opus_sha256		text REFERENCES blob,
	ADD COLUMN m4a_sha256		text REFERENCES blob,
	ADD COLUMN peaks_sha256		text REFERENCES blob,
	ADD COLUMN display_sha256	text REFERENCES blob,
	ADD COLUMN thumb_sha256		text REFERENCES blob,
	ADD COLUMN processed_at		timestamptz,
	ADD CONSTRAINT media_status_check CHECK (status IN
	    ('received', 'processing', 'ready', 'rejected')),
	ADD CONSTRAINT media_reject_check CHECK
	    ((status = 'rejected') = (reject_reason IS NOT NULL));

-- The blob collector asks whether a rendition is still named.
CREATE INDEX media_derived_idx ON media USING gin ((ARRAY[opus_sha256,
	m4a_sha256, peaks_sha256, display_sha256, thumb_sha256]));

-- Media uploaded before this migration get their job now.
INSERT INTO job (kind, media_id) SELECT 'media', id FROM media;
