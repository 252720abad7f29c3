// Shared parts of the fault suite (make check-faults): a private
// PostgreSQL cluster per fault, an upload load of multipart and tus
// requests whose acknowledged uploads are remembered, and the checks run
// after each fault: every acknowledged upload downloaded back and hashed,
// and the data directory holding only what rows name. Every loop here is
// bounded in count and in time.
import http from 'node:http';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Cluster, ctl, psql, startDaemon, tmpdir } from '../e2e/lib/harness.mjs';
import {
  multipart, entryPart, tusHeaders, sha256, randomFile, filesUnder, MiB,
} from '../e2e/lib/uploads.mjs';

export { MiB, sha256, randomFile, startDaemon, psql, tmpdir };
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Settings that make the sweep and the job lease quick enough to watch.
export const FAST = {
  VERHAAL_LITTER_AGE: '2s',
  VERHAAL_JOB_LEASE: '3s',
  VERHAAL_BODY_TIMEOUT: '3s',
  VERHAAL_LOG_LEVEL: 'info',
  VERHAAL_MAX_CONNECTIONS_PER_ADDRESS: '0',
};

function lastLine(out) {
  return out.split('\n').map((l) => l.trim()).filter(Boolean).pop();
}

// A cluster, a migrated database and credentials.
export function setup(name) {
  const cluster = new Cluster().init().start();
  const db = cluster.url;
  ctl(db, 'migrate');
  const token = lastLine(ctl(db, 'token', 'create', '--user', `${name}-fw`, '--role', 'fieldworker'));
  const admin = lastLine(ctl(db, 'token', 'create', '--user', `${name}-admin`, '--role', 'admin'));
  return { cluster, db, token, admin, dataDir: path.join(tmpdir(`fault-${name}`), 'data') };
}

// One HTTP request with a timeout; resolves {status, headers, text} or
// {status: 0, error} when the connection fails.
export function request(base, { method = 'GET', path: p, headers = {}, body, piece = 0, pause = 0, timeout = 20000 }) {
  return new Promise((resolve) => {
    const u = new URL(base);
    const h = { ...headers };
    if (body) h['Content-Length'] = body.length;
    const req = http.request({ host: u.hostname, port: u.port, method, path: p, agent: false, headers: h }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks),
        text: Buffer.concat(chunks).toString() }));
      res.on('error', (e) => resolve({ status: 0, error: e.code ?? e.message }));
    });
    const timer = setTimeout(() => req.destroy(new Error('timeout')), timeout);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e) => resolve({ status: 0, error: e.code ?? e.message }));
    if (!body) { req.end(); return; }
    if (!piece) { req.end(body); return; }
    let off = 0;
    const next = () => {
      if (req.destroyed) return;
      if (off >= body.length) { req.end(); return; }
      const b = body.subarray(off, off + piece);
      off += b.length;
      if (req.write(b)) setTimeout(next, pause); else req.once('drain', () => setTimeout(next, pause));
    };
    next();
  });
}

// The record of one run: what was acknowledged, and outage answers that
// did not say when to come back.
export class Ledger {
  constructor() { this.acked = []; this.badAnswers = 0; this.pending = []; this.answers = {}; }
  note(r) {
    const k = String(r.status);
    this.answers[k] = (this.answers[k] ?? 0) + 1;
    if (r.status === 503 && !(Number(r.headers?.['retry-after']) > 0)) this.badAnswers++;
  }
}

export async function multipartUpload(base, token, ledger, { size, pace }) {
  const data = randomFile(size);
  const { body, contentType } = multipart([entryPart({ kind: 'visit', title: 'fault load' }),
    { name: 'f', filename: 'm.bin', type: 'application/octet-stream', data }]);
  const r = await request(base, { method: 'POST', path: '/api/v1/entries', body, ...pace,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType } });
  ledger.note(r);
  if (r.status === 201) {
    const j = JSON.parse(r.text);
    ledger.acked.push({ kind: 'multipart', sha: sha256(data), entry: j.id, media: j.media[0].id });
  }
  return r;
}

// A tus upload driven from HEAD: creates it (unless given), then PATCHes
// from the server's offset until done, the daemon dies or tries run out.
// Unfinished ones stay in ledger.pending to be resumed by the next daemon.
export async function tusUpload(base, token, ledger, { size, chunk = 512 * 1024, pace, job, tries = 12 }) {
  if (!job) {
    const data = randomFile(size);
    const meta = `kind ${Buffer.from('story').toString('base64')},title ${Buffer.from('fault tus').toString('base64')}`;
    const c = await request(base, { method: 'POST', path: '/api/v1/uploads',
      headers: tusHeaders(token, { 'Upload-Length': String(data.length), 'Upload-Metadata': meta }) });
    ledger.note(c);
    if (c.status !== 201) return c;
    job = { path: new URL(c.headers.location, base).pathname, data };
    ledger.pending.push(job);
  }
  for (let i = 0; i < tries; i++) {
    const h = await request(base, { method: 'HEAD', path: job.path, headers: tusHeaders(token) });
    ledger.note(h);
    if (h.status === 0) return h;			// the daemon is gone
    if (h.status === 404 || h.status === 410) { drop(ledger, job); return h; }
    if (h.status !== 200) { await sleep(200); continue; }
    const off = Number(h.headers['upload-offset']);
    if (off === job.data.length && h.headers['upload-entry']) {
      finished(ledger, job, h.headers['upload-entry']);
      return h;
    }
    const body = job.data.subarray(off, Math.min(job.data.length, off + chunk));
    const p = await request(base, { method: 'PATCH', path: job.path, body, ...pace,
      headers: tusHeaders(token, { 'Upload-Offset': String(off), 'Content-Type': 'application/offset+octet-stream' }) });
    ledger.note(p);
    if (p.status === 0) return p;
    if (p.status === 204 && Number(p.headers['upload-offset']) === job.data.length && p.headers['upload-entry']) {
      finished(ledger, job, p.headers['upload-entry']);
      return p;
    }
    if (p.status !== 204) await sleep(p.status === 423 ? 300 : 200);
  }
  return { status: -1 };
}

function drop(ledger, job) { ledger.pending = ledger.pending.filter((j) => j !== job); }
function finished(ledger, job, entry) {
  drop(ledger, job);
  ledger.acked.push({ kind: 'tus', sha: sha256(job.data), entry: Number(entry) });
}

// Downloads every acknowledged upload as an admin and hashes it: lost is
// what is no longer there, corrupted what does not match what was sent.
export async function verify(base, db, admin, ledger) {
  let lost = 0, corrupted = 0;
  for (const a of ledger.acked) {
    const media = a.media ?? Number(psql(db, `SELECT coalesce(min(id), 0) FROM media WHERE entry_id = ${Number(a.entry)}`));
    if (!media) { lost++; continue; }
    const r = await request(base, { path: `/api/v1/media/${media}/original?reason=fault-check`,
      headers: { Authorization: `Bearer ${admin}` } });
    if (r.status !== 200) lost++;
    else if (sha256(r.body) !== a.sha) corrupted++;
  }
  return { lost, corrupted };
}

// Files in the data directory that no row names: spool files that are no
// upload's, and blob files that no blob or upload row records.
export function leftovers(db, dataDir) {
  const spoolDir = path.join(dataDir, 'spool');
  const named = new Set(psql(db, 'SELECT spool_name FROM upload WHERE completed_at IS NULL').split('\n').filter(Boolean));
  const spool = existsSync(spoolDir) ? readdirSync(spoolDir).filter((f) => !f.startsWith('.') && !named.has(f)) : [];
  const rows = new Set(psql(db, 'SELECT sha256 FROM blob UNION SELECT blob_sha256 FROM upload' +
    ' UNION SELECT unnest(ARRAY[blob_sha256, opus_sha256, m4a_sha256, peaks_sha256, display_sha256,' +
    ' thumb_sha256]) FROM media')
    .split('\n').filter(Boolean));
  const blobs = filesUnder(path.join(dataDir, 'blobs')).map((f) => path.basename(f)).filter((h) => !rows.has(h));
  return { count: spool.length + blobs.length, files: [...spool, ...blobs] };
}

// Waits (bounded) for the sweep to leave only what rows name.
export async function settle(db, dataDir, ms = 15000) {
  const end = Date.now() + ms;
  let l = leftovers(db, dataDir);
  while (l.count > 0 && Date.now() < end) {
    await sleep(500);
    l = leftovers(db, dataDir);
  }
  return l;
}

// Completes the uploads a dead daemon left unfinished (resumed from HEAD).
export async function resumeAll(base, token, ledger) {
  for (const job of [...ledger.pending])
    await tusUpload(base, token, ledger, { job, chunk: 4 * MiB, tries: 20 });
}
