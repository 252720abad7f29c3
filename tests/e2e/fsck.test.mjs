// verhaalctl fsck: each fault planted in a live instance's data directory
// and database is found by its name, the removable ones are removed by
// --repair (orphans only past the grace period), lost or damaged content
// stays a problem until --from copies it back from a backup, and then
// fsck is clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, freshDatabase, psql, startDaemon, tmpdir } from './lib/harness.mjs';
import { token, uploadMultipart } from './lib/media.mjs';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const blobPath = (dataDir, h) => path.join(dataDir, 'blobs', h.slice(0, 2), h.slice(2, 4), h);

function fsck(url, dataDir, ...args) {
  const r = spawnSync(path.join(build, 'verhaalctl'), ['fsck', ...args], {
    encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: url, VERHAAL_DATA_DIR: dataDir },
  });
  if (r.status !== 0 && r.status !== 1) throw new Error(`fsck exited ${r.status}: ${r.stderr}`);
  const findings = r.stdout.split('\n').filter((l) => l.includes('\t')).map((l) => {
    const [kind, outcome, rest] = l.split('\t');
    return { kind, outcome, name: rest.slice(0, rest.indexOf(': ')), detail: rest.slice(rest.indexOf(': ') + 2) };
  });
  return { code: r.status, out: r.stdout, findings, summary: r.stdout.trim().split('\n').pop() };
}

const has = (res, kind, name, outcome = 'found') =>
  res.findings.some((f) => f.kind === kind && f.name === name && f.outcome === outcome);

test('fsck finds each planted fault, repairs it, and is clean afterwards', async () => {
  const url = freshDatabase();
  const d = await startDaemon({ databaseUrl: url });
  const dir = tmpdir('fsck');
  try {
    const tok = token(url, 'fw1', 'fieldworker');
    const files = ['a', 'b', 'c'].map((n) => {
      const data = Buffer.concat([Buffer.from(`bestand ${n}\n`), randomBytes(3000)]);
      const file = path.join(dir, `${n}.txt`);
      writeFileSync(file, data);
      uploadMultipart(d.url, tok, file, { type: 'text/plain' });
      return { data, hash: sha256(data) };
    });
    let r = fsck(url, d.dataDir);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(r.findings, []);
    assert.match(r.summary, /3 blob rows, 3 files, 3 hashed; 0 repaired, 0 problems left/);
    // A backup while all is well, for the repair of lost content below.
    const bdir = path.join(dir, 'backup');
    const b = spawnSync(path.join(build, 'verhaalctl'), ['backup', bdir], {
      encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: url, VERHAAL_DATA_DIR: d.dataDir } });
    assert.equal(b.status, 0, b.stderr);

    // 1. A blob file deleted (its row and media stay).
    const lost = files[0];
    rmSync(blobPath(d.dataDir, lost.hash));
    // 2. A file no row names, where a blob of its bytes would be: what a
    // crash between erasing rows and deleting files leaves.
    const strayData = randomBytes(1234);
    const stray = sha256(strayData);
    mkdirSync(path.dirname(blobPath(d.dataDir, stray)), { recursive: true });
    writeFileSync(blobPath(d.dataDir, stray), strayData);
    // 3. One byte flipped in a stored blob (same size).
    const bad = files[1];
    const flipped = Buffer.from(bad.data);
    flipped[100] ^= 0x20;
    writeFileSync(blobPath(d.dataDir, bad.hash), flipped);
    // 3b. Another cut short (its size is no longer its row's).
    const cut = files[2];
    writeFileSync(blobPath(d.dataDir, cut.hash), cut.data.subarray(0, 1000));
    // 4. A spool file left by a writer that died two hours ago.
    const spoolName = 'blob.' + randomBytes(16).toString('hex');
    const spoolFile = path.join(d.dataDir, 'spool', spoolName);
    writeFileSync(spoolFile, randomBytes(500));
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    utimesSync(spoolFile, old, old);
    // 5. An unfinished tus upload whose expiry has passed.
    const res = await fetch(`${d.url}/api/v1/uploads`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${tok}`, 'Tus-Resumable': '1.0.0', 'Upload-Length': '10000',
        'Upload-Metadata': `filename ${Buffer.from('x.bin').toString('base64')},kind ${Buffer.from('visit').toString('base64')}` },
    });
    assert.equal(res.status, 201);
    const uploadId = res.headers.get('location').split('/').pop();
    // The daemon reaps expired uploads itself (a minute apart): it stops
    // here so that this one waits for fsck.
    await d.stop();
    psql(url, `UPDATE upload SET expires_at = now() - interval '1 hour' WHERE id = '${uploadId}'`);
    const uploadSpool = path.join(d.dataDir, 'spool', psql(url, `SELECT spool_name FROM upload WHERE id = '${uploadId}'`));
    assert.ok(existsSync(uploadSpool));
    // 6. Something under blobs/ that is no blob at all.
    writeFileSync(path.join(d.dataDir, 'blobs', 'notes.txt'), 'van de beheerder\n');

    // Found, each by name. The stray blob file is younger than the
    // default grace period (1h): it may be an upload being stored now.
    r = fsck(url, d.dataDir);
    assert.equal(r.code, 1);
    assert.ok(has(r, 'missing-file', lost.hash), r.out);
    assert.match(r.findings.find((f) => f.kind === 'missing-file').detail, /named by media \d+ of entry \d+/);
    assert.ok(has(r, 'hash-mismatch', bad.hash), r.out);
    assert.ok(has(r, 'hash-mismatch', cut.hash), r.out);
    assert.match(r.findings.find((f) => f.name === cut.hash).detail, /^1000 bytes, its row says \d+/);
    assert.ok(has(r, 'stale-spool', `spool/${spoolName}`), r.out);
    assert.ok(has(r, 'expired-upload', uploadId), r.out);
    assert.ok(has(r, 'foreign-file', 'blobs/notes.txt'), r.out);
    assert.ok(!r.findings.some((f) => f.name === stray), 'a young orphan is not judged');
    assert.match(r.summary, /1 unnamed file younger than the grace period not judged/);
    assert.equal(r.findings.length, 6, r.out);
    // Past a grace period of 0 it is an orphan.
    r = fsck(url, d.dataDir, '--grace', '0');
    assert.ok(has(r, 'orphan-file', stray), r.out);
    // --sample 0 hashes nothing: the flipped byte (same size) goes unseen.
    r = fsck(url, d.dataDir, '--sample', '0');
    assert.ok(!has(r, 'hash-mismatch', bad.hash), r.out);
    assert.ok(has(r, 'hash-mismatch', cut.hash), 'a wrong size needs no hashing');
    assert.match(r.summary, / 0 hashed;/);

    // --repair with the default grace keeps the young orphan.
    r = fsck(url, d.dataDir, '--repair');
    assert.ok(existsSync(blobPath(d.dataDir, stray)));
    assert.ok(has(r, 'stale-spool', `spool/${spoolName}`, 'repaired'), r.out);
    assert.ok(has(r, 'expired-upload', uploadId, 'repaired'), r.out);
    assert.ok(!existsSync(spoolFile) && !existsSync(uploadSpool));
    assert.equal(psql(url, `SELECT count(*) FROM upload WHERE id = '${uploadId}'`), '0');
    r = fsck(url, d.dataDir, '--repair', '--grace', '0s');
    assert.equal(r.code, 1, 'lost and damaged content remains a problem');
    assert.ok(has(r, 'orphan-file', stray, 'repaired'), r.out);
    assert.ok(!existsSync(blobPath(d.dataDir, stray)));
    assert.ok(has(r, 'missing-file', lost.hash), r.out);
    assert.ok(has(r, 'hash-mismatch', bad.hash), r.out);
    assert.ok(has(r, 'hash-mismatch', cut.hash), r.out);
    assert.ok(has(r, 'foreign-file', 'blobs/notes.txt'), 'not removed: the operator judges it');
    assert.equal(psql(url, `SELECT count(*) FROM media WHERE blob_sha256 IN ('${lost.hash}', '${bad.hash}', '${cut.hash}')`), '3',
      'repair never drops media rows');
    assert.match(r.summary, /1 repaired, 4 problems left/);

    // The content comes back from the backup, each copy checked.
    r = fsck(url, d.dataDir, '--repair', '--from', bdir);
    assert.ok(has(r, 'missing-file', lost.hash, 'repaired'), r.out);
    assert.ok(has(r, 'hash-mismatch', bad.hash, 'repaired'), r.out);
    assert.ok(has(r, 'hash-mismatch', cut.hash, 'repaired'), r.out);
    for (const f of files) assert.deepEqual(readFileSync(blobPath(d.dataDir, f.hash)), f.data);
    assert.equal(r.code, 1, 'the foreign file is still there');
    // The operator removes it: clean.
    rmSync(path.join(d.dataDir, 'blobs', 'notes.txt'));
    r = fsck(url, d.dataDir, '--repair', '--grace', '0');
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(r.findings, []);
    assert.match(r.summary, /3 blob rows, 3 files, 3 hashed; 0 repaired, 0 problems left/);
  } finally {
    await d.stop('SIGKILL');
  }
});

test('fsck refuses a data directory without a blob store and bad options', () => {
  const url = freshDatabase();
  const r = spawnSync(path.join(build, 'verhaalctl'), ['fsck'], {
    encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: url, VERHAAL_DATA_DIR: path.join(tmpdir('nostore'), 'x') },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no blob store at .*is data_dir right/);
  const run = (...a) => spawnSync(path.join(build, 'verhaalctl'), ['fsck', ...a], { encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: url } });
  assert.match(run('--from', '/tmp').stderr, /--from is a source for --repair/);
  assert.match(run('--repair', '--from', tmpdir('empty')).stderr, /is not a backup \(no MANIFEST\)/);
  assert.match(run('--grace', 'soon').stderr, /--grace: expected a duration/);
});
