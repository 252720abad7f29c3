// PostgreSQL goes away under load: first stopped cleanly, then its
// postmaster killed with SIGKILL. Throughout, every refusal is a 503 with
// Retry-After; when the database is back the same daemon serves again
// (no restart); every acknowledged upload is intact and, after the sweep,
// no file is left that no row names.
import { readFileSync, existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import {
  setup, startDaemon, psql, Ledger, multipartUpload, tusUpload, resumeAll, verify, settle, sleep, request, FAST, MiB,
} from './lib.mjs';

function postmasterPid(cluster) {
  const f = path.join(cluster.dir, 'pgdata', 'postmaster.pid');
  return existsSync(f) ? Number(readFileSync(f, 'utf8').split('\n')[0]) : 0;
}

// Starts the cluster again; after a SIGKILL its old backends may hold
// the shared memory for a moment, so a few tries (bounded), each checked
// by a query.
async function restart(cluster) {
  let why = '';
  for (let i = 0; i < 30; i++) {
    try {
      cluster.start();
      psql(cluster.url, 'SELECT 1');
      return;
    } catch (e) { why = String(e.stderr ?? e.message); await sleep(500); }
  }
  const log = path.join(path.dirname(realpathSync(path.join(cluster.dir, 'pgdata'))), 'postgres.log');
  throw new Error(`PostgreSQL did not start again: ${why}\n${readFileSync(log, 'utf8').slice(-1500)}`);
}

async function load(d, token, ledger, until) {
  let n = 0;
  while (Date.now() < until && n < 200) {
    n++;
    await Promise.all([
      multipartUpload(d.url, token, ledger, { size: 300 * 1024 + n, pace: { piece: 64 * 1024, pause: 5 } }),
      tusUpload(d.url, token, ledger, { size: 700 * 1024 + n, chunk: 256 * 1024, tries: 4 }),
      request(d.url, { path: '/readyz' }).then((r) => ledger.note(r)),
    ]);
  }
}

export async function run({ cycles = 4 } = {}) {
  const { cluster, db, token, admin, dataDir } = setup('pgdown');
  const ledger = new Ledger();
  const d = await startDaemon({ databaseUrl: db, dataDir, env: { ...FAST, VERHAAL_DB_TIMEOUT: '1s' } });
  let recovered = 0;
  try {
    for (let c = 0; c < cycles; c++) {
      const running = load(d, token, ledger, Date.now() + 4000);
      await sleep(800);
      if (c % 2 === 0) cluster.stop();
      else process.kill(postmasterPid(cluster), 'SIGKILL');
      await sleep(1500);
      await restart(cluster);
      await running;
      // Served again by the same daemon, within a bounded wait.
      for (let i = 0; i < 40; i++) {
        const r = await multipartUpload(d.url, token, ledger, { size: 1000 + i, pace: {} });
        if (r.status === 201) { recovered++; break; }
        await sleep(250);
      }
    }
    await resumeAll(d.url, token, ledger);
    const { lost, corrupted } = await verify(d.url, db, admin, ledger);
    const left = await settle(db, dataDir);
    const answers = Object.entries(ledger.answers).map(([k, v]) => `${k}:${v}`).join(' ');
    return { fault: 'PostgreSQL stopped / postmaster killed', cycles, acknowledged: ledger.acked.length, lost, corrupted,
      leftovers: left.count, ok: recovered === cycles && ledger.badAnswers === 0,
      notes: `recovered ${recovered}/${cycles} without restart; bad 503s ${ledger.badAnswers}; answers ${answers}${left.count ? '; ' + left.files.slice(0, 3).join(' ') : ''}` };
  } finally {
    await d.stop('SIGKILL');
    cluster.destroy();
  }
}
