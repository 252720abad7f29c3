// A tus client sends its next PATCH the moment the previous one's 204
// arrives, as tus-js-client does with a chunkSize. Under load such a
// PATCH once got 423: a sandbox child, forked while the previous request
// still had the partial file open, held a copy of the file's lock until
// its exec (and a client that went on at its own offset then met 409).
// And a burst of PATCHes must not keep its database connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setup, CONSENT } from './lib/consent.mjs';
import { psql } from './lib/harness.mjs';
import { spawn } from 'node:child_process';
import path from 'node:path';

const b64 = (s) => Buffer.from(s).toString('base64');

async function chained(ctx, data, chunk) {
  const md = `filename ${b64('x.txt')},filetype ${b64('text/plain')},consent ${b64(JSON.stringify(CONSENT()))}`;
  const created = await fetch(`${ctx.d.url}/api/v1/collections/buurt/uploads?key=${encodeURIComponent(ctx.key)}`, {
    method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(data.length), 'Upload-Metadata': md },
  });
  assert.equal(created.status, 201);
  const loc = new URL(created.headers.get('location'), ctx.d.url).href;
  let off = 0;
  const seen = [];
  while (off < data.length) {
    const r = await fetch(loc, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(off), 'Content-Type': 'application/offset+octet-stream', 'X-Upload-Key': ctx.key },
      body: data.subarray(off, off + chunk),
    });
    const text = await r.text();
    seen.push(r.status);
    assert.equal(r.status, 204, `PATCH at ${off} of ${data.length}: ${r.status} ${text}`);
    off = Number(r.headers.get('upload-offset'));
  }
  return seen;
}

// A PATCH's own connection (it holds the upload's lock) is the one whose
// last statement released that lock.
const idlePatchConns = (url) => Number(psql(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle' AND query = 'SELECT pg_advisory_unlock_all()'"));

const patchConns = (url) => Number(psql(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (query LIKE 'SELECT pg_%advisory%' OR query LIKE 'UPDATE upload SET \"offset\"%')"));

test('PATCHes sent back to back each continue where the last 204 said, 24 uploads at once; the burst\'s connections are given back', async () => {
  // The reaper runs as often as litter may go: every second here.
  const ctx = await setup({ VERHAAL_LITTER_AGE: '1s' });
  try {
    // While the burst runs, more than 4 PATCH connections are open at
    // once (each PATCH holds the upload's lock on one of its own).
    let peak = 0;
    let running = true;
    const sampler = (async () => {
      while (running) {
        peak = Math.max(peak, patchConns(ctx.url));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const jobs = [];
    for (let i = 0; i < 24; i++) jobs.push(chained(ctx, randomBytes(64 * 1024 + 1 + i), 4096));
    const all = await Promise.all(jobs).finally(() => { running = false; });
    await sampler;
    assert.ok(all.every((s) => s.length === 17), 'every upload took 17 PATCHes');
    assert.ok(peak > 4, `the burst had more than 4 PATCH connections open (${peak})`);
    const after = idlePatchConns(ctx.url);
    let now = after;
    for (let i = 0; i < 40 && now > 4; i++) {
      await new Promise((r) => setTimeout(r, 250));
      now = idlePatchConns(ctx.url);
    }
    assert.ok(now <= 4, `at most 4 idle PATCH connections stay after quiet rounds, not ${now}`);
  } finally {
    await ctx.d.stop();
  }
});

// Another holder of the partial file's lock, as a sandbox child forked
// while the previous request had the file open is until its exec.
function holdLock(file, seconds) {
  const py = `import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack('hhqqi4x', fcntl.F_WRLCK, 0, 0, 0, 0))
print('locked', flush=True)
time.sleep(float(sys.argv[2]))`;
  const p = spawn('python3', ['-c', py, file, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    p.stdout.once('data', () => resolve(p));
    p.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
}

test('a PATCH waits for a copy of the file lock that lets go within a second, and gets 423 past that', async () => {
  const ctx = await setup();
  try {
    const md = `filename ${b64('x.txt')},filetype ${b64('text/plain')},consent ${b64(JSON.stringify(CONSENT()))}`;
    const hdr = { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'X-Upload-Key': ctx.key };
    const open = async () => {
      const c = await fetch(`${ctx.d.url}/api/v1/collections/buurt/uploads?key=${encodeURIComponent(ctx.key)}`, {
        method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '64', 'Upload-Metadata': md },
      });
      assert.equal(c.status, 201);
      const loc = new URL(c.headers.get('location'), ctx.d.url).href;
      const id = loc.split('/').pop();
      const spool = psql(ctx.url, `SELECT spool_name FROM upload WHERE id = '${id}'`);
      return { loc, file: path.join(ctx.d.dataDir, 'spool', spool) };
    };

    let u = await open();
    let holder = await holdLock(u.file, 0.3);
    let r = await fetch(u.loc, { method: 'PATCH', headers: hdr, body: randomBytes(32) });
    assert.equal(r.status, 204, `a lock let go after 0.3 s: ${r.status} ${await r.text()}`);
    assert.equal(r.headers.get('upload-offset'), '32');
    holder.kill();

    u = await open();
    holder = await holdLock(u.file, 5);
    const t0 = Date.now();
    r = await fetch(u.loc, { method: 'PATCH', headers: hdr, body: randomBytes(32) });
    assert.equal(r.status, 423, 'a lock held on is 423');
    assert.equal(r.headers.get('retry-after'), '1');
    assert.ok(Date.now() - t0 >= 900, 'after waiting about a second');
    holder.kill();
  } finally {
    await ctx.d.stop();
  }
});
