// make demo's script on a small count: entries go in through the API as
// stories (Dutch speech) and visits (photos), the media pipeline processes
// them, everything is marked as demo; `verhaalctl demo remove` leaves no
// demo row and no blob behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { top, build, shared, tmpdir, freshDatabase, psql, ctl, startDaemon, waitFor } from './lib/harness.mjs';

function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test('make demo (DEMO_COUNT=6) puts processed, marked entries in; demo remove takes all of them out', { timeout: 240000 }, async () => {
  const db = freshDatabase();
  const dataDir = path.join(tmpdir('data'), 'data');
  ctl(db, 'first-run', '--seed', path.join(top, 'contrib/seed'));
  const d = await startDaemon({ databaseUrl: db, dataDir, env: { VERHAAL_MEDIA_RUNNERS: '2' } });
  const env = {
    ...process.env, DEMO_COUNT: '6', DEMO_URL: d.url,
    VERHAAL_DATABASE_URL: db, VERHAAL_DATA_DIR: dataDir,
  };
  const r = await new Promise((resolve) => {
    const p = spawn('sh', [path.join(top, 'contrib/dev/demo.sh'), build], { cwd: top, env });
    let out = '';
    p.stdout.on('data', (x) => { out += x; });
    p.stderr.on('data', (x) => { out += x; });
    p.on('close', (code) => resolve({ code, out }));
  });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /demo: 4 stories and 2 visits in collection demo \(5 released to analysts\)/);

  // Marked: the demo collection, "[demo]" titles, the demo accounts.
  assert.equal(psql(db, "SELECT count(*) FROM entry e JOIN collection c ON c.id = e.collection_id WHERE c.slug = 'demo' AND e.title LIKE '[demo] %'"), '6');
  assert.equal(psql(db, "SELECT count(*) FROM entry"), '6');
  assert.equal(psql(db, "SELECT string_agg(name, ',' ORDER BY name) FROM account"), 'admin,demo-beheer,demo-veldwerk');
  // Varied: themes and buurten on every entry, stories with consent.
  assert.equal(psql(db, "SELECT count(*) FROM entry WHERE cardinality(themes) = 1 AND area_code LIKE 'BU0344%'"), '6');
  assert.ok(Number(psql(db, "SELECT count(DISTINCT area_code) FROM entry")) >= 5, psql(db, "SELECT string_agg(area_code, ',') FROM entry"));
  assert.equal(psql(db, "SELECT count(*) FROM consent"), '4');
  assert.ok(Number(psql(db, "SELECT count(*) FROM receipt")) >= 1, 'no story came through the upload link');
  assert.equal(psql(db, "SELECT count(*) FROM entry WHERE status IN ('published', 'approved')"), '5');

  // Processed by the real pipeline: Opus from the speech, JPEGs from the photos.
  await waitFor(() => psql(db, "SELECT count(*) FROM media WHERE status IN ('ready', 'rejected')") === '6',
    { timeout: 180000, interval: 500 });
  assert.equal(psql(db, "SELECT string_agg(family || ':' || status, ',' ORDER BY family) FROM (SELECT family, status, count(*) FROM media GROUP BY 1, 2) m"),
    'audio:ready,image:ready');
  assert.equal(psql(db, "SELECT count(*) FROM media WHERE family = 'audio' AND opus_sha256 IS NOT NULL AND duration_ms > 2000"), '4');
  // Each story its own words, so its own recording.
  assert.equal(psql(db, "SELECT count(DISTINCT blob_sha256) FROM media WHERE family = 'audio'"), '4');
  assert.equal(psql(db, "SELECT count(*) FROM media WHERE family = 'image' AND display_sha256 IS NOT NULL AND thumb_sha256 IS NOT NULL"), '2');
  if (existsSync(path.join(shared, 'data/indicators'))) {
    assert.ok(Number(psql(db, 'SELECT count(*) FROM indicator_value')) > 1000);
  }
  assert.ok(files(path.join(dataDir, 'blobs')).length > 10);
  const indicators = psql(db, 'SELECT count(*) FROM indicator_value');

  // verhaalctl with the daemon's data directory, as make demo-clean runs
  // with make run's configuration.
  const remove = () => execFileSync(path.join(build, 'verhaalctl'), ['demo', 'remove'], { encoding: 'utf8', env });
  const out = remove().replace(/^verhaalctl: .*\n/gm, '');
  assert.match(out, /^demo: removed 6 entries \(\d+ file\(s\)\), 1 collection, 2 account\(s\)$/m);
  for (const t of ['entry', 'media', 'blob', 'collection', 'consent', 'receipt', 'moderation', 'job', 'upload',
    'tombstone', 'deletion_log', 'api_token', 'session']) {
    assert.equal(psql(db, `SELECT count(*) FROM ${t}`), '0', `${t} still has rows`);
  }
  assert.equal(psql(db, 'SELECT string_agg(name, \',\') FROM account'), 'admin');
  assert.deepEqual(files(path.join(dataDir, 'blobs')), []);
  assert.deepEqual(files(path.join(dataDir, 'quarantine')), []);
  // The real data stays: areas and the indicators; the trail says what happened.
  assert.equal(psql(db, 'SELECT count(*) FROM area'), '122');
  assert.equal(psql(db, 'SELECT count(*) FROM indicator_value'), indicators);
  assert.equal(psql(db, "SELECT count(*) FROM audit WHERE action = 'demo_remove'"), '1');
  // Removing again finds nothing and fails nothing.
  assert.match(remove(), /demo: removed 0 entries \(0 file\(s\)\), 0 collection, 0 account\(s\)/);
  assert.equal(await d.stop(), 0);
});
