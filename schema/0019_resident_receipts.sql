-- The resident's page (issue 13).
--
-- A receipt is never lost: the browser that sends a story makes a device
-- secret of its own and sends it with the upload (tus metadata 'device').
-- The entry's transaction keeps the secret's SHA-256 and the receipt code
-- sealed with the secret (XOR with a SHA-256 keystream of it), so that
-- the same browser can ask for the receipt again when the answer to its
-- last request was lost, and nobody else can: not another device, and
-- not a reader of the database, who holds neither code nor secret.
CREATE TABLE receipt_device (
	entry_id	bigint PRIMARY KEY REFERENCES entry ON DELETE CASCADE,
	device_hash	bytea NOT NULL CHECK (length(device_hash) = 32),
	sealed		bytea NOT NULL CHECK (length(sealed) BETWEEN 1 AND 64)
);

-- Guessing is refused by counting failures, never successes: a wrong
-- upload key ('upload'), a wrong receipt code per address ('withdraw')
-- and per code ('receipt_code'), a wrong device secret ('device'). A
-- wijkgesprek of thirty residents behind one Wi-Fi address is never
-- locked out by its own stories.
ALTER TABLE rate_limit DROP CONSTRAINT rate_limit_scope_check,
    ADD CONSTRAINT rate_limit_scope_check CHECK (scope IN ('upload',
    'withdraw', 'receipt_code', 'device'));
