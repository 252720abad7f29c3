// Prepared statements are per connection (lib/db/vh_db.c): when the
// database ends the workers' sessions, the reopened connections prepare
// their statements again, and uploads go on succeeding rather than
// failing on a statement name the new session never saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase, startDaemon, ctl, psql } from './lib/harness.mjs';

function b64(s) { return Buffer.from(s).toString('base64'); }

async function upload(d, token, i) {
  const body = Buffer.from(`bestand ${i}\n`);
  const r = await fetch(`${d.url}/api/v1/uploads`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0', 'Upload-Length': String(body.length),
      'Content-Type': 'application/offset+octet-stream',
      'Upload-Metadata': `kind ${b64('visit')},title ${b64(`Bezoek ${i}`)},filename ${b64(`f${i}.txt`)}`,
    },
    body,
  });
  await r.arrayBuffer();
  return r.status;
}

test('after the database ends the workers\' sessions, uploads succeed again on new connections', { timeout: 120000 }, async () => {
  const url = freshDatabase();
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_WORKERS: '2' } });
  try {
    const tok = ctl(url, 'token', 'create', '--user', 'veld1', '--role', 'fieldworker').trim().split('\n').pop();
    for (let i = 0; i < 6; i++) assert.equal(await upload(d, tok, i), 201);
    for (let round = 0; round < 2; round++) {
      const ended = psql(url, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'verhaal') x`);
      assert.ok(Number(ended) >= 1, 'the daemon had sessions to end');
      // A job that finds its connection gone answers 503 once; the next
      // one reconnects. Every upload after that must store.
      const codes = [];
      for (let i = 0; i < 12; i++) codes.push(await upload(d, tok, 100 * (round + 1) + i));
      assert.ok(codes.every((c) => c === 201 || c === 503), codes.join(' '));
      assert.deepEqual(codes.slice(-6), [201, 201, 201, 201, 201, 201], codes.join(' '));
    }
    assert.equal(psql(url, 'SELECT count(*) >= 18 FROM entry'), 't');
  } finally {
    await d.stop('SIGKILL');
  }
});
