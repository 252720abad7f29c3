// kill -9 under mixed multipart and tus load, cycles times: after each
// kill a new daemon resumes the unfinished tus uploads from HEAD; at the
// end every acknowledged upload is downloaded and hashed, and the data
// directory is checked for files no row names.
import {
  setup, startDaemon, Ledger, multipartUpload, tusUpload, resumeAll, verify, settle, leftovers, sleep, FAST, MiB,
} from './lib.mjs';

export async function run({ cycles = 10 } = {}) {
  const { cluster, db, token, admin, dataDir } = setup('kill9');
  const ledger = new Ledger();
  try {
    for (let c = 0; c < cycles; c++) {
      const d = await startDaemon({ databaseUrl: db, dataDir, env: FAST });
      const load = [];
      load.push(resumeAll(d.url, token, ledger));
      for (let i = 0; i < 4; i++) {
        const pace = { piece: 64 * 1024, pause: 5 + 10 * i };
        load.push(multipartUpload(d.url, token, ledger, { size: (1 + i) * MiB / 2 + c, pace }));
        load.push(tusUpload(d.url, token, ledger, { size: (1 + i) * MiB + c, chunk: 512 * 1024, pace }));
      }
      await sleep(300 + ((c * 137) % 700));
      d.proc.kill('SIGKILL');
      await Promise.race([Promise.all(load), sleep(20000)]);
      await d.exited;
    }
    const litter = leftovers(db, dataDir).count;	// what the kills left
    const d = await startDaemon({ databaseUrl: db, dataDir, env: FAST });
    try {
      await resumeAll(d.url, token, ledger);
      const { lost, corrupted } = await verify(d.url, db, admin, ledger);
      const left = await settle(db, dataDir);
      return { fault: 'kill -9 under load', cycles, acknowledged: ledger.acked.length, lost, corrupted,
        leftovers: left.count, ok: ledger.pending.length === 0 && ledger.badAnswers === 0, notes: `litter after the kills ${litter}, swept; unfinished ${ledger.pending.length}; bad 503s ${ledger.badAnswers}${left.count ? '; ' + left.files.slice(0, 3).join(' ') : ''}` };
    } finally {
      await d.stop('SIGKILL');
    }
  } finally {
    cluster.destroy();
  }
}
