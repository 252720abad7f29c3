// tus 1.0.0 at /api/v1/uploads, request by request with fetch and raw
// sockets: OPTIONS, versions, creation (with upload, deferred length),
// offsets, checksums, limits, metadata, termination, expiry, a PATCH cut
// off and a PATCH that hangs while the client comes back.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { waitFor } from './lib/harness.mjs';
import {
  RawConn, assertProblem, fieldworkerToken, collectionSecret, migratedStore, withDaemon,
  tusCreate, tusPatch, tusHead, tusHeaders, tusMetadata, sha256, sha1b64, sha256b64,
  randomFile, blobPath, filesUnder, newFiles, tablesHoldingSha, MiB,
} from './lib/uploads.mjs';

let db;
let dataDir;
let fwToken;
before(() => { ({ db, dataDir } = migratedStore()); });
const token = () => (fwToken ??= fieldworkerToken(db, 'tus-worker'));
const daemon = (fn, env = {}) => withDaemon({ databaseUrl: db, dataDir, env }, fn);
const meta = (extra = {}) => ({ kind: 'story', title: 'tus', filename: 'opname.bin', filetype: 'application/octet-stream', ...extra });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function problemOf(r) { return { status: r.status, headers: r.headers, text: r.text ?? '' }; }

async function assertStored(d, data, what) {
  const hex = sha256(data);
  assert.ok(existsSync(blobPath(d.dataDir, hex)), `${what}: blob file of ${hex}`);
  assert.ok(tablesHoldingSha(db, hex).length > 0, `${what}: a database row names ${hex}`);
}

test('OPTIONS advertises version, extensions, max size and checksum algorithms', () => daemon(async (d) => {
  const r = await fetch(`${d.url}/api/v1/uploads`, { method: 'OPTIONS', headers: { Authorization: `Bearer ${token()}` } });
  assert.ok([200, 204].includes(r.status), `OPTIONS: ${r.status}`);
  assert.equal(r.status, 204, 'docs/api.md: 204');
  assert.match(r.headers.get('tus-version') ?? '', /(^|,\s*)1\.0\.0(\s*,|$)/);
  const ext = (r.headers.get('tus-extension') ?? '').split(',').map((s) => s.trim());
  for (const e of ['creation', 'creation-with-upload', 'creation-defer-length', 'expiration', 'checksum', 'termination'])
    assert.ok(ext.includes(e), `Tus-Extension lists ${e}: ${ext}`);
  assert.match(r.headers.get('tus-max-size') ?? '', /^\d+$/);
  const algs = (r.headers.get('tus-checksum-algorithm') ?? '').split(',').map((s) => s.trim());
  assert.ok(algs.includes('sha1') && algs.includes('sha256'), `Tus-Checksum-Algorithm: ${algs}`);
}));

test('a missing or wrong Tus-Resumable gets 412 with Tus-Version; every other answer carries Tus-Resumable', () => daemon(async (d) => {
  const auth = { Authorization: `Bearer ${token()}` };
  const c = await tusCreate(d.url, token(), { length: 10, metadata: meta() });
  assert.equal(c.status, 201);
  assert.equal(c.headers.get('tus-resumable'), '1.0.0', 'on 201');
  for (const version of [undefined, '0.2.2', '1.0']) {
    const h = { ...auth, 'Upload-Length': '10' };
    if (version) h['Tus-Resumable'] = version;
    for (const [method, url, extra] of [['POST', `${d.url}/api/v1/uploads`, {}], ['HEAD', c.location, {}],
      ['PATCH', c.location, { 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }]]) {
      const r = await fetch(url, { method, headers: { ...h, ...extra }, body: method === 'PATCH' ? 'abc' : undefined });
      const text = await r.text();
      assert.equal(r.status, 412, `${method} with Tus-Resumable ${version}`);
      assert.match(r.headers.get('tus-version') ?? '', /1\.0\.0/, `${method}: Tus-Version`);
      if (method !== 'HEAD') assertProblem({ status: r.status, headers: r.headers, text }, 412, method);
    }
  }
  // Nothing was written by the refused PATCHes.
  const h = await tusHead(c.location, token());
  assert.equal(h.status, 200);
  assert.equal(h.offset, 0);
  assert.equal(h.headers.get('tus-resumable'), '1.0.0', 'on HEAD');
  assert.equal(h.headers.get('cache-control'), 'no-store');
  const p = await tusPatch(c.location, token(), 3, Buffer.from('x'));
  assert.equal(p.status, 409);
  assert.equal(p.headers.get('tus-resumable'), '1.0.0', 'on 409');
  const nf = await tusHead(`${d.url}/api/v1/uploads/doesnotexist0000`, token());
  assert.equal(nf.status, 404);
  assert.equal(nf.headers.get('tus-resumable'), '1.0.0', 'on 404');
}));

test('creation-with-upload, then PATCH to the end: stored, entry made, the upload finished', () => daemon(async (d) => {
  const data = randomFile(3 * MiB + 17);
  const first = data.subarray(0, MiB + 5);
  const c = await tusCreate(d.url, token(), { length: data.length, metadata: meta({ title: 'met upload' }), body: first });
  assert.equal(c.status, 201);
  assert.match(c.location, /\/api\/v1\/uploads\/[^/]+$/);
  assert.equal(Number(c.headers.get('upload-offset')), first.length);
  const exp = c.headers.get('upload-expires');
  assert.ok(exp && Date.parse(exp) > Date.now(), `Upload-Expires in the future: ${exp}`);
  assert.match(exp, /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/, 'an RFC 9110 date');

  let h = await tusHead(c.location, token());
  assert.equal(h.offset, first.length);
  assert.equal(Number(h.headers.get('upload-length')), data.length);
  assert.equal(h.headers.get('upload-metadata').split(',').length >= 4, true, 'metadata echoed');

  const p = await tusPatch(c.location, token(), first.length, data.subarray(first.length));
  assert.equal(p.status, 204, p.text);
  assert.equal(Number(p.headers.get('upload-offset')), data.length);
  assert.match(p.headers.get('upload-entry') ?? '', /^\S+$/, 'Upload-Entry names the entry');
  await assertStored(d, data, 'creation-with-upload');

  // Finished: HEAD still says so (a client whose last answer was lost
  // learns that it is done); PATCH is 410. DELETE (termination) forgets
  // the upload, 204, and the entry it made stays.
  h = await tusHead(c.location, token());
  assert.equal(h.status, 200, 'HEAD of a finished upload');
  assert.equal(h.offset, data.length);
  assert.equal(Number(h.headers.get('upload-length')), data.length);
  assert.equal(h.headers.get('upload-entry'), p.headers.get('upload-entry'), 'the same Upload-Entry');
  const again = await tusPatch(c.location, token(), data.length, Buffer.from('more'));
  assert.equal(again.status, 410, 'PATCH after the end');
  const del = await fetch(c.location, { method: 'DELETE', headers: tusHeaders(token()) });
  assert.equal(del.status, 204, 'DELETE after the end');
  assert.equal((await tusHead(c.location, token())).status, 404, 'the upload is forgotten');
  assert.ok(existsSync(blobPath(d.dataDir, sha256(data))), 'the file stays');
}));

test('creation-defer-length: the length comes with a later PATCH', () => daemon(async (d) => {
  const data = randomFile(MiB + 333);
  const c = await tusCreate(d.url, token(), { defer: true, metadata: meta() });
  assert.equal(c.status, 201);
  let h = await tusHead(c.location, token());
  assert.equal(h.headers.get('upload-defer-length'), '1');
  assert.equal(h.headers.get('upload-length'), null);
  let p = await tusPatch(c.location, token(), 0, data.subarray(0, 1000));
  assert.equal(p.status, 204, p.text);
  h = await tusHead(c.location, token());
  assert.equal(h.offset, 1000);
  assert.equal(h.headers.get('upload-defer-length'), '1');
  p = await tusPatch(c.location, token(), 1000, data.subarray(1000), { 'Upload-Length': String(data.length) });
  assert.equal(p.status, 204, p.text);
  assert.equal(Number(p.headers.get('upload-offset')), data.length);
  assert.ok(p.headers.get('upload-entry'));
  await assertStored(d, data, 'deferred length');

  // A length shorter than what is already there is refused.
  const c2 = await tusCreate(d.url, token(), { defer: true, metadata: meta() });
  p = await tusPatch(c2.location, token(), 0, data.subarray(0, 500));
  assert.equal(p.status, 204);
  p = await tusPatch(c2.location, token(), 500, data.subarray(500, 600), { 'Upload-Length': '550' });
  assert.ok([400, 413].includes(p.status), `Upload-Length below the data: ${p.status}`);
  assert.equal((await tusHead(c2.location, token())).offset, 500);
}));

test('offset mismatch 409, bad checksum 460, wrong Content-Type 415: nothing changes; good sha1 and sha256 pass', () => daemon(async (d) => {
  const data = randomFile(4 * 65536);
  const part = (i) => data.subarray(i * 65536, (i + 1) * 65536);
  const c = await tusCreate(d.url, token(), { length: data.length, metadata: meta() });
  let p = await tusPatch(c.location, token(), 0, part(0));
  assert.equal(p.status, 204);

  for (const off of [0, 1000, 2 * 65536]) {
    p = await tusPatch(c.location, token(), off, part(1));
    assert.equal(p.status, 409, `PATCH at ${off} while the offset is 65536`);
    assert.equal((await tusHead(c.location, token())).offset, 65536, 'offset unchanged after 409');
  }

  p = await tusPatch(c.location, token(), 65536, part(1), { 'Upload-Checksum': `sha1 ${sha1b64(part(2))}` });
  assertProblem(problemOf(p), 460, 'sha1 mismatch');
  assert.equal((await tusHead(c.location, token())).offset, 65536, 'offset kept after 460');
  p = await tusPatch(c.location, token(), 65536, part(1), { 'Upload-Checksum': `sha256 ${sha256b64(part(2))}` });
  assert.equal(p.status, 460, 'sha256 mismatch');
  assert.equal((await tusHead(c.location, token())).offset, 65536, 'offset kept after 460');
  p = await tusPatch(c.location, token(), 65536, part(1), { 'Upload-Checksum': `md5 ${sha1b64(part(1))}` });
  assert.equal(p.status, 400, 'an unsupported checksum algorithm');
  assert.equal((await tusHead(c.location, token())).offset, 65536);

  for (const ct of ['application/octet-stream', 'text/plain']) {
    const r = await fetch(c.location, { method: 'PATCH', body: part(1),
      headers: tusHeaders(token(), { 'Upload-Offset': '65536', 'Content-Type': ct }) });
    assertProblem({ status: r.status, headers: r.headers, text: await r.text() }, 415, ct);
  }
  assert.equal((await tusHead(c.location, token())).offset, 65536, 'offset unchanged after 415');

  p = await tusPatch(c.location, token(), 65536, part(1), { 'Upload-Checksum': `sha1 ${sha1b64(part(1))}` });
  assert.equal(p.status, 204, `good sha1: ${p.text}`);
  p = await tusPatch(c.location, token(), 2 * 65536, part(2), { 'Upload-Checksum': `sha256 ${sha256b64(part(2))}` });
  assert.equal(p.status, 204, `good sha256: ${p.text}`);
  p = await tusPatch(c.location, token(), 3 * 65536, part(3));
  assert.equal(p.status, 204);
  await assertStored(d, data, 'after refusals');
}));

test('no byte past Upload-Length or max_upload_size: 413', () => daemon(async (d) => {
  const data = randomFile(100);
  const c = await tusCreate(d.url, token(), { length: 100, metadata: meta() });
  let p = await tusPatch(c.location, token(), 0, Buffer.concat([data, randomFile(50)]));
  assertProblem(problemOf(p), 413, 'PATCH past Upload-Length');
  const h = await tusHead(c.location, token());
  assert.ok(h.status === 200 && h.offset <= 100, `offset ${h.offset} after 413`);
  p = await tusPatch(c.location, token(), h.offset, data.subarray(h.offset));
  assert.equal(p.status, 204);
  await assertStored(d, data, 'exactly Upload-Length');

  // Creation with a length above max_upload_size (1M here), or a
  // creation-with-upload body past its own Upload-Length.
  let r = await tusCreate(d.url, token(), { length: 2 * MiB, metadata: meta() });
  assert.equal(r.status, 413, 'Upload-Length above max_upload_size');
  r = await tusCreate(d.url, token(), { length: 10, metadata: meta(), body: randomFile(20) });
  assert.equal(r.status, 413, 'creation body past Upload-Length');
  // A deferred upload may not grow past max_upload_size either.
  const c2 = await tusCreate(d.url, token(), { defer: true, metadata: meta() });
  p = await tusPatch(c2.location, token(), 0, randomFile(MiB + 10));
  assert.equal(p.status, 413, 'deferred upload past max_upload_size');
  assert.ok((await tusHead(c2.location, token())).offset <= MiB);
}, { VERHAAL_MAX_UPLOAD_SIZE: '1M' }));

test('Upload-Metadata is parsed strictly: malformed is 400, a bare key is fine', () => daemon(async (d) => {
  const bad = ['filename not_base64!!', 'filename YQ== extra', 'title YQ==,title Yg==', ',',
    'bad\u00e9key YQ=='];
  for (const m of bad) {
    const r = await tusCreate(d.url, token(), { length: 10, metadata: m });
    assert.equal(r.status, 400, `metadata ${JSON.stringify(m)}`);
  }
  const ok = await tusCreate(d.url, token(), { length: 10, metadata: `${tusMetadata(meta())},is_confidential` });
  assert.equal(ok.status, 201, 'a key without value');
  const bogus = await tusCreate(d.url, token(), { length: 10, metadata: meta({ kind: 'poem' }) });
  assert.ok([400, 422].includes(bogus.status), `kind poem: ${bogus.status}`);
}));

test('DELETE terminates: 204, then 404 or 410, and the partial file is gone', () => daemon(async (d) => {
  const spool0 = filesUnder(path.join(d.dataDir, 'spool'));
  const c = await tusCreate(d.url, token(), { length: MiB, metadata: meta(), body: randomFile(1000) });
  assert.equal(c.status, 201);
  assert.ok(newFiles(path.join(d.dataDir, 'spool'), spool0).length > 0, 'the partial bytes are in the spool');
  const r = await fetch(c.location, { method: 'DELETE', headers: tusHeaders(token()) });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('tus-resumable'), '1.0.0');
  const h = await tusHead(c.location, token());
  assert.ok([404, 410].includes(h.status), `HEAD after DELETE: ${h.status}`);
  const p = await tusPatch(c.location, token(), 1000, randomFile(10));
  assert.ok([404, 410].includes(p.status), `PATCH after DELETE: ${p.status}`);
  await waitFor(() => newFiles(path.join(d.dataDir, 'spool'), spool0).length === 0, { timeout: 3000 })
    .catch(() => assert.fail(`partial left: ${newFiles(path.join(d.dataDir, 'spool'), spool0)}`));
}));

test('an unfinished upload expires after upload_expiry: 404 or 410, and it is reaped', async () => {
  const env = { VERHAAL_UPLOAD_EXPIRY: '2s' };
  const spool0 = filesUnder(path.join(dataDir, 'spool'));
  const c = await daemon(async (d) => {
    const created = await tusCreate(d.url, token(), { length: MiB, metadata: meta(), body: randomFile(4096) });
    assert.equal(created.status, 201);
    assert.ok(Date.parse(created.headers.get('upload-expires')) - Date.now() < 10000, 'Upload-Expires follows upload_expiry');
    const gone = await waitFor(async () => {
      const h = await tusHead(created.location, token());
      return h.status !== 200 && h;
    }, { timeout: 15000, interval: 500 });
    assert.ok([404, 410].includes(gone.status), `expired: ${gone.status}`);
    const p = await tusPatch(created.location, token(), 4096, randomFile(10));
    assert.ok([404, 410].includes(p.status), `PATCH after expiry: ${p.status}`);
    return created;
  }, env);
  // The reaper runs on a timer of its own; a daemon that starts runs it
  // soon, so a restart is the quick way to see the partial file go.
  await daemon(async () => {
    await waitFor(() => newFiles(path.join(dataDir, 'spool'), spool0).length === 0, { timeout: 10000, interval: 250 })
      .catch(() => assert.fail(`expired partial left: ${newFiles(path.join(dataDir, 'spool'), spool0)}`));
    assert.ok(c.location);
  }, env);
});

test('a resident creates through the collection link; the upload URL is the capability', () => daemon(async (d) => {
  const secret = collectionSecret(db, 'tus-buurt', 'Tus buurt');
  const data = randomFile(200000);
  const r = await fetch(`${d.url}/api/v1/collections/tus-buurt/uploads?key=${encodeURIComponent(secret)}`, {
    method: 'POST', headers: tusHeaders(null, { 'Upload-Length': String(data.length), 'Upload-Metadata': tusMetadata(meta({ consent: JSON.stringify({ scope: 'publish', version: '1', language: 'nl' }) })) }) });
  assert.equal(r.status, 201, await r.text());
  const loc = new URL(r.headers.get('location'), d.url).href;
  const p = await tusPatch(loc, null, 0, data);
  assert.equal(p.status, 204, p.text);
  await assertStored(d, data, 'resident tus');
  const bad = await fetch(`${d.url}/api/v1/collections/tus-buurt/uploads?key=wrong`, {
    method: 'POST', headers: tusHeaders(null, { 'Upload-Length': '10' }) });
  assertProblem({ status: bad.status, headers: bad.headers, text: await bad.text() }, 401, 'wrong key');
  const none = await fetch(`${d.url}/api/v1/uploads`, { method: 'POST', headers: tusHeaders(null, { 'Upload-Length': '10' }) });
  assertProblem({ status: none.status, headers: none.headers, text: await none.text() }, 401, 'no token');
}));

// Sends a PATCH head and `sent` body bytes of a `total`-byte chunk over a
// raw socket; resolves once those bytes have left this process.
async function partialPatch(d, url, offset, chunk, sent) {
  const c = new RawConn(d.url);
  await c.connected;
  const u = new URL(url);
  await c.write(`PATCH ${u.pathname} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${token()}\r\nTus-Resumable: 1.0.0\r\n`
    + `Upload-Offset: ${offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: ${chunk.length}\r\n\r\n`);
  await c.write(chunk.subarray(0, sent));
  return c;
}

test('a PATCH cut off mid-way keeps every byte it received', () => daemon(async (d) => {
  const data = randomFile(2 * MiB);
  const c = await tusCreate(d.url, token(), { length: data.length, metadata: meta() });
  const sent = 700001;
  const conn = await partialPatch(d, c.location, 0, data, sent);
  await sleep(300);
  conn.destroy();
  const h = await waitFor(async () => { const x = await tusHead(c.location, token()); return x.offset === sent && x; }, { timeout: 5000 })
    .catch(async () => assert.fail(`offset ${(await tusHead(c.location, token())).offset}, sent ${sent}`));
  assert.equal(h.offset, sent);
  const p = await tusPatch(c.location, token(), sent, data.subarray(sent));
  assert.equal(p.status, 204, p.text);
  await assertStored(d, data, 'after a cut');
}));

test('a HEAD or PATCH for an upload whose PATCH hangs takes over at once with the saved offset', () => daemon(async (d) => {
  for (const takeover of ['HEAD', 'PATCH']) {
    const data = randomFile(2 * MiB);
    const c = await tusCreate(d.url, token(), { length: data.length, metadata: meta({ title: takeover }) });
    const sent = 786433;
    const old = await partialPatch(d, c.location, 0, data, sent);
    try {
      await sleep(300);	// the old PATCH now stalls, its socket open
      const t0 = Date.now();
      let off = sent;
      if (takeover === 'HEAD') {
        const h = await tusHead(c.location, token());
        assert.ok(Date.now() - t0 < 2000, `HEAD took ${Date.now() - t0} ms`);
        assert.equal(h.status, 200);
        assert.equal(h.offset, sent, 'the hanging PATCH saved its bytes');
        off = h.offset;
      }
      const p = await tusPatch(c.location, token(), off, data.subarray(off));
      assert.equal(p.status, 204, `${takeover} takeover, then PATCH: ${p.text}`);
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
      await assertStored(d, data, `${takeover} takeover`);
      // The old request ended (answered or closed), it did not linger.
      const ended = await Promise.race([old.closed.then(() => true), old.readResponse({ timeout: 3000 }).then(() => true, () => false)]);
      assert.ok(ended, 'the hanging PATCH was ended');
    } finally { old.destroy(); }
  }
}));

test('the takeover also works when the hanging PATCH has only just arrived', () => daemon(async (d) => {
  // No pause between the stalled PATCH and the HEAD: the PATCH may still
  // be loading its upload when the HEAD comes. The HEAD must not wait for
  // the body timeout (6 s here) either way.
  for (let i = 0; i < 10; i++) {
    const data = randomFile(MiB);
    const c = await tusCreate(d.url, token(), { length: data.length, metadata: meta({ title: `race ${i}` }) });
    const sent = 300000 + i;
    const old = await partialPatch(d, c.location, 0, data, sent);
    try {
      const t0 = Date.now();
      const h = await tusHead(c.location, token());
      const took = Date.now() - t0;
      assert.equal(h.status, 200);
      assert.ok(took < 2000, `round ${i}: HEAD took ${took} ms behind a PATCH that had just arrived`);
      assert.ok(h.offset >= 0 && h.offset <= sent, `offset ${h.offset} of ${sent} sent`);
      let p = await tusPatch(c.location, token(), h.offset, data.subarray(h.offset));
      if (p.status === 409) {
        // The HEAD overtook the PATCH on its way in (two connections keep
        // no order), so that PATCH then moved the offset: ask again, as a
        // tus client does after 409.
        const h2 = await tusHead(c.location, token());
        assert.ok(h2.offset <= sent);
        p = await tusPatch(c.location, token(), h2.offset, data.subarray(h2.offset));
      }
      assert.equal(p.status, 204, p.text);
      await assertStored(d, data, `race ${i}`);
    } finally { old.destroy(); }
  }
}, { VERHAAL_BODY_TIMEOUT: '6s' }));
