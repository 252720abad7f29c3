// verhaalctl backup and restore: an instance with entries and media
// (uploaded through the API, processed by the media runners) is backed up
// while it runs, restored into another database and data directory, and a
// daemon on the restored pair serves every entry and every file with the
// same SHA-256, with the audit trail row for row. restore refuses targets
// that are not empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { build, freshDatabase, psql, startDaemon, tmpdir } from './lib/harness.mjs';
import { mediaDaemon, uploadMultipart, uploadTus, waitMedia } from './lib/media.mjs';
import { toneWav } from './lib/consent.mjs';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

function vctl(url, dataDir, ...args) {
  return spawnSync(path.join(build, 'verhaalctl'), args, {
    encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: url, VERHAAL_DATA_DIR: dataDir },
  });
}

async function download(base, tok, link) {
  const r = await fetch(`${base}${link}`, { headers: { Authorization: `Bearer ${tok}` } });
  assert.equal(r.status, 200, `GET ${link}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

// Every file the API serves for the instance's media: original and
// renditions, by link, with the SHA-256 of the bytes that came back.
async function served(base, tok, ids) {
  const out = {};
  for (const id of ids) {
    const r = await fetch(`${base}/api/v1/media/${id}`, { headers: { Authorization: `Bearer ${tok}` } });
    assert.equal(r.status, 200);
    const m = await r.json();
    out[`${id} original`] = sha256(await download(base, tok, `/api/v1/media/${id}/original?reason=backup%20check`));
    for (const [name, link] of Object.entries(m.links ?? {})) {
      out[`${id} ${name}`] = sha256(await download(base, tok, link));
    }
  }
  return out;
}

const AUDIT = 'SELECT id, at, account_id, actor, actor_role, action, object_type, object_id, reason, client_addr, request_id FROM audit ORDER BY id';

test('a backup restored into another database and data directory serves every entry and file', async () => {
  const ctx = await mediaDaemon();
  const dir = tmpdir('backup');
  let d2;
  try {
    // Entries with media of each family, by multipart and by tus.
    const wav = path.join(dir, 'stem.wav');
    toneWav(dir, 'stem.wav', 3);
    const jpg = path.join(dir, 'foto.jpg');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=640x480', '-frames:v', '1', jpg]);
    const txt = path.join(dir, 'notitie.txt');
    writeFileSync(txt, 'Een notitie van het werkbezoek.\n');
    const a = uploadMultipart(ctx.d.url, ctx.worker, wav, { type: 'audio/wav' });
    const b = uploadMultipart(ctx.d.url, ctx.worker, jpg, { type: 'image/jpeg' });
    const c = uploadMultipart(ctx.d.url, ctx.worker, txt, { type: 'text/plain' });
    await uploadTus(ctx.d.url, ctx.worker, jpg, 'nogmaals.jpg');
    const ids = psql(ctx.url, 'SELECT id FROM media ORDER BY id').split('\n').map(Number);
    assert.equal(ids.length, 4);
    for (const id of ids) assert.equal((await waitMedia(ctx.d.url, ctx.admin, id)).status, 'ready', `media ${id}`);
    assert.ok(Number(psql(ctx.url, 'SELECT count(*) FROM media WHERE opus_sha256 IS NOT NULL')) >= 1);
    assert.ok(Number(psql(ctx.url, 'SELECT count(*) FROM media WHERE thumb_sha256 IS NOT NULL')) >= 1);

    // The source as the API serves it; reading originals leaves audit rows.
    const before = await served(ctx.d.url, ctx.admin, ids);
    const entries = psql(ctx.url, 'SELECT id, kind, status, title, body FROM entry ORDER BY id');
    const audit = psql(ctx.url, AUDIT);
    assert.ok(audit.split('\n').length >= 4, 'the original downloads are audited');
    const blobs = psql(ctx.url, 'SELECT sha256 FROM blob ORDER BY sha256').split('\n');

    // Backed up while the daemon runs.
    const bdir = path.join(dir, 'bk');
    let r = vctl(ctx.url, ctx.d.dataDir, 'backup', bdir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`database dump and ${blobs.length} blobs`));
    // The manifest is sha256sum's own format.
    const check = spawnSync('sha256sum', ['-c', '--strict', '--quiet', 'MANIFEST'], { cwd: bdir, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const listed = readFileSync(path.join(bdir, 'MANIFEST'), 'utf8').split('\n').filter((l) => /^[0-9a-f]{64} {2}blobs\//.test(l));
    assert.deepEqual(listed.map((l) => l.slice(0, 64)).sort(), blobs);
    // A second backup into the same directory is refused.
    r = vctl(ctx.url, ctx.d.dataDir, 'backup', bdir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is not empty/);

    // restore refuses a database or data directory that is not empty.
    const url2 = freshDatabase();
    const data2 = path.join(tmpdir('restored'), 'data');
    r = vctl(ctx.url, data2, 'restore', bdir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /database t_[0-9a-f]+ is not empty .*restore needs a new, empty database/);
    r = vctl(url2, ctx.d.dataDir, 'restore', bdir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /data directory .* is not empty \(blobs\/ holds files\)/);
    assert.equal(psql(url2, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), '0', 'nothing written on refusal');

    // Into the empty pair.
    r = vctl(url2, data2, 'restore', bdir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${blobs.length} files checked by SHA-256`));
    assert.equal(psql(url2, AUDIT), audit, 'the audit trail is the same, row for row');
    assert.equal(psql(url2, 'SELECT id, kind, status, title, body FROM entry ORDER BY id'), entries);
    assert.equal(vctl(url2, data2, 'fsck').status, 0, 'the restored pair is consistent');

    // A daemon on the restored pair serves the same entries and bytes.
    await ctx.d.stop();
    d2 = await startDaemon({ databaseUrl: url2, dataDir: data2 });
    const res = await fetch(`${d2.url}/api/v1/entries/${a.entry}`, { headers: { Authorization: `Bearer ${ctx.worker}` } });
    assert.equal(res.status, 200, 'the old tokens still work');
    for (const e of [a, b, c]) {
      const g = await fetch(`${d2.url}/api/v1/entries/${e.entry}`, { headers: { Authorization: `Bearer ${ctx.admin}` } });
      assert.equal(g.status, 200);
      assert.ok((await g.json()).media.some((m) => m.id === e.media));
    }
    const after = await served(d2.url, ctx.admin, ids);
    assert.deepEqual(after, before);
    // Every file (not the JSON "self" description, equal too) is a blob of the backup.
    const files = Object.entries(after).filter(([k]) => !k.endsWith(' self'));
    assert.ok(files.length >= 8, `${files.length} files served`);
    for (const [k, h] of files) assert.ok(blobs.includes(h), `served ${k} ${h} is a backed-up blob`);
  } finally {
    await ctx.d.stop('SIGKILL');
    if (d2) await d2.stop('SIGKILL');
  }
});

test('restore refuses a damaged backup before it touches the database', async () => {
  const ctx = await mediaDaemon({ VERHAAL_MEDIA_RUNNERS: '0' });
  const dir = tmpdir('damaged');
  try {
    const f = path.join(dir, 'n.txt');
    writeFileSync(f, 'Nog een notitie.\n');
    uploadMultipart(ctx.d.url, ctx.worker, f, { type: 'text/plain' });
    const bdir = path.join(dir, 'bk');
    assert.equal(vctl(ctx.url, ctx.d.dataDir, 'backup', bdir).status, 0);
    const h = psql(ctx.url, 'SELECT blob_sha256 FROM media');
    const file = path.join(bdir, 'blobs', h.slice(0, 2), h.slice(2, 4), h);
    writeFileSync(file, 'Nog een notitie?\n');
    const url2 = freshDatabase();
    const data2 = path.join(tmpdir('restored'), 'data');
    const r = vctl(url2, data2, 'restore', bdir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`backup file .*${h} is damaged .*nothing was written to the database`));
    assert.equal(psql(url2, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), '0');
    mkdirSync(data2, { recursive: true });
    assert.deepEqual(readdirSync(path.join(data2, 'blobs')), [], 'the damaged file was not stored');
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});
