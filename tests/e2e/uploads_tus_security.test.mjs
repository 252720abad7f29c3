// tus at /api/v1/uploads against misuse, request by request with fetch,
// raw sockets and tus-js-client: lengths past max_upload_size, requests by
// someone who does not own the upload, metadata checked at creation, who
// owns the entry, what a finished upload still tells, termination of a
// finished upload, X-HTTP-Method-Override, and the residents' and
// withdrawals' rate limits (per IPv6 /64, kept across restarts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as tus from 'tus-js-client';
import { ctl, psql } from './lib/harness.mjs';
import {
  RawConn, assertProblem, fieldworkerToken, collectionSecret, migratedStore, withDaemon,
  tusCreate, tusPatch, tusHead, tusHeaders, tusMetadata, randomFile, tablesHoldingSha, sha256,
} from './lib/uploads.mjs';

let db;
let dataDir;
const tokens = {};
before(() => { ({ db, dataDir } = migratedStore()); });
const lastLine = (out) => out.trim().split('\n').pop().trim();
function token(name, role = 'fieldworker') {
  tokens[name] ??= role === 'fieldworker' ? fieldworkerToken(db, name)
    : lastLine(ctl(db, 'token', 'create', '--user', name, '--role', role));
  return tokens[name];
}
const owner = () => token('sec-owner');
const other = () => token('sec-other');
const daemon = (fn, env = {}) => withDaemon({ databaseUrl: db, dataDir, env }, fn);
const meta = (extra = {}) => ({ kind: 'visit', title: 'tus', filename: 'opname.bin', filetype: 'application/octet-stream', ...extra });
const problemOf = (r) => ({ status: r.status, headers: r.headers, text: r.text ?? '' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function fetchText(url, init) {
  const r = await fetch(url, init);
  return { status: r.status, headers: r.headers, text: await r.text() };
}

// A PATCH head and the first `sent` bytes of chunk over a raw socket.
async function partialPatch(d, url, tok, offset, chunk, sent) {
  const c = new RawConn(d.url);
  await c.connected;
  await c.write(`PATCH ${new URL(url).pathname} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${tok}\r\n`
    + `Tus-Resumable: 1.0.0\r\nUpload-Offset: ${offset}\r\nContent-Type: application/offset+octet-stream\r\n`
    + `Content-Length: ${chunk.length}\r\n\r\n`);
  await c.write(chunk.subarray(0, sent));
  return c;
}

// An upload of the owner's, whole, in one PATCH; the PATCH's answer.
async function upload(d, tok, data, m = meta()) {
  const c = await tusCreate(d.url, tok, { length: data.length, metadata: m });
  assert.equal(c.status, 201, 'creation');
  const p = await tusPatch(c.location, tok, 0, data);
  return { c, p };
}

test('a deferred Upload-Length past max_upload_size is 413 and stores nothing', () => daemon(async (d) => {
  const c = await tusCreate(d.url, owner(), { defer: true, metadata: meta() });
  assert.equal(c.status, 201);
  let p = await tusPatch(c.location, owner(), 0, randomFile(100), { 'Upload-Length': '9000000000000000000' });
  const j = assertProblem(problemOf(p), 413, 'Upload-Length 9e18');
  assert.match(j.detail, /4096/, 'the detail names the limit');
  const big = randomFile(53777);
  p = await tusPatch(c.location, owner(), 0, big, { 'Upload-Length': String(big.length) });
  assertProblem(problemOf(p), 413, 'Upload-Length 53777 with max_upload_size 4k');
  const h = await tusHead(c.location, owner());
  assert.equal(h.offset, 0, 'no byte was kept');
  assert.equal(h.headers.get('upload-defer-length'), '1', 'the length is still open');
  assert.deepEqual(tablesHoldingSha(db, sha256(big)), [], 'the 53777 bytes are nowhere');
  // Exactly the limit is fine.
  const ok = randomFile(4096);
  p = await tusPatch(c.location, owner(), 0, ok, { 'Upload-Length': '4096' });
  assert.equal(p.status, 204, p.text);
  assert.ok(p.headers.get('upload-entry'));
}, { VERHAAL_MAX_UPLOAD_SIZE: '4k' }));

test('a HEAD, PATCH or DELETE by someone else does not cut off the owner\'s PATCH', () => daemon(async (d) => {
  const data = randomFile(1 << 20);
  const c = await tusCreate(d.url, owner(), { length: data.length, metadata: meta() });
  const sent = 400000;
  const conn = await partialPatch(d, c.location, owner(), 0, data, sent);
  try {
    await sleep(300);	// the owner's PATCH is receiving its body
    const hd = { ...tusHeaders(other()) };
    const intruders = [
      fetchText(c.location, { method: 'HEAD', headers: hd }),
      fetchText(c.location, { method: 'PATCH', headers: { ...hd, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }, body: 'x' }),
      fetchText(c.location, { method: 'DELETE', headers: hd }),
    ].map((p) => p.catch((e) => ({ status: `failed: ${e.cause?.code ?? e}`, headers: new Headers(), text: '' })));
    assert.equal(await conn.waitClosed(1000), false, 'the owner\'s PATCH is still open');
    assert.ok(await conn.write(data.subarray(sent)), 'the owner sends the rest');
    const r = await conn.readResponse({ timeout: 10000 });
    assert.equal(r.status, 204, `the owner's PATCH: ${r.raw}`);
    assert.equal(Number(r.headers['upload-offset']), data.length);
    const [h, p, del] = await Promise.all(intruders);
    assert.equal(h.status, 404, 'HEAD by another field worker');
    assert.equal(p.status, 404, 'PATCH by another field worker');
    assertProblem(del, 404, 'DELETE by another field worker');
  } finally { conn.destroy(); }
  assert.equal((await tusHead(c.location, owner())).status, 200, 'the upload is still there');
}));

test('file name, file type and entry are checked at creation; names are cleaned as multipart does', () => daemon(async (d) => {
  for (const [m, what] of [[meta({ filename: 'a\r\nb.wav' }), 'CR LF in filename'],
    [meta({ filename: 'x\u001b[31m.wav' }), 'ESC in filename'],
    [meta({ filetype: 'audio/ogg\r\nX-Evil: 1' }), 'CR LF in filetype']]) {
    const r = await tusCreate(d.url, owner(), { length: 10, metadata: m });
    assert.equal(r.status, 400, what);
  }
  // Path parts go, as in a multipart file name.
  for (const [name, want] of [['C:\\Users\\jan\\opname.wav', 'opname.wav'], ['../../etc/passwd', 'passwd']]) {
    const { p } = await upload(d, owner(), randomFile(300), meta({ filename: name }));
    assert.equal(p.status, 204, p.text);
    const e = p.headers.get('upload-entry');
    assert.equal(psql(db, `SELECT filename FROM media WHERE entry_id = ${Number(e)}`), want, name);
  }
  // entry_id: someone else's, or none, is refused before any byte.
  const theirs = (await upload(d, other(), randomFile(200))).p.headers.get('upload-entry');
  const mine = (await upload(d, owner(), randomFile(200))).p.headers.get('upload-entry');
  for (const [m, what] of [[{ entry_id: theirs, filename: 'b.bin' }, 'another field worker\'s entry'],
    [{ entry_id: '99999999', filename: 'b.bin' }, 'no such entry'],
    [meta({ collection: 'bestaat-niet' }), 'an unknown collection'],
    [meta({ occurred_at: 'gisteren' }), 'occurred_at that is no time']]) {
    const r = await tusCreate(d.url, owner(), { length: 10, metadata: m });
    assert.equal(r.status, 422, what);
    assert.equal(r.location, null, `${what}: no upload`);
  }
  const add = await upload(d, owner(), randomFile(250), { entry_id: mine, filename: 'twee.bin' });
  assert.equal(add.p.status, 204, `a file added to one's own entry: ${add.p.text}`);
  assert.equal(add.p.headers.get('upload-entry'), mine);

  // An entry that changes hands meanwhile: the last PATCH says 422 once,
  // and the upload is gone after it instead of answering 422 forever.
  const data = randomFile(500);
  const c = await tusCreate(d.url, owner(), { length: data.length, metadata: { entry_id: mine, filename: 'drie.bin' } });
  assert.equal(c.status, 201);
  psql(db, `UPDATE entry SET account_id = (SELECT id FROM account WHERE name = 'sec-other') WHERE id = ${Number(mine)}`);
  const p = await tusPatch(c.location, owner(), 0, data);
  assertProblem(problemOf(p), 422, 'finishing into an entry that is no longer mine');
  const h = await tusHead(c.location, owner());
  assert.equal(h.status, 404, 'HEAD after the 422');
  const again = await tusPatch(c.location, owner(), data.length, Buffer.alloc(0));
  assert.equal(again.status, 404, 'PATCH after the 422');
}));

test('the creator owns the entry, whoever sends the last byte', () => daemon(async (d) => {
  const admin = token('sec-admin', 'admin');
  const data = randomFile(2000);
  const c = await tusCreate(d.url, owner(), { length: data.length, metadata: meta({ title: 'van de veldwerker' }) });
  assert.equal((await tusPatch(c.location, owner(), 0, data.subarray(0, 1000))).status, 204);
  const p = await tusPatch(c.location, admin, 1000, data.subarray(1000));
  assert.equal(p.status, 204, p.text);
  const e = Number(p.headers.get('upload-entry'));
  assert.equal(psql(db, `SELECT a.name FROM entry e JOIN account a ON a.id = e.account_id WHERE e.id = ${e}`),
    'sec-owner', 'the entry is the creator\'s');
  const r = await fetchText(`${d.url}/api/v1/entries/${e}`, { headers: { Authorization: `Bearer ${owner()}` } });
  assert.equal(r.status, 200, `the creator reads the entry: ${r.text}`);
}));

test('a finished upload\'s HEAD no longer tells its metadata; nor does its row', () => daemon(async (d) => {
  const m = meta({ title: 'Jan Jansen van de Kanaalstraat', text: 'Het verhaal zelf' });
  const data = randomFile(3000);
  const c = await tusCreate(d.url, owner(), { length: data.length, metadata: m });
  assert.equal((await tusPatch(c.location, owner(), 0, data.subarray(0, 1000))).status, 204);
  let h = await tusHead(c.location, owner());
  assert.equal(h.headers.get('upload-metadata'), tusMetadata(m), 'while unfinished, HEAD echoes it (tus 1.0)');
  const p = await tusPatch(c.location, owner(), 1000, data.subarray(1000));
  assert.equal(p.status, 204);
  h = await tusHead(c.location, owner());
  assert.equal(h.status, 200);
  assert.equal(h.headers.get('upload-metadata'), null, 'no Upload-Metadata once finished');
  assert.equal(h.offset, data.length);
  const id = new URL(c.location).pathname.split('/').pop();
  assert.equal(psql(db, `SELECT metadata FROM upload WHERE id = '${id}'`), '', 'the row keeps no copy of the text');
  // Also for an upload that arrived whole with its creation.
  const w = randomFile(700);
  const cw = await tusCreate(d.url, owner(), { length: w.length, metadata: m, body: w });
  assert.equal(cw.status, 201);
  const hw = await tusHead(cw.location, owner());
  assert.equal(hw.offset, w.length);
  assert.equal(hw.headers.get('upload-metadata'), null, 'whole upload: no Upload-Metadata');
}));

test('DELETE of a finished upload forgets it (204); its entry stays', () => daemon(async (d) => {
  const { c, p } = await upload(d, owner(), randomFile(1200));
  assert.equal(p.status, 204);
  const e = Number(p.headers.get('upload-entry'));
  const del = await fetchText(c.location, { method: 'DELETE', headers: tusHeaders(owner()) });
  assert.equal(del.status, 204, `DELETE: ${del.text}`);
  assert.equal(del.headers.get('tus-resumable'), '1.0.0');
  assert.equal((await tusHead(c.location, owner())).status, 404, 'HEAD after DELETE');
  assert.equal(psql(db, `SELECT count(*) FROM entry WHERE id = ${e}`), '1', 'the entry stays');
  assert.equal(psql(db, `SELECT count(*) FROM media WHERE entry_id = ${e}`), '1', 'with its file');
}));

test('X-HTTP-Method-Override on a POST is the method (PATCH, DELETE); tus-js-client overridePatchMethod works', () => daemon(async (d) => {
  const data = randomFile(2000);
  const c = await tusCreate(d.url, owner(), { length: data.length, metadata: meta() });
  let r = await fetchText(c.location, { method: 'POST', body: data.subarray(0, 1200),
    headers: tusHeaders(owner(), { 'X-HTTP-Method-Override': 'PATCH', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }) });
  assert.equal(r.status, 204, `POST as PATCH: ${r.text}`);
  assert.equal(Number(r.headers.get('upload-offset')), 1200);
  assert.equal((await tusHead(c.location, owner())).offset, 1200);
  r = await fetchText(c.location, { method: 'POST', headers: tusHeaders(owner(), { 'X-HTTP-Method-Override': 'DELETE' }) });
  assert.equal(r.status, 204, `POST as DELETE: ${r.text}`);
  assert.equal((await tusHead(c.location, owner())).status, 404, 'terminated');
  r = await fetchText(c.location, { method: 'POST', headers: tusHeaders(owner(), { 'X-HTTP-Method-Override': 'BREW' }) });
  assertProblem(r, 405, 'an unknown method');

  const file = randomFile(300000);
  let entry;
  await new Promise((resolve, reject) => {
    const u = new tus.Upload(file, {
      endpoint: `${d.url}/api/v1/uploads`,
      chunkSize: 100000,
      overridePatchMethod: true,
      retryDelays: null,
      headers: { Authorization: `Bearer ${owner()}` },
      metadata: meta({ title: 'achter een proxy' }),
      onBeforeRequest(req) {
        if (req.getMethod() === 'PATCH') reject(new Error('tus-js-client sent a real PATCH'));
      },
      onAfterResponse(req, res) { entry = res.getHeader('Upload-Entry') ?? entry; },
      onSuccess: resolve,
      onError: reject,
    });
    u.start();
  });
  assert.ok(entry, 'Upload-Entry on the last POST');
  assert.ok(tablesHoldingSha(db, sha256(file)).length > 0, 'stored');
}));

// --- rate limits ---------------------------------------------------------

// A request from localAddress (node:http, which can choose it).
function fromAddr(d, host, localAddress, { method = 'POST', path, headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined) h['Content-Length'] = Buffer.byteLength(body);
    const r = http.request({ host, port: Number(/:(\d+)$/.exec(d.url)[1]), localAddress, method, path, headers: h, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (x) => { text += x; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    r.on('error', reject);
    r.end(body);
  });
}
const residentTry = (d, host, local, slug) => fromAddr(d, host, local, {
  path: `/api/v1/collections/${slug}/uploads?key=wrong`, headers: tusHeaders(null, { 'Upload-Length': '10' }) });
const withdrawTry = (d, host, local) => fromAddr(d, host, local, {
  path: '/api/v1/withdraw', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ receipt: 'geraden' }) });

test('resident and withdrawal rate limits are kept in the database: a restart does not reset them', async () => {
  const slug = 'sec-buurt';
  collectionSecret(db, slug, 'Sec buurt');
  const env = { VERHAAL_RESIDENT_UPLOAD_RATE: '3' };
  await daemon(async (d) => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await residentTry(d, '127.0.0.1', '127.0.0.1', slug)).status, 401, `upload attempt ${i}`);
      assert.equal((await withdrawTry(d, '127.0.0.1', '127.0.0.1')).status, 404, `withdrawal attempt ${i}`);
    }
    const r = await residentTry(d, '127.0.0.1', '127.0.0.1', slug);
    assertProblem(r, 429, 'the fourth upload attempt');
    assert.match(r.headers['retry-after'] ?? '', /^\d+$/);
  }, env);
  await daemon(async (d) => {
    const r = await residentTry(d, '127.0.0.1', '127.0.0.1', slug);
    assertProblem(r, 429, 'upload attempt after a restart');
    assert.ok(Number(r.headers['retry-after']) > 3000, `Retry-After ${r.headers['retry-after']}: the same hour's window`);
    assertProblem(await withdrawTry(d, '127.0.0.1', '127.0.0.1'), 429, 'withdrawal attempt after a restart');
  }, env);
  // Windows that ended are cleaned up when new ones start.
  psql(db, "UPDATE rate_limit SET window_end = now() - interval '1 s'");
  await daemon(async (d) => {
    assert.equal((await residentTry(d, '127.0.0.1', '127.0.0.1', slug)).status, 401, 'a new window');
    assert.equal(psql(db, 'SELECT count(*) FROM rate_limit WHERE window_end <= now()'), '0', 'old windows deleted');
  }, env);
});

// Three addresses of one /64 on lo, when this test may add them (root with
// iproute2); they are removed afterwards.
let v6;
function addV6() {
  const p = `fd00:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;
  const added = [];
  try {
    for (const h of [':1', ':2', 'abcd:ef01:2345:6789']) {
      execFileSync('ip', ['-6', 'addr', 'add', `${p}:${h}/64`, 'dev', 'lo', 'nodad'], { stdio: 'ignore' });
      added.push(`${p}:${h}`);
    }
  } catch {
    for (const a of added) execFileSync('ip', ['-6', 'addr', 'del', `${a}/64`, 'dev', 'lo'], { stdio: 'ignore' });
    return null;
  }
  return { server: added[0], a: added[1], b: added[2], added };
}
after(() => {
  for (const a of v6?.added ?? []) {
    try { execFileSync('ip', ['-6', 'addr', 'del', `${a}/64`, 'dev', 'lo'], { stdio: 'ignore' }); } catch { /* gone */ }
  }
});

test('an IPv6 client counts by its /64: rotating addresses within it does not reset the limit', async (t) => {
  v6 = addV6();
  if (!v6) { t.skip('cannot add IPv6 addresses to lo here'); return; }
  const slug = 'sec-v6';
  collectionSecret(db, slug, 'Sec v6');
  const env = { VERHAAL_RESIDENT_UPLOAD_RATE: '2', VERHAAL_LISTEN_ADDRESS: v6.server };
  await daemon(async (d) => {
    for (let i = 0; i < 2; i++) {
      assert.equal((await residentTry(d, v6.server, v6.a, slug)).status, 401, `upload attempt ${i} from ${v6.a}`);
      assert.equal((await withdrawTry(d, v6.server, v6.a)).status, 404, `withdrawal attempt ${i} from ${v6.a}`);
    }
    assertProblem(await residentTry(d, v6.server, v6.b, slug), 429, `upload attempt from ${v6.b}, same /64`);
    assertProblem(await withdrawTry(d, v6.server, v6.b), 429, `withdrawal attempt from ${v6.b}, same /64`);
  }, env);
});
