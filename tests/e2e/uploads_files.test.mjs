// GET and HEAD of a stored original (/api/v1/media/{id}/original): ETag,
// 304, single ranges byte for byte, 416, the safety headers, and who may
// read it: the original is sealed, so only admins, with a stated reason.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ctl } from './lib/harness.mjs';
import {
  RawConn, assertProblem, entryPart, postEntry, fieldworkerToken, migratedStore,
  withDaemon, sha256, randomFile,
} from './lib/uploads.mjs';

let db;
let dataDir;
before(() => { ({ db, dataDir } = migratedStore()); });

const N = 300000;

function adminToken(dbUrl, name) {
  return ctl(dbUrl, 'token', 'create', '--user', name, '--role', 'admin').trim().split('\n').pop();
}

async function get(d, id, token, headers = {}, method = 'GET') {
  const h = { 'X-Access-Reason': 'e2e test of file serving', ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  const r = await fetch(`${d.url}/api/v1/media/${id}/original`, { method, headers: h });
  const body = Buffer.from(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, body, text: body.toString(), method };
}

function safetyHeaders(r, what) {
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  assert.equal(r.headers.get('accept-ranges'), 'bytes', `${what}: Accept-Ranges`);
  assert.ok(r.headers.get('x-request-id'), `${what}: X-Request-Id`);
}

test('a stored original: ETag, If-None-Match 304, ranges 206 byte-exact, 416, HEAD, attachment', () => withDaemon({ databaseUrl: db, dataDir }, async (d) => {
  const uploader = fieldworkerToken(db, 'files-owner');
  const owner = adminToken(db, 'files-admin');
  const data = randomFile(N);
  const hex = sha256(data);
  const up = await postEntry(d.url, uploader, [entryPart({ kind: 'visit', title: 'bytes' }),
    { name: 'f', filename: 'opname.bin', type: 'application/octet-stream', data }]);
  assert.equal(up.status, 201, up.text);
  const id = up.json.media[0].id;
  assert.equal(up.json.media[0].sha256, hex);

  // The whole file.
  let r = await get(d, id, owner);
  assert.equal(r.status, 200);
  assert.ok(r.body.equals(data), 'the bytes as uploaded');
  assert.equal(r.headers.get('etag'), `"${hex}"`);
  assert.equal(Number(r.headers.get('content-length')), N);
  assert.match(r.headers.get('content-disposition') ?? '', /^attachment/);
  safetyHeaders(r, 'GET');

  // HEAD: the same headers, no body.
  r = await get(d, id, owner, {}, 'HEAD');
  assert.equal(r.status, 200);
  assert.equal(r.body.length, 0);
  assert.equal(r.headers.get('etag'), `"${hex}"`);
  assert.equal(Number(r.headers.get('content-length')), N);
  safetyHeaders(r, 'HEAD');

  // If-None-Match: exact, in a list, and the wildcard.
  for (const inm of [`"${hex}"`, `"nope", "${hex}"`, '*', `W/"${hex}"`]) {
    r = await get(d, id, owner, { 'If-None-Match': inm });
    assert.equal(r.status, 304, `If-None-Match: ${inm}`);
    assert.equal(r.body.length, 0);
    assert.equal(r.headers.get('etag'), `"${hex}"`);
  }
  r = await get(d, id, owner, { 'If-None-Match': '"0000"' });
  assert.equal(r.status, 200, 'another ETag');

  // Ranges: a-b, suffix, open, clamped end.
  const ranges = [
    ['bytes=0-99', 0, 99], ['bytes=-100', N - 100, N - 1], ['bytes=100-', 100, N - 1],
    [`bytes=${N - 10}-${N + 500}`, N - 10, N - 1], ['bytes=12345-12345', 12345, 12345],
  ];
  for (const [range, a, b] of ranges) {
    r = await get(d, id, owner, { Range: range });
    assert.equal(r.status, 206, range);
    assert.equal(r.headers.get('content-range'), `bytes ${a}-${b}/${N}`, range);
    assert.equal(Number(r.headers.get('content-length')), b - a + 1, range);
    assert.ok(r.body.equals(data.subarray(a, b + 1)), `${range}: exact bytes`);
    assert.equal(r.headers.get('etag'), `"${hex}"`);
    safetyHeaders(r, range);
  }

  // Unsatisfiable: 416 with the length.
  for (const range of [`bytes=${N}-`, `bytes=${N + 10}-${N + 20}`]) {
    r = await get(d, id, owner, { Range: range });
    assert.equal(r.status, 416, range);
    assert.equal(r.headers.get('content-range'), `bytes */${N}`, range);
  }

  // Over a raw socket: the 206 head and body are exact, and the
  // connection stays usable for a second request.
  const c = new RawConn(d.url);
  try {
    await c.connected;
    const h = (extra) => `GET /api/v1/media/${id}/original HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${owner}\r\nX-Access-Reason: raw socket test\r\n${extra}\r\n`;
    await c.write(h('Range: bytes=1000-1999\r\n') + h(''));
    const a = await c.readResponse();
    assert.equal(a.status, 206);
    assert.ok(a.body.equals(data.subarray(1000, 2000)));
    const b = await c.readResponse();
    assert.equal(b.status, 200);
    assert.ok(b.body.equals(data));
  } finally { c.destroy(); }
}));

test('only admins read an original, with a reason: no token 401, the uploader and another field worker 403, no reason 400, unknown id 404', () => withDaemon({ databaseUrl: db, dataDir }, async (d) => {
  const owner = fieldworkerToken(db, 'files-owner2');
  const other = fieldworkerToken(db, 'files-other');
  const admin = adminToken(db, 'files-admin2');
  const data = randomFile(5000);
  const up = await postEntry(d.url, owner, [entryPart({ kind: 'story', title: 'privé' }),
    { name: 'f', filename: 'p.bin', data }]);
  assert.equal(up.status, 201, up.text);
  const id = up.json.media[0].id;

  let r = await get(d, id, null);
  assertProblem(r, 401, 'no token');
  r = await get(d, id, other);
  assert.ok([403, 404].includes(r.status), `another field worker: ${r.status}`);
  assertProblem(r, r.status, 'another field worker');
  assert.ok(!r.body.includes(data.subarray(0, 64)), 'no byte of the file');
  r = await get(d, id, other, { Range: 'bytes=0-9' });
  assert.ok([403, 404].includes(r.status), `another field worker with a range: ${r.status}`);
  r = await get(d, id, other, {}, 'HEAD');
  assert.ok([403, 404].includes(r.status), `another field worker, HEAD: ${r.status}`);
  assert.equal(r.headers.get('etag'), null, 'HEAD does not leak the ETag');

  r = await get(d, id, owner);
  assertProblem(r, 403, 'the uploader no longer reads the sealed original');
  r = await get(d, id, admin, { 'X-Access-Reason': '' });
  assertProblem(r, 400, 'an admin without a reason');
  r = await get(d, '987654321', admin);
  assertProblem(r, 404, 'unknown media');
  r = await get(d, id, admin);
  assert.equal(r.status, 200);
  assert.ok(r.body.equals(data));
}));
