// The HTTP/1.1 server byte by byte over raw sockets: pipelining, chunked
// bodies, 100-continue, the limits with their own statuses (431, 414,
// 413, 408, 503), keep-alive idling, and problem+json on every error.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  RawConn, assertProblem, multipart, entryPart, fieldworkerToken,
  migratedStore, withDaemon, countRows, ENTRY_TABLES,
} from './lib/uploads.mjs';

let db;
let dataDir;
let fwToken;
before(() => { ({ db, dataDir } = migratedStore()); });
// Made on first use, so that the tests without credentials run on their own.
const token = () => (fwToken ??= fieldworkerToken(db, 'raw-worker'));

// Limits short enough to test: see config/verhaald.conf for their meaning.
const env = {
  VERHAAL_HEADER_TIMEOUT: '2s',
  VERHAAL_BODY_TIMEOUT: '2s',
  VERHAAL_IDLE_TIMEOUT: '2s',
  VERHAAL_MAX_UPLOAD_SIZE: '1M',
};
const daemon = (fn, extra = {}) => withDaemon({ databaseUrl: db, dataDir, env: { ...env, ...extra } }, fn);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function storyBody(title) {
  return multipart([entryPart({ kind: 'story', title, text: 'over a raw socket' }),
    { name: 'note', filename: 'note.txt', type: 'text/plain', data: Buffer.from(`note of ${title}\n`) }]);
}

function head(lines) { return lines.join('\r\n') + '\r\n\r\n'; }

test('two pipelined GET /healthz in one write get two answers in order, each with its request id', () => daemon(async (d) => {
  const c = new RawConn(d.url);
  try {
    await c.connected;
    await c.write(head(['GET /healthz HTTP/1.1', 'Host: t', 'X-Request-Id: first.1'])
      + head(['GET /healthz HTTP/1.1', 'Host: t', 'X-Request-Id: second-2']));
    const a = await c.readResponse();
    const b = await c.readResponse();
    for (const r of [a, b]) {
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
    assert.equal(a.headers['x-request-id'], 'first.1');
    assert.equal(b.headers['x-request-id'], 'second-2');
    // The connection stays open for a third request.
    await c.write(head(['GET /healthz HTTP/1.1', 'Host: t', 'X-Request-Id: bad id!']));
    const r3 = await c.readResponse();
    assert.equal(r3.status, 200);
    assert.ok(r3.headers['x-request-id'] && r3.headers['x-request-id'] !== 'bad id!', 'an invalid client id is replaced');
  } finally { c.destroy(); }
}));

test('a chunked multipart body is accepted and creates the entry', () => daemon(async (d) => {
  const { body, contentType } = storyBody('chunked');
  const c = new RawConn(d.url);
  try {
    await c.connected;
    await c.write(head(['POST /api/v1/entries HTTP/1.1', 'Host: t', `Authorization: Bearer ${token()}`,
      `Content-Type: ${contentType}`, 'Transfer-Encoding: chunked']));
    // Odd chunk sizes, with a chunk extension, split across writes.
    for (let off = 0, n = 1; off < body.length; off += n, n = n * 3 + 7) {
      const piece = body.subarray(off, off + n);
      await c.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)};x=y\r\n`), piece, Buffer.from('\r\n')]));
    }
    await c.write('0\r\n\r\n');
    const r = await c.readResponse();
    assert.equal(r.status, 201, r.body.toString());
    const e = JSON.parse(r.body);
    assert.equal(e.title, 'chunked');
    assert.equal(e.media.length, 1);
    assert.match(r.headers.location, new RegExp(`^/api/v1/entries/${e.id}$`));
  } finally { c.destroy(); }
}));

test('a malformed chunked body gets 400 problem+json and stores no entry', () => daemon(async (d) => {
  const before0 = countRows(db, ENTRY_TABLES) ?? 0;
  const { body, contentType } = storyBody('bad chunks');
  const c = new RawConn(d.url);
  try {
    await c.connected;
    await c.write(head(['POST /api/v1/entries HTTP/1.1', 'Host: t', `Authorization: Bearer ${token()}`,
      `Content-Type: ${contentType}`, 'Transfer-Encoding: chunked']));
    await c.write(Buffer.concat([Buffer.from('10\r\n'), body.subarray(0, 16), Buffer.from('\r\nzz\r\n')]));
    const r = await c.readResponse();
    assertProblem(r, 400, 'bad chunk size');
    assert.ok(await c.waitClosed(3000), 'the connection is closed after a framing error');
    assert.equal(countRows(db, ENTRY_TABLES) ?? 0, before0);
  } finally { c.destroy(); }
}));

test('Expect: 100-continue with a valid token gets 100 Continue, then the final answer', () => daemon(async (d) => {
  const { body, contentType } = storyBody('continued');
  const c = new RawConn(d.url);
  try {
    await c.connected;
    await c.write(head(['POST /api/v1/entries HTTP/1.1', 'Host: t', `Authorization: Bearer ${token()}`,
      `Content-Type: ${contentType}`, `Content-Length: ${body.length}`, 'Expect: 100-continue']));
    const cont = await c.readResponse({ timeout: 5000 });
    assert.equal(cont.status, 100);
    assert.match(cont.raw, /^HTTP\/1\.1 100 Continue\r\n/);
    await c.write(body);
    const r = await c.readResponse();
    assert.equal(r.status, 201, r.body.toString());
    assert.equal(JSON.parse(r.body).title, 'continued');
  } finally { c.destroy(); }
}));

test('Expect: 100-continue with a Content-Length above max_upload_size gets 413 and no 100', () => daemon(async (d) => {
  const c = new RawConn(d.url);
  try {
    await c.connected;
    await c.write(head(['POST /api/v1/entries HTTP/1.1', 'Host: t', `Authorization: Bearer ${token()}`,
      'Content-Type: multipart/form-data; boundary=xyz', `Content-Length: ${2 * 1024 * 1024}`, 'Expect: 100-continue']));
    const r = await c.readResponse({ timeout: 5000 });
    assert.notEqual(r.status, 100, 'no 100 Continue for a body that is too large');
    assertProblem(r, 413, '100-continue too large');
  } finally { c.destroy(); }
}));

test('a body larger than max_upload_size without Expect is cut off with 413', () => daemon(async (d) => {
  const c = new RawConn(d.url);
  try {
    await c.connected;
    // Chunked: the size is only known as the body arrives.
    await c.write(head(['POST /api/v1/entries HTTP/1.1', 'Host: t', `Authorization: Bearer ${token()}`,
      'Content-Type: multipart/form-data; boundary=xyz', 'Transfer-Encoding: chunked']));
    const piece = Buffer.alloc(64 * 1024, 0x61);
    const frame = Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]);
    let r = null;
    for (let i = 0; i < 40 && !r; i++) {
      await c.write(frame);
      r = await c.readResponse({ timeout: 20 }).catch(() => null);
    }
    r ??= await c.readResponse({ timeout: 5000 });
    assertProblem(r, 413, 'chunked body past max_upload_size');
  } finally { c.destroy(); }
}));

test('a header block over max_header_size gets 431', () => daemon(async (d) => {
  const c = new RawConn(d.url);
  try {
    await c.connected;
    const lines = ['GET /healthz HTTP/1.1', 'Host: t'];
    for (let i = 0; i < 40; i++) lines.push(`X-Filler-${i}: ${'f'.repeat(500)}`);
    await c.write(head(lines));
    const r = await c.readResponse();
    assertProblem(r, 431, 'big head');
    assert.ok(await c.waitClosed(3000), 'closed after 431');
  } finally { c.destroy(); }
}));

test('a request target over max_uri_length gets 414', () => daemon(async (d) => {
  const c = new RawConn(d.url);
  try {
    await c.connected;
    await c.write(head([`GET /healthz?q=${'a'.repeat(1500)} HTTP/1.1`, 'Host: t']));
    const r = await c.readResponse();
    assertProblem(r, 414, 'long target');
  } finally { c.destroy(); }
}, { VERHAAL_MAX_URI_LENGTH: '1k' }));

test('a head sent one byte a second gets 408 within header_timeout and is closed', () => daemon(async (d) => {
  const c = new RawConn(d.url);
  const text = head(['GET /healthz HTTP/1.1', 'Host: t', 'User-Agent: slowloris']);
  try {
    await c.connected;
    const t0 = Date.now();
    let got = null;
    for (let i = 0; i < text.length && !got; i++) {
      await c.write(text[i]);
      got = await c.readResponse({ timeout: 1000 }).catch(() => null);
      if (!got && c.ended) break;
    }
    got ??= await c.readResponse({ timeout: 2000 });
    const took = Date.now() - t0;
    assertProblem(got, 408, 'slow head');
    assert.ok(took < 4000, `408 after ${took} ms; header_timeout is 2 s`);
    assert.ok(await c.waitClosed(2000), 'closed after 408');
  } finally { c.destroy(); }
}));

test('a body that stalls gets 408 after body_timeout', () => daemon(async (d) => {
  const { body, contentType } = storyBody('stalled');
  const c = new RawConn(d.url);
  try {
    await c.connected;
    await c.write(head(['POST /api/v1/entries HTTP/1.1', 'Host: t', `Authorization: Bearer ${token()}`,
      `Content-Type: ${contentType}`, `Content-Length: ${body.length + 1000}`]));
    await c.write(body.subarray(0, 40));
    const t0 = Date.now();
    const r = await c.readResponse({ timeout: 6000 });
    const took = Date.now() - t0;
    assertProblem(r, 408, 'stalled body');
    assert.ok(took >= 1500 && took < 4500, `408 after ${took} ms; body_timeout is 2 s`);
    assert.ok(await c.waitClosed(2000), 'closed after 408');
  } finally { c.destroy(); }
}));

test('an idle keep-alive connection is closed after idle_timeout, a busy one is not', () => daemon(async (d) => {
  const c = new RawConn(d.url);
  try {
    await c.connected;
    // Requests 1.2 s apart keep it alive past the 2 s timeout.
    for (let i = 0; i < 3; i++) {
      await c.write(head(['GET /healthz HTTP/1.1', 'Host: t']));
      assert.equal((await c.readResponse()).status, 200);
      if (i < 2) await sleep(1200);
    }
    const t0 = Date.now();
    assert.ok(await c.waitClosed(5000), 'the idle connection was not closed');
    const took = Date.now() - t0;
    assert.ok(took >= 1500 && took < 4000, `closed after ${took} ms idle; idle_timeout is 2 s`);
    assert.equal(c.buf.length, 0, 'no bytes sent on an idle close');
  } finally { c.destroy(); }
}));

test('connections beyond max_connections get 503 problem+json', () => daemon(async (d) => {
  const held = [];
  try {
    for (let i = 0; i < 3; i++) {
      const c = new RawConn(d.url);
      await c.connected;
      held.push(c);
    }
    // Make sure the three are accepted before the fourth arrives.
    await held[2].write(head(['GET /healthz HTTP/1.1', 'Host: t']));
    assert.equal((await held[2].readResponse()).status, 200);
    const extra = new RawConn(d.url);
    held.push(extra);
    await extra.connected;
    await extra.write(head(['GET /healthz HTTP/1.1', 'Host: t']));
    const r = await extra.readResponse();
    assertProblem(r, 503, 'too many connections');
    // Once one goes away, a new client is served again.
    held[0].destroy();
    await sleep(200);
    const r2 = await fetch(`${d.url}/healthz`);
    assert.equal(r2.status, 200);
  } finally { for (const c of held) c.destroy(); }
}, { VERHAAL_MAX_CONNECTIONS: '3' }));

test('errors of routing are problem+json too: 404, 405, and a broken request line 400', () => daemon(async (d) => {
  let r = await fetch(`${d.url}/no/such/thing`);
  assertProblem({ status: r.status, headers: r.headers, text: await r.text() }, 404, 'unknown path');
  r = await fetch(`${d.url}/healthz`, { method: 'DELETE' });
  assertProblem({ status: r.status, headers: r.headers, text: await r.text() }, 405, 'wrong method');
  assert.match(r.headers.get('allow') ?? '', /GET/);
  const c = new RawConn(d.url);
  try {
    await c.connected;
    await c.write('GARBAGE\r\n\r\n');
    assertProblem(await c.readResponse(), 400, 'garbage request line');
  } finally { c.destroy(); }
}));
