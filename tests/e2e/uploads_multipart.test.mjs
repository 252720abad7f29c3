// One-request submissions (POST /api/v1/entries, multipart/form-data):
// curl sends a story with a JSON part and two files; refusals store
// nothing; residents submit through a collection's upload link, with a
// secret and a rate limit.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { psql, tmpdir, waitFor } from './lib/harness.mjs';
import {
  RawConn, assertProblem, entryPart, postEntry, fieldworkerToken, collectionSecret,
  migratedStore, withDaemon, countRows, tablesHoldingSha, blobPath, filesUnder, newFiles,
  makeWav, makeJpeg, sha256, sha256File, randomFile, ENTRY_TABLES, MEDIA_TABLES,
} from './lib/uploads.mjs';

let db;
let dataDir;
let fixtures;
let fwToken;
before(() => {
  ({ db, dataDir } = migratedStore());
  fixtures = tmpdir('mp');
  makeWav(fixtures, 'a.wav', 3);
  makeJpeg(fixtures, 'b.jpg');
});
const token = () => (fwToken ??= fieldworkerToken(db, 'mp-worker'));
const daemon = (fn, env = {}) => withDaemon({ databaseUrl: db, dataDir, env }, fn);

function curl(args) {
  return new Promise((resolve, reject) => {
    const p = spawn('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', ...args]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`curl exited ${code}: ${err}`));
      const i = out.lastIndexOf('\n');
      resolve({ status: Number(out.slice(i + 1)), text: out.slice(0, i) });
    });
  });
}

test('curl submits a story with a JSON part and two files: 201, both media durable, rows in one entry', () => daemon(async (d) => {
  const wav = path.join(fixtures, 'a.wav');
  const jpg = path.join(fixtures, 'b.jpg');
  const entryFile = path.join(fixtures, 'entry.json');
  writeFileSync(entryFile, JSON.stringify({
    kind: 'story', title: 'De brug bij de Weerdsluis', text: 'Hier speelden wij vroeger.',
    occurred_at: '1978-06-01T12:00:00Z', themes: ['veiligheidsgevoel', 'overlast-en-leefbaarheid'],
    consent: { scope: 'publish', version: '1', language: 'nl' },
  }));
  const spool0 = filesUnder(path.join(d.dataDir, 'spool'));
  const r = await curl(['-H', `Authorization: Bearer ${token()}`,
    '-F', `entry=<${entryFile};type=application/json`,
    '-F', `file1=@${wav};type=audio/wav`, '-F', `file2=@${jpg};type=image/jpeg`,
    `${d.url}/api/v1/entries`]);
  assert.equal(r.status, 201, r.text);
  const e = JSON.parse(r.text);
  assert.equal(e.kind, 'story');
  assert.equal(e.status, 'received');
  assert.equal(e.title, 'De brug bij de Weerdsluis');
  assert.equal(e.media.length, 2);
  const want = { 'a.wav': await sha256File(wav), 'b.jpg': await sha256File(jpg) };
  for (const m of e.media) {
    assert.ok(m.id !== undefined, 'media id');
    assert.equal(m.sha256, want[m.filename], `sha256 of ${m.filename}`);
    const p = blobPath(d.dataDir, m.sha256);
    assert.ok(existsSync(p), `blob file ${p}`);
    assert.equal(await sha256File(p), m.sha256, 'the blob file holds the bytes');
    assert.equal(m.size, readFileSync(path.join(fixtures, m.filename)).length);
    assert.ok(tablesHoldingSha(db, m.sha256).length > 0, `a database row names ${m.sha256}`);
  }
  assert.deepEqual(e.media.map((m) => m.filename).sort(), ['a.wav', 'b.jpg']);
  assert.equal(countRows(db, ENTRY_TABLES, `id = ${Number(e.id)}`), 1, 'the entry row');
  const mediaRows = countRows(db, MEDIA_TABLES, `entry_id = ${Number(e.id)}`);
  if (mediaRows !== null) assert.equal(mediaRows, 2, 'two media rows belong to the entry');
  // No spool file is left behind.
  assert.deepEqual(newFiles(path.join(d.dataDir, 'spool'), spool0), []);
}));

test('no credentials: 401 comes before the body is read, and no 100 Continue', () => daemon(async (d) => {
  for (const auth of [null, 'Authorization: Bearer not-a-real-token', 'Authorization: Basic dXNlcjpwdw==']) {
    const c = new RawConn(d.url);
    try {
      await c.connected;
      const lines = ['POST /api/v1/entries HTTP/1.1', 'Host: t',
        'Content-Type: multipart/form-data; boundary=xyz', `Content-Length: ${50 * 1024 * 1024}`, 'Expect: 100-continue'];
      if (auth) lines.push(auth);
      await c.write(lines.join('\r\n') + '\r\n\r\n');
      const r = await c.readResponse({ timeout: 5000 });
      assert.notEqual(r.status, 100, `${auth}: a 100 Continue was sent before the 401`);
      const p = assertProblem(r, 401, String(auth));
      assert.ok(p.detail, 'a human detail');
    } finally { c.destroy(); }
  }
  // Without Expect the 401 also comes at once, before any body byte.
  const c = new RawConn(d.url);
  try {
    await c.connected;
    await c.write(['POST /api/v1/entries HTTP/1.1', 'Host: t', 'Content-Type: multipart/form-data; boundary=xyz',
      `Content-Length: ${50 * 1024 * 1024}`].join('\r\n') + '\r\n\r\n');
    assertProblem(await c.readResponse({ timeout: 5000 }), 401, 'no Expect');
  } finally { c.destroy(); }
}));

// What a refused submission must not leave: entry rows, untracked blob
// files, spool files. snapshot() before it, assertNothingStored() after.
const leftBlobs = [];
function snapshot(d) {
  return { entries: countRows(db, ENTRY_TABLES) ?? 0, blobs: filesUnder(path.join(d.dataDir, 'blobs')),
    spool: filesUnder(path.join(d.dataDir, 'spool')) };
}
async function assertNothingStored(d, snap, what = '') {
  assert.equal(countRows(db, ENTRY_TABLES) ?? 0, snap.entries, `${what}: no entry row`);
  // A file may already be in the blob store when a late check refuses
  // the entry; it must then be recorded for the collector (a blob row)
  // and named by no media row, never an untracked or referenced file.
  for (const f of newFiles(path.join(d.dataDir, 'blobs'), snap.blobs)) {
    const tables = tablesHoldingSha(db, path.basename(f));
    assert.ok(tables.length > 0, `${what}: blob file ${f} is known to no database row`);
    assert.ok(!tables.some((t) => MEDIA_TABLES.includes(t)), `${what}: a media row names ${f}`);
    leftBlobs.push(what);
  }
  await waitFor(() => newFiles(path.join(d.dataDir, 'spool'), snap.spool).length === 0, { timeout: 3000 })
    .catch(() => assert.fail(`${what}: spool leftovers: ${newFiles(path.join(d.dataDir, 'spool'), snap.spool)}`));
}

test('a bad entry part is refused with 400 or 422 and nothing is stored', () => daemon(async (d) => {
  // New bytes for every case, so that a blob it left would be a new file.
  const f = () => ({ name: 'f', filename: 'x.bin', type: 'application/octet-stream', data: randomFile(300000) });
  const cases = [
    // [parts, allowed statuses, what]
    [[f(), { name: 'entry', value: '{"kind": "story", "title": ', type: 'application/json' }], [400], 'truncated JSON after a file'],
    [[{ name: 'entry', value: 'not json at all', type: 'application/json' }, f()], [400], 'not JSON before a file'],
    [[f(), entryPart({ kind: 'poem', title: 'x' })], [422], 'unknown kind'],
    [[entryPart({ title: 'no kind' }), f()], [422], 'kind missing'],
    [[f(), entryPart({ kind: 'story', occurred_at: 'yesterday-ish' })], [422], 'bad occurred_at'],
    [[f(), entryPart({ kind: 'story', themes: 'not-a-list' })], [422], 'themes not a list'],
    [[f()], [400, 422], 'no entry part'],
  ];
  for (const [parts, statuses, what] of cases) {
    const snap = snapshot(d);
    const r = await postEntry(d.url, token(), parts);
    assert.ok(statuses.includes(r.status), `${what}: got ${r.status} ${r.text}`);
    assertProblem(r, r.status, what);
    await assertNothingStored(d, snap, what);
  }
  // Not multipart at all: 415.
  const snap = snapshot(d);
  const r = await fetch(`${d.url}/api/v1/entries`, { method: 'POST', body: '{"kind":"story"}',
    headers: { Authorization: `Bearer ${token()}`, 'Content-Type': 'application/json' } });
  assertProblem({ status: r.status, headers: r.headers, text: await r.text() }, 415, 'json body');
  // A multipart body cut short (no closing boundary) is 400.
  const c = new RawConn(d.url);
  try {
    await c.connected;
    const body = '--xyz\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\nsome bytes';
    await c.write(['POST /api/v1/entries HTTP/1.1', 'Host: t', `Authorization: Bearer ${token()}`,
      'Content-Type: multipart/form-data; boundary=xyz', `Content-Length: ${body.length}`].join('\r\n') + '\r\n\r\n' + body);
    assertProblem(await c.readResponse(), 400, 'unterminated multipart');
  } finally { c.destroy(); }
  await assertNothingStored(d, snap, '415 and unterminated');
  if (leftBlobs.length) console.log(`# refusals that left a tracked blob for the collector: ${leftBlobs.join('; ')}`);
}));

test('a resident submits through the collection link with its secret; a wrong secret is 401', () => daemon(async (d) => {
  const secret = collectionSecret(db, 'wijkverhalen-noord', 'Wijkverhalen Noord');
  assert.ok(secret.length >= 16, 'a secret of some length');
  const photo = readFileSync(path.join(fixtures, 'b.jpg'));
  const parts = [entryPart({ kind: 'story', title: 'Mijn straat', consent: { scope: 'publish', version: '1', language: 'nl' } }),
    { name: 'photo', filename: 'straat.jpg', type: 'image/jpeg', data: photo }];

  let r = await postEntry(d.url, null, parts, { path: `/api/v1/collections/wijkverhalen-noord/uploads?key=${encodeURIComponent(secret)}` });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.kind, 'story');
  assert.equal(r.json.media[0].sha256, sha256(photo));
  assert.ok(existsSync(blobPath(d.dataDir, sha256(photo))));

  // The header form of the key.
  r = await postEntry(d.url, null, parts, { path: '/api/v1/collections/wijkverhalen-noord/uploads', headers: { 'X-Upload-Key': secret } });
  assert.equal(r.status, 201, r.text);

  // A resident's entry is always a story.
  r = await postEntry(d.url, null, [entryPart({ kind: 'visit', title: 'huisbezoek' })],
    { path: `/api/v1/collections/wijkverhalen-noord/uploads?key=${encodeURIComponent(secret)}` });
  if (r.status === 201) assert.equal(r.json.kind, 'story', 'a resident cannot file a visit');
  else assert.ok([400, 403, 422].includes(r.status), `a resident's visit: ${r.status}`);

  const n = countRows(db, ENTRY_TABLES) ?? 0;
  for (const p of [
    `/api/v1/collections/wijkverhalen-noord/uploads?key=${encodeURIComponent(secret + 'x')}`,
    `/api/v1/collections/wijkverhalen-noord/uploads?key=`,
    '/api/v1/collections/wijkverhalen-noord/uploads',
    `/api/v1/collections/someone-elses/uploads?key=${encodeURIComponent(secret)}`,
  ]) {
    r = await postEntry(d.url, null, parts, { path: p });
    if (p.includes('someone-elses')) assert.ok([401, 404].includes(r.status), `${p}: ${r.status}`);
    else assertProblem(r, 401, p);
  }
  assert.equal(countRows(db, ENTRY_TABLES) ?? 0, n, 'refused submissions made no entries');
}));

test('wrong upload links beyond resident_upload_rate get 429 with Retry-After; successful uploads never count', () => daemon(async (d) => {
  // The counts live in the database, which this file's tests share: the
  // attempts of the tests before this one must not count here.
  psql(db, 'DELETE FROM rate_limit');
  const secret = collectionSecret(db, 'rate-test', 'Rate test');
  const link = `/api/v1/collections/rate-test/uploads?key=${encodeURIComponent(secret)}`;
  const parts = (i) => [entryPart({ kind: 'story', title: `verhaal ${i}`, consent: { scope: 'analysis_only', version: '1', language: 'nl' } }),
    { name: 'note', filename: `n${i}.txt`, type: 'text/plain', data: Buffer.from(`note ${i}\n`) }];
  // A wijkgesprek behind one address: more uploads than the rate, all kept (issue 13).
  for (let i = 0; i < 5; i++) {
    const r = await postEntry(d.url, null, parts(i), { path: link });
    assert.equal(r.status, 201, `upload ${i}: ${r.text}`);
  }
  // Guessing: three wrong keys, then refused, the right key too.
  for (let i = 0; i < 3; i++) {
    const r = await postEntry(d.url, null, parts(10 + i), { path: `/api/v1/collections/rate-test/uploads?key=vh_wrong${i}` });
    assertProblem(r, 401, `wrong key ${i}`);
  }
  const n = countRows(db, ENTRY_TABLES) ?? 0;
  const r = await postEntry(d.url, null, parts(3), { path: link });
  assertProblem(r, 429, 'after three wrong keys in the hour');
  const after = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(after) && after > 0 && after <= 3600, `Retry-After ${r.headers.get('retry-after')}`);
  assert.equal(countRows(db, ENTRY_TABLES) ?? 0, n, 'the refused upload made no entry');
  // Field workers are not rate-limited.
  const w = await postEntry(d.url, token(), parts(4));
  assert.equal(w.status, 201, w.text);
}, { VERHAAL_RESIDENT_UPLOAD_RATE: '3' }));

test('a refused submission never removes a file that a stored entry holds (same bytes, one blob)', () => daemon(async (d) => {
  const audio = readFileSync(path.join(fixtures, 'a.wav'));
  const hex = sha256(audio);
  const file = { name: 'f', filename: 'a.wav', type: 'audio/wav', data: audio };
  const ok = await postEntry(d.url, token(), [entryPart({ kind: 'story', title: 'kept' }), file]);
  assert.equal(ok.status, 201, ok.text);
  // Refusals found at every stage: JSON, fields checked early, fields
  // that only the database refuses.
  for (const bad of [[file, { name: 'entry', value: '{', type: 'application/json' }],
    [file, entryPart({ kind: 'poem' })], [file, entryPart({ kind: 'story', occurred_at: 'yesterday-ish' })],
    [file, entryPart({ kind: 'story', area: 'XX123' })]]) {
    const r = await postEntry(d.url, token(), bad);
    assert.ok([400, 422].includes(r.status), `refused: ${r.status} ${r.text}`);
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(existsSync(blobPath(d.dataDir, hex)), 'the stored entry still has its file');
  assert.equal(await sha256File(blobPath(d.dataDir, hex)), hex);

  // The same race, concurrently: a good and a refused submission of the
  // same new bytes at once, ten times over.
  const rounds = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
    const data = randomFile(400000 + i);
    const part = { name: 'f', filename: `r${i}.bin`, data };
    const [good] = await Promise.all([
      postEntry(d.url, token(), [part, entryPart({ kind: 'story', title: `race ${i}` })]),
      postEntry(d.url, token(), [part, entryPart({ kind: 'story', occurred_at: 'not a date' })]),
    ]);
    return { good, hex: sha256(data) };
  }));
  for (const { good, hex: h } of rounds) {
    assert.equal(good.status, 201, good.text);
    assert.ok(existsSync(blobPath(d.dataDir, h)), `entry ${good.json.id} lost its file ${h} to a refused twin`);
  }
}));
