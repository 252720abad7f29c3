-- OpenRosa (ODK Collect, ODK Web Forms): field workers' path tokens and
-- one row per submitted form instance.

-- A token is either for the API (Authorization: Bearer) or a field
-- worker's ODK token, which travels in the path (/odk/key/<token>/...)
-- because ODK Collect can hold no other credential than its server URL.
ALTER TABLE api_token ADD COLUMN kind text NOT NULL DEFAULT 'api'
	CHECK (kind IN ('api', 'odk'));

-- One row per instanceID. A split submission (*isIncomplete*) and an
-- identical resubmission find their row and add only the files still
-- missing; an edit (deprecatedID) points the old row at its successor and
-- moves the entry to the new one. The XML itself is kept as a sealed
-- blob; the collector keeps blobs a row here names.
CREATE TABLE odk_submission (
	instance_id	text PRIMARY KEY CHECK (length(instance_id) BETWEEN 1 AND 256),
	entry_id	bigint NOT NULL REFERENCES entry ON DELETE CASCADE,
	xml_sha256	text NOT NULL REFERENCES blob,
	form_id		text NOT NULL,
	form_version	text NOT NULL DEFAULT '',
	device_id	text NOT NULL DEFAULT '',
	account_id	bigint REFERENCES account,
	complete	boolean NOT NULL DEFAULT false,
	replaced_by	text,		-- the instanceID of the edit, if any
	location	text,		-- "lat lon alt acc", only with odk_keep_location
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX odk_submission_entry_idx ON odk_submission (entry_id);
CREATE INDEX odk_submission_xml_idx ON odk_submission (xml_sha256);
