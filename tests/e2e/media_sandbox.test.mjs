// Media parsers run in confined children: while a child transcodes it runs
// as nobody under seccomp with no_new_privs, holding no database socket,
// and it does not outlive a daemon killed with SIGKILL; a decoder that
// crashes rejects its file and nothing else, while other uploads carry on.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { copyFileSync, writeFileSync, readFileSync, readdirSync, readlinkSync, existsSync, chmodSync, appendFileSync } from 'node:fs';
import path from 'node:path';

const realBuild = process.env.VERHAAL_BUILD ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../build');
let h, m, dir, fake;

// A build directory whose verhaal-media stands in for a decoder that
// crashes on files carrying a marker, and is the real helper otherwise.
before(async () => {
  const os = await import('node:os');
  const fs = await import('node:fs');
  fake = fs.mkdtempSync(path.join(process.env.VERHAAL_TEST_TMP ?? os.tmpdir(), 'sandbox-build-'));
  chmodSync(fake, 0o755);
  process.on('exit', () => fs.rmSync(fake, { recursive: true, force: true }));
  for (const f of ['verhaald', 'verhaalctl']) copyFileSync(path.join(realBuild, f), path.join(fake, f));
  for (const f of ['verhaald', 'verhaalctl']) chmodSync(path.join(fake, f), 0o755);
  writeFileSync(path.join(fake, 'verhaal-media'), `#!/bin/sh
if [ "$1" = media ] && grep -q CRASHME <&5; then kill -SEGV $$; fi
exec ${path.join(realBuild, 'verhaal-media')} "$@"
`, { mode: 0o755 });
  process.env.VERHAAL_BUILD = fake;
  h = await import('./lib/harness.mjs');
  m = await import('./lib/media.mjs');
  dir = h.tmpdir('sandbox');
  execSync('ffmpeg -v error -y -f lavfi -i "sine=f=220:d=60,volume=0.3" -f lavfi -i "anoisesrc=d=60:a=0.05" ' +
    '-filter_complex amix=inputs=2 -ar 48000 -ac 1 -c:a libmp3lame -b:a 48k long.mp3', { cwd: dir });
  execSync('ffmpeg -v error -y -f lavfi -i "sine=f=440:d=2" -ar 48000 -ac 1 short.wav', { cwd: dir });
  execSync('ffmpeg -v error -y -f lavfi -i testsrc=size=640x480 -frames:v 1 photo.jpg', { cwd: dir });
  // Still a JPEG to libmagic and libvips: the marker follows the image.
  copyFileSync(path.join(dir, 'photo.jpg'), path.join(dir, 'crash.jpg'));
  appendFileSync(path.join(dir, 'crash.jpg'), 'CRASHME');
});

// Children of every thread of pid.
function children(pid) {
  const out = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const s = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
    if (s) out.push(...s.split(/\s+/).map(Number));
  }
  return out;
}

function alive(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(st);
  } catch { return false; }
}

const field = (status, name) => (status.match(new RegExp(`^${name}:\\s*(.*)$`, 'm')) ?? [])[1];

test('a transcoding child is confined and dies with a daemon killed by SIGKILL', async () => {
  const ctx = await m.mediaDaemon({ VERHAAL_MEDIA_RUNNERS: '1' });
  try {
    await diesWithDaemon(ctx);
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

async function diesWithDaemon(ctx) {
  const { media } = m.uploadMultipart(ctx.d.url, ctx.worker, path.join(dir, 'long.mp3'));
  // The daemon starts no other processes than its media children; the
  // transcoding one comes after a short-lived classifier.
  const cmdline = (p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return 'classify'; } };
  let kids = [];
  await h.waitFor(() => {
    kids = children(ctx.d.proc.pid).filter((p) => !/classify/.test(cmdline(p)));
    return kids.length > 0;
  }, { timeout: 20000, interval: 20 });
  const kid = kids[0];
  // The child confines itself right after it starts; on a loaded machine
  // that can take a while, so wait for it (up to 10 s) instead of a fixed
  // pause. A child that never loads its filter still fails below.
  const statusOf = () => { try { return readFileSync(`/proc/${kid}/status`, 'utf8'); } catch { return ''; } };
  await h.waitFor(() => field(statusOf(), 'Seccomp') === '2' || !alive(kid),
    { timeout: 10000, interval: 20 }).catch(() => {});
  assert.ok(alive(kid), 'the audio child runs');
  const status = statusOf();
  const fds = readdirSync(`/proc/${kid}/fd`).map(Number).sort((a, b) => a - b);
  const links = Object.fromEntries(fds.map((fd) => [fd, readlinkSync(`/proc/${kid}/fd/${fd}`)]));
  const sameNet = readlinkSync(`/proc/${kid}/ns/net`) === readlinkSync(`/proc/${ctx.d.proc.pid}/ns/net`);

  assert.equal(await ctx.d.stop('SIGKILL'), 'SIGKILL');
  await new Promise((r) => setTimeout(r, 1000));
  for (const p of kids) assert.ok(!alive(p), `child ${p} survived the daemon`);

  assert.equal(field(status, 'Seccomp'), '2', 'a seccomp filter is loaded');
  assert.equal(field(status, 'NoNewPrivs'), '1');
  assert.ok(!/^0\b/.test(field(status, 'Uid')), `not root: Uid ${field(status, 'Uid')}`);
  // Its descriptors: /dev/null, the reply pipe, the input and the five
  // renditions it may write; none is a socket (the daemon's PostgreSQL
  // connections and listener stay behind).
  assert.deepEqual(fds, [0, 1, 2, 3, 5, 6, 7, 8, 9, 10], JSON.stringify(links));
  for (const fd of fds) assert.doesNotMatch(links[fd], /socket:/);
  assert.doesNotMatch(links[5], /\/blobs\//, 'it reads a spool copy, not the store');
  if (sameNet)
    console.log('# the kernel refused namespaces: the child shares the network namespace');
  assert.equal(h.psql(ctx.url, `SELECT status FROM media WHERE id = ${media}`), 'processing');
}

test('a decoder that crashes rejects its file; the daemon and other uploads carry on', async () => {
  const ctx = await m.mediaDaemon({ VERHAAL_MEDIA_RUNNERS: '2' });
  try {
    await crashRejects(ctx);
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});

async function crashRejects(ctx) {
  const ids = {};
  for (const f of ['crash.jpg', 'photo.jpg', 'short.wav'])
    ids[f] = m.uploadMultipart(ctx.d.url, ctx.worker, path.join(dir, f)).media;
  const bad = await m.waitMedia(ctx.d.url, ctx.worker, ids['crash.jpg']);
  assert.equal(bad.status, 'rejected');
  assert.match(bad.reason, /decoder crashed \(signal 11\)/);
  assert.deepEqual(Object.keys(bad.links), ['self']);
  assert.equal((await fetch(`${ctx.d.url}/healthz`)).status, 200);
  const photo = await m.waitMedia(ctx.d.url, ctx.worker, ids['photo.jpg']);
  assert.equal(photo.status, 'ready', photo.reason);
  assert.equal(photo.family, 'image');
  const audio = await m.waitMedia(ctx.d.url, ctx.worker, ids['short.wav']);
  assert.equal(audio.status, 'ready', audio.reason);
  assert.ok(Math.abs(audio.duration_ms - 2000) < 100);
  // Each job completed once, on its first attempt: a crash is an answer.
  assert.equal(h.psql(ctx.url, "SELECT count(*) FROM job WHERE state = 'done' AND completions = 1 AND attempts = 1"), '3');
  const sha = h.psql(ctx.url, `SELECT blob_sha256 FROM media WHERE id = ${ids['crash.jpg']}`);
  assert.ok(existsSync(path.join(ctx.d.dataDir, 'quarantine', sha)), 'quarantined');
  assert.equal(await ctx.d.stop(), 0);
}
