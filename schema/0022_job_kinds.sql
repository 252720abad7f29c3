-- A second kind of job: an audio redaction, run by the media runners
-- instead of on the request pool. Its arguments (the mute ranges, who
-- asked) travel in payload; what it made is kept in result for the
-- moderator who follows the job. A media job stays unique per media
-- row; a recording may be redacted any number of times.
ALTER TABLE job DROP CONSTRAINT job_kind_check;
ALTER TABLE job ADD CONSTRAINT job_kind_check
	CHECK (kind IN ('media', 'redact'));
ALTER TABLE job
	ADD COLUMN payload	jsonb,
	ADD COLUMN result	jsonb;
ALTER TABLE job DROP CONSTRAINT job_kind_media_id_key;
CREATE UNIQUE INDEX job_media_once_idx ON job (media_id) WHERE kind = 'media';
