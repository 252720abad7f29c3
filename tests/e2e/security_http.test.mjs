// Hostile request shapes against the real daemon: each once crashed it,
// forged a log line, held every connection or leaked a capability to the
// log. Every test checks the precise answer and then that the daemon still
// serves; the log checks read the daemon's own stderr (its access log).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import {
  RawConn, assertProblem, fieldworkerToken, collectionSecret, migratedStore,
  withDaemon, tusHeaders, tusMetadata,
} from './lib/uploads.mjs';
import { token as roleToken } from './lib/accounts.mjs';

let db;
let dataDir;
before(() => { ({ db, dataDir } = migratedStore()); });

const daemon = (fn, env = {}) => withDaemon({ databaseUrl: db, dataDir, env }, fn);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function head(lines) { return lines.join('\r\n') + '\r\n\r\n'; }

// One request on a fresh raw connection; the parsed answer.
async function raw(url, text) {
  const c = new RawConn(url);
  try {
    await c.connected;
    await c.write(text);
    return await c.readResponse();
  } finally { c.destroy(); }
}

async function stillServing(d, what) {
  const r = await fetch(`${d.url}/healthz`);
  assert.equal(r.status, 200, `${what}: /healthz afterwards`);
  assert.deepEqual(await r.json(), { status: 'ok' });
  assert.equal(d.proc.exitCode, null, `${what}: the daemon is still running`);
  assert.equal(d.proc.signalCode, null, `${what}: the daemon is still running`);
}

function problemOf(r, status, what) {
  return assertProblem(r, status, what);
}

test('GET /%ff: 404 whose detail shows the byte as %FF, and the daemon lives on', () => daemon(async (d) => {
  const r = await raw(d.url, head(['GET /%ff HTTP/1.1', 'Host: t']));
  const j = problemOf(r, 404, 'GET /%ff');
  assert.equal(j.type, '/problems/not-found');
  assert.equal(j.detail, 'no resource at /%FF');
  await stillServing(d, 'GET /%ff');
}));

test('PUT /api/v1/media/%ff: 405 with the byte escaped in the detail', () => daemon(async (d) => {
  const r = await raw(d.url, head(['PUT /api/v1/media/%ff HTTP/1.1', 'Host: t', 'Content-Length: 0']));
  const j = problemOf(r, 405, 'PUT media/%ff');
  assert.equal(j.type, '/problems/method-not-allowed');
  assert.equal(j.detail, '/api/v1/media/%FF does not accept this method');
  assert.match(r.headers.allow, /GET/);
  await stillServing(d, 'PUT /api/v1/media/%ff');
}));

test('a 3000-byte path of é: 404 whose detail is cut between characters', () => daemon(async (d) => {
  const p = '/' + encodeURIComponent('é'.repeat(1500));
  const r = await raw(d.url, head([`GET ${p} HTTP/1.1`, 'Host: t']));
  const j = problemOf(r, 404, 'long é path');
  // 512 bytes at most, then "...": 16 bytes of prefix and 248 é.
  assert.equal(j.detail, 'no resource at /' + 'é'.repeat(248) + '...');
  assert.ok(!j.detail.includes('\ufffd'), 'no broken character');
  await stillServing(d, 'long é path');
}, { VERHAAL_MAX_URI_LENGTH: '16k' }));

test('GET /api/v1/entries?status=%ff with a staff token: 400 saying what the filter takes', () => daemon(async (d) => {
  const tok = roleToken(db, 'sec-analyst', 'analyst');
  const r = await raw(d.url, head(['GET /api/v1/entries?status=%ff HTTP/1.1', 'Host: t',
    `Authorization: Bearer ${tok}`]));
  const j = problemOf(r, 400, 'status=%ff');
  assert.match(j.detail, /^'status' must be one of received, .*published/);
  await stillServing(d, 'status=%ff');
}));

test('a malformed chunked multipart body to a resident upload link: 400, nothing freed twice', () => daemon(async (d) => {
  const secret = collectionSecret(db, 'sec-chunked', 'Sec chunked');
  const boundary = 'sec0boundary';
  const bad = `--${boundary}\r\nthis line is no header\r\n\r\nstory\r\n--${boundary}--\r\n`;
  const piece = (s) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
  // Several attempts: the freed decoder was written to after each one.
  for (let i = 0; i < 3; i++) {
    const r = await raw(d.url, head([`POST /api/v1/collections/sec-chunked/uploads?key=${encodeURIComponent(secret)} HTTP/1.1`,
      'Host: t', `Content-Type: multipart/form-data; boundary=${boundary}`, 'Transfer-Encoding: chunked'])
      + piece(bad) + piece('more bytes after the error') + '0\r\n\r\n');
    const j = problemOf(r, 400, 'malformed chunked multipart');
    assert.equal(j.type, '/problems/bad-multipart');
    assert.equal(j.detail, 'the multipart body is malformed');
  }
  // The same with the key in X-Upload-Key instead of the query.
  const r = await raw(d.url, head(['POST /api/v1/collections/sec-chunked/uploads HTTP/1.1', 'Host: t',
    `X-Upload-Key: ${secret}`, `Content-Type: multipart/form-data; boundary=${boundary}`, 'Transfer-Encoding: chunked'])
    + piece(bad) + '0\r\n\r\n');
  assert.equal(problemOf(r, 400, 'X-Upload-Key').detail, 'the multipart body is malformed');
  await stillServing(d, 'chunked multipart');
  assert.match(d.log(), /"POST \/api\/v1\/collections\/sec-chunked\/uploads" 400 .* user=resident/);
  assert.ok(!d.log().includes(secret), 'the upload-link key is not logged');
  assert.ok(!d.log().includes(encodeURIComponent(secret)), 'the upload-link key is not logged');
}));

test('a percent-encoded CR LF in the path forges no access-log line', () => daemon(async (d) => {
  const forged = '2026-01-01T00:00:00.000Z info  req=forged 10.0.0.1 "GET /admin" 200';
  const target = '/x%0d%0a' + encodeURIComponent(forged).replace(/'/g, '%27');
  const r = await raw(d.url, head([`GET ${target} HTTP/1.1`, 'Host: t', 'X-Request-Id: crlf-test']));
  const j = problemOf(r, 404, 'CR LF path');
  assert.ok(j.detail.startsWith('no resource at /x%0D%0A2026-01-01'), j.detail);
  await stillServing(d, 'CR LF path');
  const lines = d.log().split('\n');
  const mine = lines.filter((l) => l.includes('req=crlf-test'));
  assert.equal(mine.length, 1, 'one access-log line for the request');
  assert.match(mine[0], /"GET \/x\\x0d\\x0a2026-01-01/, 'CR and LF escaped in the line');
  assert.ok(!lines.some((l) => l.includes('req=forged') && !l.includes('req=crlf-test')), 'no forged line');
}));

test('1500 idle sockets from one address hold no slot another address needs, and close at the head deadline', () => daemon(async (d) => {
  const u = new URL(d.url);
  const socks = [];
  const state = [];
  for (let i = 0; i < 1500; i++) {
    const s = net.connect({ host: u.hostname, port: Number(u.port) });
    const st = { bytes: Buffer.alloc(0), closed: false };
    s.on('data', (b) => { st.bytes = Buffer.concat([st.bytes, b]); });
    s.on('error', () => {});
    s.on('close', () => { st.closed = true; });
    socks.push(s);
    state.push(st);
  }
  try {
    await Promise.all(socks.map((s) => new Promise((r) => {
      if (s.readyState === 'open') r(); else { s.once('connect', r); s.once('close', r); }
    })));
    // Probes from another address are served at once, every time.
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const status = await new Promise((resolve, reject) => {
        http.get({ host: u.hostname, port: u.port, path: '/healthz', localAddress: '127.0.0.2', agent: false },
          (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); }).on('error', reject);
      });
      assert.equal(status, 200, `probe ${i} from 127.0.0.2`);
      assert.ok(Date.now() - t0 < 1000, `probe ${i} took ${Date.now() - t0} ms`);
      await sleep(100);
    }
    // The first 64 were kept (max_connections_per_address), the rest got
    // 503; the kept ones close at the 3 s head deadline, not after 60 s.
    const t0 = Date.now();
    while (!state.every((s) => s.closed) && Date.now() - t0 < 8000) await sleep(100);
    assert.ok(state.every((s) => s.closed), `${state.filter((s) => !s.closed).length} sockets still open after ${Date.now() - t0} ms`);
    const refused = state.filter((s) => s.bytes.length > 0);
    const silent = state.filter((s) => s.bytes.length === 0);
    assert.equal(silent.length, 64, 'connections kept for the address');
    assert.equal(refused.length, 1500 - 64);
    const m = /^HTTP\/1\.1 503 [^\r]*\r\n[\s\S]*\r\n\r\n([\s\S]*)$/.exec(refused[0].bytes.toString());
    assert.ok(m, refused[0].bytes.toString());
    const j = JSON.parse(m[1]);
    assert.equal(j.type, '/problems/too-many-connections');
    assert.equal(j.detail, 'this address has too many open connections; try again');
    // The refusals did not flood the log: one line a second at most.
    const lines = d.log().split('\n').filter((l) => l.includes('refused a connection'));
    assert.ok(lines.length >= 1 && lines.length <= 10, `${lines.length} refusal lines`);
  } finally { for (const s of socks) s.destroy(); }
  await stillServing(d, 'idle sockets');
}, { VERHAAL_HEADER_TIMEOUT: '3s' }));

test('upload ids never reach the log: the access log shows /api/v1/uploads/<redacted>', () => daemon(async (d) => {
  const tok = fieldworkerToken(db, 'sec-fw');
  let r = await fetch(`${d.url}/api/v1/uploads`, {
    method: 'POST',
    headers: tusHeaders(tok, { 'Upload-Length': '10', 'Upload-Metadata': tusMetadata({ kind: 'story', filename: 'a.txt', title: 'x' }) }),
  });
  await r.arrayBuffer();
  assert.equal(r.status, 201);
  const loc = r.headers.get('location');
  const id = loc.split('/').pop();
  assert.ok(id.length >= 16, `upload id ${id}`);
  r = await fetch(new URL(loc, d.url), { method: 'HEAD', headers: tusHeaders(tok) });
  assert.equal(r.status, 200);
  r = await fetch(new URL(loc, d.url), {
    method: 'PATCH',
    headers: tusHeaders(tok, { 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }),
    body: Buffer.from('hello'),
  });
  await r.arrayBuffer();
  assert.equal(r.status, 204);
  await stillServing(d, 'uploads');
  const log = d.log();
  assert.ok(!log.includes(id), 'the upload id is in the log');
  assert.match(log, /"HEAD \/api\/v1\/uploads\/<redacted>" 200/);
  assert.match(log, /"PATCH \/api\/v1\/uploads\/<redacted>" 204/);
}));
