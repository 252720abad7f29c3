// Two daemons on one database and data directory; a client that stalls
// on one and retries on the other, cycles times: it sends all but the
// tail of a PATCH to A and goes quiet, asks B for the offset and PATCHes
// there (B must refuse with 423 while A holds the upload, or continue
// from a saved offset), then either finishes A's body or drops it, and
// completes the upload from HEAD on either daemon. Every acknowledged
// upload is downloaded and must be byte-identical.
import net from 'node:net';
import {
  setup, startDaemon, Ledger, tusUpload, verify, settle, request, sleep, FAST, MiB, randomFile, sha256,
} from './lib.mjs';
import { tusHeaders } from '../e2e/lib/uploads.mjs';

function rawPatch(base, p, token, offset, length) {
  const u = new URL(base);
  const sock = net.connect({ host: u.hostname, port: Number(u.port) });
  let answer = '';
  const done = new Promise((resolve) => {
    sock.on('data', (d) => { answer += d; });
    sock.on('close', () => resolve(answer));
    sock.on('error', () => resolve(answer));
  });
  const h = tusHeaders(token, { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream',
    'Content-Length': String(length), Host: 'x', Connection: 'close' });
  sock.write(`PATCH ${p} HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
  return { sock, done, write: (b) => new Promise((r) => sock.write(b, r)) };
}

export async function run({ cycles = 10 } = {}) {
  const { cluster, db, token, admin, dataDir } = setup('two');
  const ledger = new Ledger();
  const A = await startDaemon({ databaseUrl: db, dataDir, env: FAST });
  const B = await startDaemon({ databaseUrl: db, dataDir, env: FAST });
  let refused = 0, ackedByA = 0;
  try {
    for (let c = 0; c < cycles; c++) {
      const L = MiB + c * 4099;
      const data = randomFile(L);
      const meta = `kind ${Buffer.from('story').toString('base64')}`;
      const cr = await request(A.url, { method: 'POST', path: '/api/v1/uploads',
        headers: tusHeaders(token, { 'Upload-Length': String(L), 'Upload-Metadata': meta }) });
      if (cr.status !== 201) throw new Error(`creation: ${cr.status} ${cr.text}`);
      const p = new URL(cr.headers.location, A.url).pathname;
      const job = { path: p, data };
      ledger.pending.push(job);
      const first = c % 3 === 0 ? 0 : 1000;
      if (first) await request(A.url, { method: 'PATCH', path: p, body: data.subarray(0, first),
        headers: tusHeaders(token, { 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }) });
      // A gets all but the last bytes, then the client stalls.
      const a = rawPatch(A.url, p, token, first, L - first);
      await a.write(data.subarray(first, L - 1));
      await sleep(200);
      // It retries on B from the offset B reports.
      const h = await request(B.url, { method: 'HEAD', path: p, headers: tusHeaders(token) });
      const off = Number(h.headers['upload-offset']);
      const b = await request(B.url, { method: 'PATCH', path: p, body: data.subarray(off, L),
        headers: tusHeaders(token, { 'Upload-Offset': String(off), 'Content-Type': 'application/offset+octet-stream' }),
        timeout: 8000 });
      ledger.note(b);
      if (b.status === 423) refused++;
      if (b.status === 204 && Number(b.headers['upload-offset']) === L) {
        ledger.pending = ledger.pending.filter((j) => j !== job);
        ledger.acked.push({ kind: 'tus', sha: sha256(data), entry: Number(b.headers['upload-entry']) });
      }
      // A's client wakes up: sends its last byte, or gives up.
      if (c % 2 === 0) await a.write(data.subarray(L - 1)); else a.sock.destroy();
      const ans = await Promise.race([a.done, sleep(8000).then(() => '')]);
      a.sock.destroy();
      const m = /^HTTP\/1\.1 (\d+)[\s\S]*?upload-offset: (\d+)[\s\S]*?(?:upload-entry: (\d+))?/i.exec(ans);
      if (m && m[1] === '204' && Number(m[2]) === L && /upload-entry: (\d+)/i.test(ans)) {
        ackedByA++;
        const entry = Number(/upload-entry: (\d+)/i.exec(ans)[1]);
        if (ledger.pending.includes(job)) {
          ledger.pending = ledger.pending.filter((j) => j !== job);
          ledger.acked.push({ kind: 'tus', sha: sha256(data), entry });
        } else if (!ledger.acked.some((x) => x.entry === entry)) {
          ledger.acked.push({ kind: 'tus', sha: sha256(data), entry });	// a second entry would be a fault
        }
      }
      // Whatever is left: from HEAD, on either daemon.
      if (ledger.pending.includes(job))
        await tusUpload(c % 2 ? A.url : B.url, token, ledger, { job, chunk: 4 * MiB, tries: 30 });
    }
    const entries = Number((await import('./lib.mjs')).psql(db, "SELECT count(*) FROM entry"));
    const { lost, corrupted } = await verify(A.url, db, admin, ledger);
    const left = await settle(db, dataDir);
    return { fault: 'two daemons, stall and retry', cycles, acknowledged: ledger.acked.length, lost, corrupted,
      leftovers: left.count, ok: entries === cycles && ledger.pending.length === 0 && ledger.badAnswers === 0,
      notes: `entries ${entries}/${cycles}; B refused 423 ${refused}x; A acknowledged ${ackedByA}x; unfinished ${ledger.pending.length}` };
  } finally {
    await A.stop('SIGKILL');
    await B.stop('SIGKILL');
    cluster.destroy();
  }
}
