// listen_reuseport: two daemons on one port, one database and one data
// directory (one event loop per core). The kernel spreads new connections
// over both; each request's access log line (its X-Request-Id) says which
// process answered it. A tus upload begun through one process is finished
// through the other, and a daemon without the option still finds the port
// taken.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, runDaemon, psql, waitFor, top } from './lib/harness.mjs';
import path from 'node:path';
import {
  fieldworkerToken, migratedStore, tusCreate, tusHeaders, RawConn, sha256, randomFile, MiB,
} from './lib/uploads.mjs';

const shared = { VERHAAL_LISTEN_REUSEPORT: 'yes', VERHAAL_METRICS_LISTEN: '' };
let db, dataDir, token, A, B, port, url;
before(async () => {
  ({ db, dataDir } = migratedStore());
  token = fieldworkerToken(db, 'reuseport');
  A = await startDaemon({ databaseUrl: db, dataDir, env: shared });
  port = Number(new URL(A.url).port);
  B = await startDaemon({ databaseUrl: db, dataDir, port, env: shared });
  url = A.url;
});
after(async () => { await A?.stop('SIGKILL'); await B?.stop('SIGKILL'); });

// Which daemon logged the request with this id (its access line), once
// one has.
async function servedBy(rid) {
  const line = `req=${rid} `;
  return waitFor(() => (A.log().includes(line) ? 'A' : B.log().includes(line) ? 'B' : null), { timeout: 5000 });
}

// One request on conn (a fresh or kept-alive connection); its answer.
async function ask(conn, method, p, headers = {}, body = null) {
  const h = { Host: 'x', ...headers };
  if (body) h['Content-Length'] = String(body.length);
  await conn.write(`${method} ${p} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
  if (body) await conn.write(body);
  return conn.readResponse({ head: method === 'HEAD' });
}

test('both daemons bind the port and both answer new connections', async () => {
  assert.equal(new URL(B.url).port, String(port), 'B listens on the port A took');
  assert.match(A.log(), /listen_reuseport: port \d+ may be shared/);
  const n = 40;
  const by = { A: 0, B: 0 };
  for (let i = 0; i < n; i++) {
    const c = new RawConn(url);
    await c.connected;
    const rid = `rp-health-${i}`;
    const r = await ask(c, 'GET', '/healthz', { 'X-Request-Id': rid, Connection: 'close' });
    c.destroy();
    assert.equal(r.status, 200);
    by[await servedBy(rid)]++;
  }
  // The kernel hashes each connection's addresses and ports: 40 fresh
  // connections all landing on one of two listeners has odds of 2^-39.
  assert.ok(by.A > 0 && by.B > 0, `both processes answered: A ${by.A}, B ${by.B}`);
  assert.equal(by.A + by.B, n);
});

test('a tus upload begun through one daemon is finished through the other', async () => {
  const L = 2 * MiB;
  const data = randomFile(L);
  const half = L / 2;
  const c = await tusCreate(url, token, {
    length: L, body: data.subarray(0, half),
    metadata: { kind: 'story', filename: 'rp.bin', title: 'reuseport' },
    headers: { 'X-Request-Id': 'rp-create' },
  });
  assert.equal(c.status, 201);
  assert.equal(c.headers.get('upload-offset'), String(half));
  const first = await servedBy('rp-create');
  const loc = new URL(c.location).pathname;

  // New connections until one reaches the other process; the rest of the
  // body goes on that same (kept-alive) connection.
  let other = null, conn = null;
  for (let i = 0; i < 64 && other === null; i++) {
    conn = new RawConn(url);
    await conn.connected;
    const rid = `rp-head-${i}`;
    const h = await ask(conn, 'HEAD', loc, tusHeaders(token, { 'X-Request-Id': rid }));
    assert.equal(h.status, 200);
    assert.equal(h.headers['upload-offset'], String(half), 'every process reports the durable offset');
    if (await servedBy(rid) !== first) other = conn;
    else conn.destroy();
  }
  assert.ok(other, `no connection out of 64 reached the process that did not create the upload (${first})`);
  const p = await ask(other, 'PATCH', loc, tusHeaders(token, {
    'X-Request-Id': 'rp-patch', 'Upload-Offset': String(half),
    'Content-Type': 'application/offset+octet-stream',
  }), data.subarray(half));
  other.destroy();
  assert.equal(p.status, 204);
  assert.equal(p.headers['upload-offset'], String(L));
  assert.notEqual(await servedBy('rp-patch'), first, 'the PATCH was answered by the other process');
  const entry = p.headers['upload-entry'];
  assert.ok(entry, 'the finished upload names its entry');
  assert.equal(psql(db, `SELECT blob_sha256 FROM media WHERE entry_id = ${Number(entry)}`), sha256(data),
    'the stored upload is the bytes sent, half through each process');
  assert.equal(psql(db, `SELECT count(*) FROM entry WHERE title = 'reuseport'`), '1');
});

test('a daemon without listen_reuseport still finds the shared port taken', async () => {
  const r = await runDaemon(['-c', path.join(top, 'config/verhaald.conf')], {
    VERHAAL_DATABASE_URL: db, VERHAAL_DATA_DIR: dataDir, VERHAAL_LISTEN_PORT: String(port),
    VERHAAL_METRICS_LISTEN: '', VERHAAL_MEDIA_RUNNERS: '0',
  });
  assert.notEqual(r.code, 0);
  assert.match(r.out, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
});
