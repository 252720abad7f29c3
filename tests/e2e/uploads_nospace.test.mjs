// A spool file that cannot be created (no inode left on the data
// directory's file system): now that a worker creates it while the body
// waits, the answer is still 507 with the same problem, and neither a
// file nor a row is left. The data directory is a small tmpfs (needs
// root to mount; skipped otherwise) whose free inodes are used up after
// the daemon has started.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { psql, tmpdir, freshDatabase, ctl } from './lib/harness.mjs';
import {
  assertProblem, entryPart, postEntry, fieldworkerToken, withDaemon, filesUnder,
  randomFile, tusMetadata,
} from './lib/uploads.mjs';

let mnt = null;
let db;
before(() => {
  db = freshDatabase();
  ctl(db, 'migrate');
  const dir = path.join(tmpdir('nospace'), 'm');
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,nr_inodes=2000', 'tmpfs', dir], { stdio: 'ignore' });
    mnt = dir;
  } catch { /* not root: skipped */ }
});
after(() => { if (mnt) execFileSync('umount', ['-l', mnt], { stdio: 'ignore' }); });

// Uses up every free inode of the tmpfs; returns the undo.
function fillInodes() {
  const fill = path.join(mnt, 'fill');
  mkdirSync(fill);
  for (let i = 0; ; i++) {
    try { writeFileSync(path.join(fill, String(i)), ''); } catch (e) {
      assert.equal(e.code, 'ENOSPC');
      break;
    }
  }
  return () => rmSync(fill, { recursive: true, force: true });
}

const entry = {
  kind: 'story', title: 'Geen plek', text: 'Er is geen inode meer.',
  consent: { scope: 'publish', version: '1', language: 'nl' },
};

test('no inode for a spool file: multipart and tus answer 507 as before, and leave no file or row', (t) => {
  if (!mnt) return t.skip('mounting a tmpfs needs root');
  return withDaemon({ databaseUrl: db, dataDir: path.join(mnt, 'data'), env: { VERHAAL_MIN_FREE_SPACE: '0' } }, async (d) => {
    const token = fieldworkerToken(db, 'nospace');
    const spool = path.join(d.dataDir, 'spool');
    const spool0 = filesUnder(spool);
    const undo = fillInodes();
    try {
      // A file part: its spool file is made on the pool, the body waits.
      const r = await postEntry(d.url, token, [entryPart(entry),
        { name: 'f', filename: 'a.bin', type: 'application/octet-stream', data: randomFile(3000) }]);
      const p = assertProblem(r, 507, 'multipart');
      assert.match(p.type, /storage/);
      assert.equal(p.detail, 'the server could not create a file for the upload');

      // tus: a whole upload's blob writer, and a partial file.
      const H = { Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0',
        'Upload-Metadata': tusMetadata({ kind: 'story', filename: 'x.bin', title: 'Geen plek',
          consent: JSON.stringify(entry.consent) }) };
      const body = randomFile(5000);
      const w = await fetch(`${d.url}/api/v1/uploads`, { method: 'POST', body, headers: { ...H,
        'Upload-Length': String(body.length), 'Content-Type': 'application/offset+octet-stream' } });
      const wp = await w.json();
      assert.equal(w.status, 507, JSON.stringify(wp));
      assert.match(wp.type, /storage/);
      assert.equal(wp.detail, 'the server could not create a file for the upload');
      const c = await fetch(`${d.url}/api/v1/uploads`, { method: 'POST', headers: { ...H, 'Upload-Length': '5000' } });
      const cp = await c.json();
      assert.equal(c.status, 507, JSON.stringify(cp));
      assert.equal(cp.detail, "the server could not create the upload's partial file");
    } finally { undo(); }
    assert.deepEqual(filesUnder(spool).filter((f) => !spool0.includes(f)), [], 'no spool file is left');
    assert.equal(psql(db, "SELECT count(*) FROM entry WHERE title = 'Geen plek'"), '0', 'no entry row');
    assert.equal(psql(db, 'SELECT count(*) FROM upload'), '0', 'no upload row');
  });
});
