-- The content hash of a complete tus upload, recorded before its file
-- moves into the blob store, so that an upload interrupted between that
-- move and its entry's commit can still be finished after a restart.
ALTER TABLE upload ADD COLUMN blob_sha256 text
	CHECK (blob_sha256 ~ '^[0-9a-f]{64}$');
