// SIGHUP 100 times while uploads and logins run: a reload swaps the config
// under running requests and jobs, and every one of them still succeeds.
// Run it under `make SANITIZE=thread` to see the reload race free as well.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon } from './lib/harness.mjs';
import { addUser, login } from './lib/accounts.mjs';
import { fieldworkerToken, migratedStore, multipart, entryPart, randomFile } from './lib/uploads.mjs';

const PW = 'a long enough passphrase 42';

test('100 reloads while uploads and logins run: all of them succeed', async () => {
  const { db, dataDir } = migratedStore();
  // One account per login: the per-account login throttle is not what
  // this test is about.
  for (let i = 0; i < 8; i++) addUser(db, `hup${i}`, 'analyst', PW);
  const d = await startDaemon({ databaseUrl: db, dataDir });
  try {
    const token = fieldworkerToken(db, 'hup-fw');
    let hups = 0;
    const hupper = (async () => {
      for (; hups < 100; hups++) {
        d.proc.kill('SIGHUP');
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    const uploads = [];
    for (let i = 0; i < 24; i++) {
      const { body, contentType } = multipart([entryPart({ kind: 'visit', title: `hup ${i}` }),
        { name: 'f', filename: `f${i}.bin`, type: 'application/octet-stream', data: randomFile(64 * 1024) }]);
      uploads.push(fetch(`${d.url}/api/v1/entries`, { method: 'POST', body,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType } })
        .then(async (r) => { await r.arrayBuffer(); return r.status; }));
      if (i % 3 === 0)
        uploads.push(login(d.url, `hup${i / 3}`, PW).then(({ r }) => r.status));
      await new Promise((r) => setTimeout(r, 40));
    }
    const statuses = await Promise.all(uploads);
    await hupper;
    assert.equal(hups, 100);
    assert.deepEqual(statuses.filter((s) => s !== 200 && s !== 201), [], 'every upload and login succeeded');
    const h = await fetch(`${d.url}/healthz`);
    assert.equal(h.status, 200, 'the daemon still answers after 100 reloads');
    assert.equal(d.proc.exitCode, null, 'and is still running');
  } finally {
    await d.stop('SIGKILL');
  }
});
