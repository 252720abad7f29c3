// The data directory on a small file system (a loop-mounted ext4 image
// under the build directory; a tmpfs with size= where loop devices are
// unavailable), filled to the brim: uploads that cannot fit get 507
// before their body is read, /readyz says not ready, and once space is
// freed both recover; acknowledged uploads stay intact.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { build } from '../e2e/lib/harness.mjs';
import {
  setup, startDaemon, Ledger, multipartUpload, tusUpload, verify, settle, request, sleep, FAST, MiB,
} from './lib.mjs';

const sh = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function mountSmall(dir) {
  const img = path.join(build, 'faults-disk.img');
  mkdirSync(dir, { recursive: true });
  try {
    sh('truncate', ['-s', '96M', img]);
    const dev = sh('losetup', ['-f', '--show', img]);
    sh('mkfs.ext4', ['-q', '-F', '-m', '0', dev]);
    sh('mount', [dev, dir]);
    return { kind: 'loop ext4 96M', undo: () => { sh('umount', [dir]); sh('losetup', ['-d', dev]); rmSync(img, { force: true }); } };
  } catch (e) {
    sh('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', dir]);
    return { kind: 'tmpfs 96M', undo: () => sh('umount', [dir]) };
  }
}

// Fills the file system to the last block.
function fill(file) {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(MiB, 7);
  try {
    for (let i = 0; i < 1000; i++) writeSync(fd, block);
  } catch { /* ENOSPC: full */ }
  try { for (let i = 0; i < 4096; i++) writeSync(fd, block.subarray(0, 4096)); } catch { /* the brim */ }
  closeSync(fd);
}

export async function run({ cycles = 3 } = {}) {
  const { cluster, db, token, admin } = setup('disk');
  const mnt = path.join(build, 'faults-mnt');
  const m = mountSmall(mnt);
  const dataDir = path.join(mnt, 'data');
  const ledger = new Ledger();
  let refused507 = 0, notReady = 0, recovered = 0, other = 0;
  const d = await startDaemon({ databaseUrl: db, dataDir, env: { ...FAST, VERHAAL_MIN_FREE_SPACE: '8M' } });
  try {
    for (let c = 0; c < cycles; c++) {
      const filler = path.join(mnt, `filler-${c}`);
      fill(filler);
      const t = await tusUpload(d.url, token, ledger, { size: 2 * MiB, tries: 1 });
      const mp = await multipartUpload(d.url, token, ledger, { size: 2 * MiB, pace: {} });
      for (const r of [t, mp]) if (r.status === 507) refused507++; else other++;
      const ready = await request(d.url, { path: '/readyz' });
      if (ready.status === 503) notReady++;
      rmSync(filler);
      await sleep(200);
      const ok = await request(d.url, { path: '/readyz' });
      const t2 = await tusUpload(d.url, token, ledger, { size: MiB + c, tries: 4 });
      const mp2 = await multipartUpload(d.url, token, ledger, { size: MiB + c, pace: {} });
      if (ok.status === 200 && mp2.status === 201 && ledger.pending.length === 0) recovered++;
      void t2;
    }
    const { lost, corrupted } = await verify(d.url, db, admin, ledger);
    const left = await settle(db, dataDir);
    return { fault: `disk full (${m.kind})`, cycles, acknowledged: ledger.acked.length, lost, corrupted,
      leftovers: left.count,
      ok: refused507 === 2 * cycles && notReady === cycles && recovered === cycles && ledger.badAnswers === 0,
      notes: `507 ${refused507}/${2 * cycles}, other answers when full ${other}; readyz not ready ${notReady}/${cycles}; recovered ${recovered}/${cycles}; bad 503s ${ledger.badAnswers}` };
  } finally {
    await d.stop('SIGKILL');
    cluster.destroy();
    try { m.undo(); } catch (e) { console.error(`unmount: ${e.message}`); }
  }
}
