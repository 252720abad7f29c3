// Two field workers sending the same file must both get 201, whatever the
// media job later decides about the content. The media runners are on:
// while identical uploads are in flight, a job rejects that content and
// quarantines its bytes; an upload that found the file already stored
// (deduplicated) and pins it afterwards once got 503 "collected while
// being stored" (issue 18).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { psql, waitFor } from './lib/harness.mjs';
import { fieldworkerToken, migratedStore, withDaemon, postEntry, entryPart } from './lib/uploads.mjs';

test('identical uploads all succeed while their content is rejected and quarantined', async () => {
  const { db, dataDir } = migratedStore();
  const token = fieldworkerToken(db, 'twins');
  // A JPEG head on random bytes: libmagic calls it a photo, the decoder
  // refuses it, so every media job of it rejects and quarantines it.
  const photo = Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), randomBytes(64 * 1024)]);
  await withDaemon({ databaseUrl: db, dataDir, env: { VERHAAL_MEDIA_RUNNERS: '2', VERHAAL_MAX_CONNECTIONS_PER_ADDRESS: '0' } }, async (d) => {
    const total = 320, width = 16;
    const statuses = [];
    let next = 0;
    const worker = async () => {
      while (next < total) {
        next++;
        const r = await postEntry(d.url, token, [
          entryPart({ kind: 'visit', title: 'zelfde foto', text: 'dezelfde foto' }),
          { name: 'file', filename: 'foto.jpg', type: 'image/jpeg', data: photo },
        ]);
        statuses.push(r.status === 201 ? 201 : `${r.status} ${r.text}`);
      }
    };
    await Promise.all(Array.from({ length: width }, worker));
    const bad = statuses.filter((s) => s !== 201);
    assert.deepEqual(bad.slice(0, 3), [], `${bad.length} of ${statuses.length} identical uploads failed`);
    assert.equal(Number(psql(db, "SELECT count(*) FROM entry WHERE title = 'zelfde foto'")), total);
    // Every upload's media job still decides: all of them end rejected.
    await waitFor(() => psql(db, "SELECT count(*) FROM media m JOIN entry e ON e.id = m.entry_id"
      + " WHERE e.title = 'zelfde foto' AND m.status NOT IN ('rejected', 'ready')") === '0', { timeout: 120000, interval: 500 });
    assert.equal(psql(db, "SELECT string_agg(DISTINCT m.status, ',') FROM media m JOIN entry e ON e.id = m.entry_id WHERE e.title = 'zelfde foto'"), 'rejected');
  });
});
