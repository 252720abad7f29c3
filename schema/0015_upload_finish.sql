-- A tus upload and its entry commit together. The daemon names the upload
-- it is finishing in the session setting verhaal.finishing_upload while it
-- stores the entry; the media row's insertion then marks that upload
-- complete in the same transaction, or fails the transaction when the
-- upload was finished already (by an earlier attempt whose answer was
-- lost, or by another daemon). So a retry never makes a second entry, and
-- no entry exists whose upload still looks unfinished.
CREATE FUNCTION upload_finish_on_media() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	up text := coalesce(current_setting('verhaal.finishing_upload', true), '');
BEGIN
	IF up = '' THEN
		RETURN NEW;
	END IF;
	-- The entry now holds the text; a moderator's redaction reaches it
	-- there, so no copy stays behind in the upload.
	UPDATE upload SET completed_at = now(), media_id = NEW.id,
	    metadata = '', updated_at = now()
	    WHERE id = up AND completed_at IS NULL;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'upload already finished: %', up;
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER media_finishes_upload AFTER INSERT ON media
	FOR EACH ROW EXECUTE FUNCTION upload_finish_on_media();
