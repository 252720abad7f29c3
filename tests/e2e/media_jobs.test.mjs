// Media jobs as a queue: a runner killed mid-transcode leaves its job to be
// claimed again and the job completes exactly once; a runner that lost its
// lease cannot complete; failing jobs retry and then fail with a reason;
// verhaald --jobs-only runs runners without HTTP.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execSync, spawn } from 'node:child_process';
import { unlinkSync } from 'node:fs';
import path from 'node:path';
import { tmpdir, startDaemon, top, build } from './lib/harness.mjs';
import { mediaDaemon, uploadMultipart, waitMedia, psql, waitFor } from './lib/media.mjs';

const dir = tmpdir('jobs');

before(() => {
  // Long enough that the job is still running when the daemon is killed.
  execSync('ffmpeg -v error -y -f lavfi -i "sine=f=220:d=45,volume=0.3" -f lavfi -i "anoisesrc=d=45:a=0.05" ' +
    '-filter_complex amix=inputs=2 -ar 48000 -ac 1 -c:a libmp3lame -b:a 48k long.mp3', { cwd: dir });
  execSync('ffmpeg -v error -y -f lavfi -i "sine=f=440:d=3" -ar 48000 -ac 1 short.wav', { cwd: dir });
});

const jobRow = (url, media) => psql(url, `SELECT state || ' ' || attempts || ' ' || completions FROM job WHERE media_id = ${media}`);

test('a daemon killed mid-transcode: the job is claimed again and completes exactly once', async () => {
  const env = { VERHAAL_JOB_LEASE: '2s', VERHAAL_MEDIA_RUNNERS: '1' };
  const ctx = await mediaDaemon(env);
  const { media } = uploadMultipart(ctx.d.url, ctx.worker, path.join(dir, 'long.mp3'));
  await waitFor(() => jobRow(ctx.url, media) === 'running 1 0', { timeout: 10000, interval: 50 });
  const holder = psql(ctx.url, `SELECT locked_by FROM job WHERE media_id = ${media}`);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await ctx.d.stop('SIGKILL'), 'SIGKILL');
  assert.equal(psql(ctx.url, `SELECT status FROM media WHERE id = ${media}`), 'processing');

  const d2 = await startDaemon({ databaseUrl: ctx.url,
    env: { ...env, VERHAAL_LOG_LEVEL: 'info', VERHAAL_DATA_DIR: ctx.d.dataDir } });
  try {
    const m = await waitMedia(d2.url, ctx.worker, media, 120000);
    assert.equal(m.status, 'ready', m.reason);
    assert.ok(Math.abs(m.duration_ms - 45000) < 450, `duration ${m.duration_ms}`);
    // One completion, two attempts, by a runner of the second process.
    assert.equal(jobRow(ctx.url, media), 'done 2 1');
    assert.equal(m.job.attempts, 2);
    assert.match(d2.log(), new RegExp(`job \\d+ \\(media ${media}\\) attempt 2`));
    assert.doesNotMatch(d2.log(), new RegExp(holder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal(psql(ctx.url, `SELECT count(*) FROM media WHERE id = ${media} AND processed_at IS NOT NULL`), '1');
    assert.equal(await d2.stop(), 0);
  } finally {
    await d2.stop('SIGKILL');
  }
});

test('a runner that lost its lease cannot complete the job', async () => {
  const ctx = await mediaDaemon({ VERHAAL_MEDIA_RUNNERS: '1' });
  const { media } = uploadMultipart(ctx.d.url, ctx.worker, path.join(dir, 'long.mp3'));
  await waitFor(() => jobRow(ctx.url, media) === 'running 1 0', { timeout: 10000, interval: 50 });
  // Another process "takes over" the job, as after a lapsed lease.
  psql(ctx.url, `UPDATE job SET locked_by = 'elsewhere:1:00000000/0', lease_until = now() + interval '1 hour'` +
    ` WHERE media_id = ${media}`);
  await waitFor(() => /lease lost; another runner has it, result dropped/.test(ctx.d.log()), { timeout: 120000 });
  assert.equal(jobRow(ctx.url, media), 'running 1 0');
  assert.equal(psql(ctx.url, `SELECT status || ' ' || (opus_sha256 IS NULL) FROM media WHERE id = ${media}`),
    'processing true');
  assert.equal(await ctx.d.stop(), 0);
});

test('failing jobs retry with backoff, then fail with their reason; --jobs-only runs them', async () => {
  // An HTTP-only daemon takes the uploads...
  const ctx = await mediaDaemon({ VERHAAL_MEDIA_RUNNERS: '0' });
  const good = uploadMultipart(ctx.d.url, ctx.worker, path.join(dir, 'short.wav')).media;
  const bad = uploadMultipart(ctx.d.url, ctx.worker, path.join(dir, 'long.mp3')).media;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(jobRow(ctx.url, good), 'queued 0 0');
  // ...one of whose blobs then goes missing from the store.
  const sha = psql(ctx.url, `SELECT blob_sha256 FROM media WHERE id = ${bad}`);
  unlinkSync(path.join(ctx.d.dataDir, 'blobs', sha.slice(0, 2), sha.slice(2, 4), sha));

  // A runner-only process on "another machine" does the work.
  const p = spawn(path.join(build, 'verhaald'), ['--jobs-only', '-c', path.join(top, 'config/verhaald.conf')], {
    env: { ...process.env, VERHAAL_DATABASE_URL: ctx.url, VERHAAL_DATA_DIR: ctx.d.dataDir,
      VERHAAL_MEDIA_RUNNERS: '1', VERHAAL_JOB_MAX_ATTEMPTS: '3', VERHAAL_JOB_RETRY_DELAY: '200ms' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  p.stderr.on('data', (c) => { log += c; });
  const exited = new Promise((r) => p.on('exit', (code) => r(code)));
  try {
    await waitFor(() => jobRow(ctx.url, bad) === 'failed 3 0', { timeout: 30000 });
    assert.match(log, /running media jobs only/);
    assert.doesNotMatch(log, /listening on/);
    const m = await waitMedia(ctx.d.url, ctx.worker, bad);
    assert.equal(m.status, 'rejected');
    assert.match(m.reason, /processing failed after 3 attempts: (original|blob) [0-9a-f]{64}: /);
    assert.equal(m.job.state, 'failed');
    // Backoff: the waits between attempts grew (200 ms, then 400 ms).
    const times = [...log.matchAll(/(\S+) info .* job \d+ \(media \d+\) attempt \d/g)]
      .filter((x) => x[0].includes(`(media ${bad})`)).map((x) => Date.parse(x[1]));
    assert.equal(times.length, 3);
    assert.ok(times[2] - times[1] > times[1] - times[0], `attempts at ${times}`);
    assert.ok(times[1] - times[0] >= 200);
    // The good file went through the same runner.
    assert.equal((await waitMedia(ctx.d.url, ctx.worker, good)).status, 'ready');
    p.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    p.kill('SIGKILL');
    await ctx.d.stop('SIGKILL');
  }
});
