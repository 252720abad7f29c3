// Finishing an upload and creating its entry happen in one transaction:
// when marking the upload complete fails (an injected database error),
// no entry is left behind, and the next HEAD or retry makes exactly one.
// The 503 says what to do (Retry-After, database-unavailable) and does
// not echo the database's own text.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { psql } from './lib/harness.mjs';
import {
  fieldworkerToken, migratedStore, withDaemon, tusCreate, tusHead, tusPatch, randomFile, MiB,
} from './lib/uploads.mjs';

let db, dataDir, token;
before(() => {
  ({ db, dataDir } = migratedStore());
  token = fieldworkerToken(db, 'dupes');
});

// The next change that marks an upload complete fails, once. A sequence,
// because it does not roll back with the failed transaction.
function failNextCompletion() {
  psql(db, `DROP TRIGGER IF EXISTS fault_upload ON upload;
    DROP SEQUENCE IF EXISTS fault_seq; CREATE SEQUENCE fault_seq;
    CREATE OR REPLACE FUNCTION fault_upload() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.completed_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.completed_at IS NULL)
         AND nextval('fault_seq') = 1 THEN
        RAISE EXCEPTION 'injected fault in /var/secret/path';
      END IF;
      RETURN NEW; END $$;
    CREATE TRIGGER fault_upload BEFORE INSERT OR UPDATE ON upload FOR EACH ROW EXECUTE FUNCTION fault_upload();`);
}

function entriesTitled(title) {
  return Number(psql(db, `SELECT count(*) FROM entry WHERE title = '${title}'`));
}

async function checkOutage(r) {
  assert.equal(r.status, 503, r.text);
  assert.ok(Number(r.headers.get('retry-after')) > 0, 'Retry-After');
  const j = JSON.parse(r.text);
  assert.equal(j.type, '/problems/database-unavailable');
  assert.doesNotMatch(j.detail, /injected|secret|ERROR/, 'no raw database text');
}

test('a failure to mark a PATCHed upload complete leaves no entry; HEAD then finishes it once', async () => {
  await withDaemon({ databaseUrl: db, dataDir }, async (d) => {
    const data = randomFile(MiB);
    const c = await tusCreate(d.url, token, { length: data.length, metadata: { kind: 'story', title: 'dup patch' } });
    assert.equal(c.status, 201);
    failNextCompletion();
    const p = await tusPatch(c.location, token, 0, data);
    assert.equal(p.status, 503, p.text);
    assert.equal(entriesTitled('dup patch'), 0, 'no entry without its finished upload');
    await checkOutage(p);
    const h = await tusHead(c.location, token);
    assert.equal(h.status, 200);
    assert.equal(h.offset, data.length);
    assert.ok(h.headers.get('upload-entry'), 'HEAD finished the upload');
    const h2 = await tusHead(c.location, token);
    assert.equal(h2.headers.get('upload-entry'), h.headers.get('upload-entry'));
    const again = await tusPatch(c.location, token, data.length, Buffer.alloc(0));
    assert.equal(again.status, 204);
    assert.equal(entriesTitled('dup patch'), 1, 'exactly one entry');
  });
});

test('a failure to record a whole creation-with-upload leaves no entry; the retry makes one', async () => {
  await withDaemon({ databaseUrl: db, dataDir }, async (d) => {
    const data = randomFile(256 * 1024);
    failNextCompletion();
    const meta = { kind: 'story', title: 'dup whole' };
    const r = await fetch(`${d.url}/api/v1/uploads`, { method: 'POST', body: data, headers: {
      Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0', 'Upload-Length': String(data.length),
      'Content-Type': 'application/offset+octet-stream',
      'Upload-Metadata': Object.entries(meta).map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`).join(','),
    } });
    const refused = { status: r.status, headers: r.headers, text: await r.text() };
    assert.equal(refused.status, 503, refused.text);
    assert.equal(entriesTitled('dup whole'), 0, 'the refused creation left no entry');
    await checkOutage(refused);
    const c = await tusCreate(d.url, token, { length: data.length, metadata: meta, body: data });
    assert.equal(c.status, 201);
    assert.equal(entriesTitled('dup whole'), 1, 'one entry for one acknowledged upload');
    const h = await tusHead(c.location, token);
    assert.equal(h.offset, data.length);
  });
});
