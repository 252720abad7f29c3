-- Rate limits of residents' uploads and withdrawals, per client address
-- (an IPv6 address by its /64), in fixed windows that outlive a restart
-- of verhaald and are shared by every verhaald of one database. A row
-- whose window ended is restarted by the next hit, or deleted when some
-- other window starts (vh_ratelimit.c).
CREATE TABLE rate_limit (
	scope		text NOT NULL CHECK (scope IN ('upload', 'withdraw')),
	key		text NOT NULL,
	hits		integer NOT NULL CHECK (hits > 0),
	window_end	timestamptz NOT NULL,
	PRIMARY KEY (scope, key)
);
CREATE INDEX rate_limit_window_end ON rate_limit (window_end);

-- A finished upload no longer keeps its Upload-Metadata (the story's
-- title, text and consent): the entry holds them, and a moderator's
-- redaction or a withdrawal reaches them there only.
UPDATE upload SET metadata = '' WHERE completed_at IS NOT NULL;
