// During the SIGTERM drain the listening socket is closed: a new
// connection is refused at once (a load balancer moves on) instead of
// waiting in the backlog until the exit resets it; the upload in flight
// still finishes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startDaemon } from './lib/harness.mjs';
import { fieldworkerToken, migratedStore, multipart, entryPart, slowRequest, randomFile, MiB } from './lib/uploads.mjs';

let db, dataDir;
before(() => { ({ db, dataDir } = migratedStore()); });

function connect(url) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port) });
    s.once('connect', () => { s.destroy(); resolve('connected'); });
    s.once('error', (e) => resolve(e.code));
  });
}

test('SIGTERM: new connections are refused while an upload drains', async () => {
  const d = await startDaemon({ databaseUrl: db, dataDir });
  try {
    const token = fieldworkerToken(db, 'drain');
    const { body, contentType } = multipart([entryPart({ kind: 'visit', title: 'drain' }),
      { name: 'f', filename: 'f.bin', type: 'application/octet-stream', data: randomFile(MiB) }]);
    const up = slowRequest(d.url, { path: '/api/v1/entries', body, piece: 64 * 1024, pause: 60,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType } });
    await new Promise((r) => setTimeout(r, 300));
    d.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await connect(d.url), 'ECONNREFUSED', 'a new connection is refused during the drain');
    const r = await up;
    assert.equal(r.status, 201, 'the upload in flight finished');
    assert.equal(await d.exited, 0);
  } finally {
    await d.stop('SIGKILL');
  }
});
