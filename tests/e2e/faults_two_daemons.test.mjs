// Two daemons on one database and data directory: a client's PATCH stalls
// on daemon A, the client asks daemon B (HEAD, then PATCH from the
// reported offset), and A's request finishes later. Every upload that was
// acknowledged must be byte-identical to what was sent, and its blob file
// must match its name; B must not cut A's file while A still writes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, psql } from './lib/harness.mjs';
import {
  fieldworkerToken, migratedStore, tusCreate, tusHead, tusPatch, tusHeaders, RawConn,
  blobPath, sha256, sha256File, randomFile, MiB,
} from './lib/uploads.mjs';

let db, dataDir, token, A, B;
before(async () => {
  ({ db, dataDir } = migratedStore());
  token = fieldworkerToken(db, 'twodaemons');
  A = await startDaemon({ databaseUrl: db, dataDir });
  B = await startDaemon({ databaseUrl: db, dataDir });
});
after(async () => { await A?.stop('SIGKILL'); await B?.stop('SIGKILL'); });

// A PATCH whose body is sent by the test, piece by piece, on a raw socket.
async function openPatch(base, location, offset, length) {
  const c = new RawConn(base);
  await c.connected;
  const p = new URL(location).pathname;
  const h = tusHeaders(token, { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream',
    'Content-Length': String(length), Host: 'x' });
  await c.write(`PATCH ${p} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
  return c;
}

function checkStored(entry, data, what) {
  const sha = psql(db, `SELECT blob_sha256 FROM media WHERE entry_id = ${Number(entry)}`);
  assert.equal(sha, sha256(data), `${what}: the stored upload is what was sent`);
  return sha;
}

test('a stalled PATCH on one daemon and its retry on another never corrupt an acknowledged upload', async () => {
  const L = 2 * MiB;
  const data = randomFile(L);
  const c = await tusCreate(A.url, token, { length: L, metadata: { kind: 'story', filename: 'two.bin', title: 'two daemons' } });
  assert.equal(c.status, 201);
  const first = await tusPatch(c.location, token, 0, data.subarray(0, 1000));
  assert.equal(first.status, 204);

  // A gets everything but the last byte, then the client stalls.
  const onA = await openPatch(A.url, c.location, 1000, L - 1000);
  await onA.write(data.subarray(1000, L - 1));
  await new Promise((r) => setTimeout(r, 300));

  // The client gives up on A and asks B.
  const bLoc = c.location.replace(A.url, B.url);
  const h = await tusHead(bLoc, token);
  assert.equal(h.status, 200);
  assert.equal(h.offset, 1000, 'B reports the durable offset');
  const onB = await openPatch(B.url, bLoc, h.offset, L - h.offset);
  await onB.write(data.subarray(h.offset, h.offset + 10));
  const bEarly = await onB.readResponse({ timeout: 700 }).catch(() => null);

  // A's client sends its last byte after all.
  await onA.write(data.subarray(L - 1));
  const aRes = await onA.readResponse({ timeout: 10000 });
  onA.destroy();
  let bRes = bEarly;
  if (!bRes) {
    await onB.write(data.subarray(h.offset + 10));
    bRes = await onB.readResponse({ timeout: 10000 }).catch(() => null);
  }
  onB.destroy();

  const acked = [aRes, bRes].filter((r) => r && r.status === 204 && Number(r.headers['upload-offset']) === L);
  assert.ok(acked.length >= 1, `someone acknowledged the upload: A ${aRes?.status}, B ${bRes?.status}`);
  if (bEarly) {
    assert.equal(bEarly.status, 423, 'B refuses while A holds the upload');
    assert.equal(bEarly.headers['retry-after'], '1');
  }
  const entries = new Set(acked.map((r) => r.headers['upload-entry']));
  assert.equal(entries.size, 1, 'one entry');
  const sha = checkStored([...entries][0], data, 'acknowledged');
  assert.equal(await sha256File(blobPath(dataDir, sha)), sha, 'the blob file matches its name');
  assert.equal(psql(db, `SELECT count(*) FROM entry WHERE title = 'two daemons'`), '1');

  // The retry after the fact sees a finished upload.
  const again = await tusHead(bLoc, token);
  assert.equal(again.offset, L);
});
