// What a crash leaves in the data directory is removed within a bounded
// time after a restart: spool files of multipart bodies cut by kill -9,
// a tus spool file whose row was never inserted, a media job's scratch
// files, a blob file no row names. A live daemon's files on the same
// directory are never taken.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, writeFileSync, readdirSync, existsSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon, waitFor, psql } from './lib/harness.mjs';
import {
  fieldworkerToken, migratedStore, multipart, entryPart, slowRequest, tusCreate, blobPath, sha256,
  randomFile, MiB,
} from './lib/uploads.mjs';

let db, dataDir, token;
before(() => {
  ({ db, dataDir } = migratedStore());
  token = fieldworkerToken(db, 'litter');
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const env = { VERHAAL_LITTER_AGE: '1s' };
const spool = () => readdirSync(path.join(dataDir, 'spool')).filter((f) => !f.startsWith('.'));

function slowMultipart(url, title, size, pace) {
  const { body, contentType } = multipart([entryPart({ kind: 'visit', title }),
    { name: 'f', filename: 'f.bin', type: 'application/octet-stream', data: randomFile(size) }]);
  return slowRequest(url, { path: '/api/v1/entries', body, ...pace,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType } });
}

test('after kill -9 and a restart only what rows name is left, and a live daemon keeps its files', async () => {
  let d = await startDaemon({ databaseUrl: db, dataDir, env });
  // A tus upload that is alive (its row names its file) must stay.
  const live = await tusCreate(d.url, token, { length: 10 * MiB, metadata: { kind: 'story' } });
  assert.equal(live.status, 201);
  const liveSpool = psql(db, `SELECT spool_name FROM upload WHERE id = '${live.location.split('/').pop()}'`);
  // Multipart bodies mid-stream when the daemon dies.
  const cut = [0, 1, 2].map((i) => slowMultipart(d.url, `cut ${i}`, 4 * MiB, { piece: 64 * 1024, pause: 30 }).catch(() => null));
  await waitFor(() => spool().filter((f) => f.startsWith('blob.')).length >= 3, { timeout: 5000 });
  await d.stop('SIGKILL');
  await Promise.all(cut);
  // What the other crashes leave: a tus file whose row never made it, a
  // killed job's scratch file, a stored blob whose entry failed.
  const tusOrphan = `tus.${randomBytes(16).toString('hex')}`;
  writeFileSync(path.join(dataDir, 'spool', tusOrphan), 'partial');
  const jobFile = `job.${randomBytes(16).toString('hex')}`;
  writeFileSync(path.join(dataDir, 'spool', jobFile), randomBytes(1000));
  const old = new Date(Date.now() - 600 * 1000);
  utimesSync(path.join(dataDir, 'spool', jobFile), old, old);
  const orphan = randomBytes(5000);
  const orphanPath = blobPath(dataDir, sha256(orphan));
  mkdirSync(path.dirname(orphanPath), { recursive: true });
  writeFileSync(orphanPath, orphan);
  const litter = spool().filter((f) => f !== liveSpool);
  assert.ok(litter.length >= 5, `litter planted: ${litter}`);

  await sleep(1500);	// older than litter_age
  // A second daemon on the same directory starts first and is mid-upload
  // when the restarted one sweeps: its file is older than litter_age by
  // then, but locked.
  const other = await startDaemon({ databaseUrl: db, dataDir, env });
  try {
    const alive = slowMultipart(other.url, 'alive', 3 * MiB, { piece: 32 * 1024, pause: 50 });
    await sleep(1500);
    d = await startDaemon({ databaseUrl: db, dataDir, env });
    try {
      await waitFor(() => !litter.some((f) => spool().includes(f)) && !existsSync(orphanPath),
        { timeout: 15000, interval: 200 }).catch(() => null);
      assert.deepEqual(spool().filter((f) => litter.includes(f)), [], 'the spool holds no crash litter');
      assert.equal(existsSync(orphanPath), false, 'the orphan blob is gone');
      assert.ok(spool().includes(liveSpool), 'a live upload keeps its file');
      assert.match(d.log() + other.log(), /swept spool\/blob\./, 'the sweep ran');
      const r = await alive;
      assert.equal(r.status, 201, `the live daemon's upload survived the sweep: ${r.text}`);
      const sha = JSON.parse(r.text).media[0].sha256;
      assert.ok(existsSync(blobPath(dataDir, sha)), 'its blob is stored');
    } finally {
      await d.stop('SIGKILL');
    }
  } finally {
    await other.stop('SIGKILL');
  }
});
