// kill -9 during a long transcode, cycles times: the media job is
// reclaimed by the next daemon when its lease lapses and completes once
// (job.completions = 1), and no job.* scratch file is left in the spool.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  setup, startDaemon, psql, tmpdir, sleep, request, FAST, sha256, Ledger, verify, settle,
} from './lib.mjs';
import { multipart, entryPart } from '../e2e/lib/uploads.mjs';

export async function run({ cycles = 2 } = {}) {
  const { cluster, db, token, admin, dataDir } = setup('transcode');
  const env = { ...FAST, VERHAAL_MEDIA_RUNNERS: '1' };
  const ledger = new Ledger();
  const wav = path.join(tmpdir('wav'), 'long.wav');
  // Long enough that the transcode is still running when the kill comes.
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'anoisesrc=d=1200:c=pink:a=0.2', '-ac', '1',
    '-ar', '48000', wav]);
  const data = readFileSync(wav);
  let killedRunning = 0, doneOnce = 0, jobFiles = 0;
  try {
    for (let c = 0; c < cycles; c++) {
      let d = await startDaemon({ databaseUrl: db, dataDir, env });
      const { body, contentType } = multipart([entryPart({ kind: 'visit', title: `long ${c}` }),
        { name: 'f', filename: 'long.wav', type: 'audio/wav', data }]);
      const r = await request(d.url, { method: 'POST', path: '/api/v1/entries', body,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType }, timeout: 60000 });
      if (r.status !== 201) throw new Error(`upload: ${r.status} ${r.text}`);
      const j = JSON.parse(r.text);
      ledger.acked.push({ kind: 'multipart', sha: sha256(data), entry: j.id, media: j.media[0].id });
      const media = j.media[0].id;
      const state = () => psql(db, `SELECT state || ' ' || completions FROM job WHERE media_id = ${media}`);
      // Waits (bounded) until the job runs and has scratch files, then kills.
      for (let i = 0; i < 100 && !(state().startsWith('running') &&
        readdirSync(path.join(dataDir, 'spool')).some((f) => f.startsWith('job.'))); i++) await sleep(100);
      if (state().startsWith('running')) killedRunning++;
      d.proc.kill('SIGKILL');
      await d.exited;
      d = await startDaemon({ databaseUrl: db, dataDir, env });
      try {
        for (let i = 0; i < 240 && !/^(done|failed)/.test(state()); i++) await sleep(500);
        if (state() === 'done 1') doneOnce++;
        // And the sweep takes the killed run's scratch files.
        for (let i = 0; i < 40; i++) {
          jobFiles = readdirSync(path.join(dataDir, 'spool')).filter((f) => f.startsWith('job.')).length;
          if (jobFiles === 0) break;
          await sleep(500);
        }
        if (c === cycles - 1) {
          const v = await verify(d.url, db, admin, ledger);
          const left = await settle(db, dataDir);
          return { fault: 'kill -9 during a transcode', cycles, acknowledged: ledger.acked.length, lost: v.lost,
            corrupted: v.corrupted, leftovers: left.count + jobFiles,
            ok: doneOnce === cycles && killedRunning === cycles,
            notes: `killed while running ${killedRunning}/${cycles}; completed once ${doneOnce}/${cycles}; job.* left ${jobFiles}` };
        }
      } finally {
        await d.stop('SIGKILL');
      }
    }
  } finally {
    cluster.destroy();
  }
  return null;
}
