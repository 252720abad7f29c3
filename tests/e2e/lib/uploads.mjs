// Helpers of the upload tests: credentials made with verhaalctl, a raw
// HTTP/1.1 connection that reads responses byte-exactly, tus and multipart
// requests, fixtures made by ffmpeg, and looks into the blob store and the
// database.
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ctl, psql, freshDatabase, startDaemon, tmpdir } from './harness.mjs';
import { addConsentTexts } from './accounts.mjs';

export const MiB = 1024 * 1024;

export function sha256(buf) { return createHash('sha256').update(buf).digest('hex'); }
export function sha1b64(buf) { return createHash('sha1').update(buf).digest('base64'); }
export function sha256b64(buf) { return createHash('sha256').update(buf).digest('base64'); }

export function sha256File(file) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file).on('data', (d) => h.update(d)).on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

// The last non-empty line of a command's stdout: where verhaalctl prints
// a token or a secret.
function lastLine(out) {
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
  assert.ok(lines.length > 0, 'verhaalctl printed nothing');
  return lines[lines.length - 1];
}

export function fieldworkerToken(dbUrl, name) {
  return lastLine(ctl(dbUrl, 'token', 'create', '--user', name, '--role', 'fieldworker'));
}

export function collectionSecret(dbUrl, slug, title = slug) {
  const secret = lastLine(ctl(dbUrl, 'collection', 'create', '--slug', slug, '--title', title));
  addConsentTexts(dbUrl, slug);
  return secret;
}

export function blobPath(dataDir, hex) {
  return path.join(dataDir, 'blobs', hex.slice(0, 2), hex.slice(2, 4), hex);
}

// Files under dir that were not in the list before.
export function newFiles(dir, before) {
  const old = new Set(before);
  return filesUnder(dir).filter((f) => !old.has(f));
}

// Every regular file under dir (recursively); [] when dir is absent.
export function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

// --- the database -------------------------------------------------------

// Tables (public schema) with a column whose name contains "sha"; looked
// up once per database (each psql costs a connection, ~0.2 s here).
const shaColumnCache = new Map();
function shaColumns(dbUrl) {
  if (!shaColumnCache.has(dbUrl)) {
    const rows = psql(dbUrl, `SELECT table_name || ' ' || column_name || ' ' || data_type
      FROM information_schema.columns WHERE table_schema = 'public' AND column_name LIKE '%sha%'`);
    const cols = rows ? rows.split('\n').map((l) => l.split(' ')) : [];
    if (cols.length) shaColumnCache.set(dbUrl, cols);
    return cols;
  }
  return shaColumnCache.get(dbUrl);
}

// The tables whose sha column holds hex (as text or as bytea): the media
// and blob rows that name a stored file. The schema of the uploads is not
// pinned by docs/api.md, so the tests look for the value, not for names.
export function tablesHoldingSha(dbUrl, hex) {
  assert.match(hex, /^[0-9a-f]{64}$/);
  const cols = shaColumns(dbUrl);
  if (!cols.length) return [];
  const q = cols.map(([table, column, type]) => {
    const cond = type === 'bytea' ? `"${column}" = decode('${hex}', 'hex')` : `lower("${column}"::text) = '${hex}'`;
    return `SELECT '${table}' WHERE EXISTS (SELECT 1 FROM "${table}" WHERE ${cond})`;
  }).join(' UNION ALL ');
  const out = psql(dbUrl, q);
  return out ? out.split('\n') : [];
}

// Rows of the first of the named tables that exists; null when none does
// (or the condition names a column it lacks).
export function countRows(dbUrl, names, where = 'true') {
  for (const t of names) {
    try {
      return Number(execFileSync('psql', [dbUrl, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c',
        `SELECT count(*) FROM "${t}" WHERE ${where}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
    } catch { /* no such table or column: try the next */ }
  }
  return null;
}
export const ENTRY_TABLES = ['entry', 'entries'];
export const MEDIA_TABLES = ['media', 'medium', 'entry_media'];

// --- fixtures -------------------------------------------------------------

export function makeWav(dir, name = 'a.wav', seconds = 2) {
  const f = path.join(dir, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`,
    '-ac', '1', '-ar', '16000', f]);
  return f;
}

export function makeJpeg(dir, name = 'b.jpg') {
  const f = path.join(dir, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=1',
    '-frames:v', '1', f]);
  return f;
}

// Random bytes, with a unique prefix so that no two fixtures dedup.
export function randomFile(size) { return randomBytes(size); }

// --- multipart --------------------------------------------------------------

// parts: [{name, value, type}] or [{name, filename, data, type}].
export function multipart(parts) {
  const boundary = '----verhaal' + randomBytes(12).toString('hex');
  const chunks = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    chunks.push(Buffer.from(head + '\r\n'));
    chunks.push(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.value ?? p.data ?? ''));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export function entryPart(entry) {
  return { name: 'entry', value: JSON.stringify(entry), type: 'application/json' };
}

// POST /api/v1/entries with a field worker's token; the parsed answer.
export async function postEntry(base, token, parts, { path: p = '/api/v1/entries', headers = {} } = {}) {
  const { body, contentType } = multipart(parts);
  const h = { 'Content-Type': contentType, ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  const r = await fetch(base + p, { method: 'POST', headers: h, body });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

// --- tus ------------------------------------------------------------------

export function tusMetadata(obj) {
  return Object.entries(obj).map(([k, v]) => (v === null ? k : `${k} ${Buffer.from(String(v)).toString('base64')}`)).join(',');
}

export function tusHeaders(token, extra = {}) {
  const h = { 'Tus-Resumable': '1.0.0', ...extra };
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

// Creates an upload; returns {status, location (absolute), headers}.
export async function tusCreate(base, token, { length, defer = false, metadata, body, headers = {} } = {}) {
  const h = tusHeaders(token, headers);
  if (defer) h['Upload-Defer-Length'] = '1';
  else h['Upload-Length'] = String(length);
  if (metadata !== undefined) h['Upload-Metadata'] = typeof metadata === 'string' ? metadata : tusMetadata(metadata);
  if (body) h['Content-Type'] = 'application/offset+octet-stream';
  const r = await fetch(`${base}/api/v1/uploads`, { method: 'POST', headers: h, body });
  await r.arrayBuffer();
  const loc = r.headers.get('location');
  return { status: r.status, headers: r.headers, location: loc ? new URL(loc, base).href : null };
}

export async function tusPatch(url, token, offset, data, headers = {}) {
  const r = await fetch(url, {
    method: 'PATCH',
    headers: tusHeaders(token, { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', ...headers }),
    body: data,
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text };
}

export async function tusHead(url, token) {
  const r = await fetch(url, { method: 'HEAD', headers: tusHeaders(token) });
  const off = r.headers.get('upload-offset');
  return { status: r.status, headers: r.headers, offset: off === null ? null : Number(off) };
}

// Uploads a whole buffer in PATCHes of chunk bytes; the last answer.
export async function tusUpload(base, token, data, { metadata = { kind: 'story', filename: 'x.bin' }, chunk = 4 * MiB } = {}) {
  const c = await tusCreate(base, token, { length: data.length, metadata });
  assert.equal(c.status, 201, 'tus creation');
  let off = 0;
  let last;
  while (off < data.length) {
    const piece = data.subarray(off, off + chunk);
    last = await tusPatch(c.location, token, off, piece);
    assert.equal(last.status, 204, `PATCH at ${off}: ${last.text}`);
    off = Number(last.headers.get('upload-offset'));
  }
  return { location: c.location, last };
}

// --- a raw HTTP/1.1 connection ------------------------------------------------

// Reads responses off one socket exactly as sent. readResponse() returns
// {status, reason, headers (lower-case names), body (Buffer), raw}; 1xx
// answers come back as responses of their own.
export class RawConn {
  constructor(base) {
    const u = new URL(base);
    this.sock = net.connect({ host: u.hostname, port: Number(u.port) });
    this.sock.setNoDelay(true);
    this.buf = Buffer.alloc(0);
    this.ended = false;
    this.waiters = [];
    this.connected = new Promise((resolve, reject) => {
      this.sock.once('connect', resolve);
      this.sock.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.sock.once('close', () => { this.closedAt = Date.now(); resolve(); }));
    this.sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    this.sock.on('end', () => { this.ended = true; this.wake(); });
    this.sock.on('close', () => { this.ended = true; this.wake(); });
    this.sock.on('error', () => { this.ended = true; this.wake(); });
  }

  wake() { const w = this.waiters; this.waiters = []; for (const f of w) f(); }

  write(data) {
    return new Promise((resolve) => {
      if (this.sock.destroyed) return resolve(false);
      this.sock.write(data, (err) => resolve(!err));
    });
  }

  destroy() { this.sock.destroy(); }

  // Resolves once more data or the end arrives, or after ms.
  more(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.waiters.push(() => { clearTimeout(t); resolve(true); });
    });
  }

  // Waits up to ms for the server to close; true if it did.
  async waitClosed(ms) {
    return Promise.race([this.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), ms))]);
  }

  async readResponse({ timeout = 10000, head = false } = {}) {
    const end = Date.now() + timeout;
    for (;;) {
      const r = parseResponse(this.buf, head);
      if (r) { this.buf = this.buf.subarray(r.used); return r; }
      if (this.ended) {
        if (this.buf.length) throw new Error(`connection closed inside a response: ${this.buf.toString('latin1').slice(0, 200)}`);
        return null;
      }
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no complete response within ${timeout} ms; have ${JSON.stringify(this.buf.toString('latin1').slice(0, 200))}`);
      await this.more(left);
    }
  }
}

// One response at the start of buf, or null if it is not complete yet.
export function parseResponse(buf, head = false) {
  const hend = buf.indexOf('\r\n\r\n');
  if (hend < 0) return null;
  const lines = buf.subarray(0, hend).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) ?(.*)$/.exec(lines[0]);
  if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  const status = Number(m[1]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  let pos = hend + 4;
  let body = Buffer.alloc(0);
  if (head || status < 200 || status === 204 || status === 304) {
    // no body
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts = [];
    for (;;) {
      const le = buf.indexOf('\r\n', pos);
      if (le < 0) return null;
      const n = parseInt(buf.subarray(pos, le).toString('latin1'), 16);
      if (buf.length < le + 2 + n + 2) return null;
      if (n === 0) {
        const tend = buf.indexOf('\r\n', le + 2);
        if (tend < 0) return null;
        pos = tend + 2;
        break;
      }
      parts.push(buf.subarray(le + 2, le + 2 + n));
      pos = le + 2 + n + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (buf.length < pos + n) return null;
    body = buf.subarray(pos, pos + n);
    pos += n;
  }
  return { status, reason: m[2], headers, body, used: pos, raw: buf.subarray(0, pos).toString('latin1') };
}

// The assertions every error answer shares (docs/api.md): RFC 9457 with a
// type, the status repeated, a request id and nosniff.
export function assertProblem(res, status, what = '') {
  const get = (k) => (res.headers.get ? res.headers.get(k) : res.headers[k]);
  const body = Buffer.isBuffer(res.body) ? res.body.toString() : res.text;
  assert.equal(res.status, status, `${what} status; body: ${body}`);
  if (res.method === 'HEAD') return null;
  assert.match(get('content-type') ?? '', /^application\/problem\+json/, `${what} content type`);
  const j = JSON.parse(body);
  assert.equal(typeof j.type, 'string', `${what} problem type`);
  assert.ok(j.type.length > 0);
  assert.equal(j.status, status, `${what} problem status`);
  assert.ok(get('x-request-id'), `${what} X-Request-Id`);
  assert.equal(get('x-content-type-options'), 'nosniff', `${what} nosniff`);
  return j;
}

// A request with a body streamed in pieces with a pause between them;
// resolves with {status, headers, text} or rejects when the connection
// dies. Used for uploads that must still be running at some moment.
export function slowRequest(base, { method = 'POST', path: p, headers, body, piece = 256 * 1024, pause = 20, agent }) {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = http.request({ host: u.hostname, port: u.port, method, path: p, agent: agent ?? false,
      headers: { ...headers, 'Content-Length': body.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    let off = 0;
    const next = () => {
      if (off >= body.length) { req.end(); return; }
      const b = body.subarray(off, off + piece);
      off += b.length;
      const ok = req.write(b);
      const go = () => setTimeout(next, pause);
      if (ok) go(); else req.once('drain', go);
    };
    next();
  });
}

export function vmRSS(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export function fileSize(p) { return statSync(p).size; }

// A fresh database with the schema applied and a data directory that go
// together, for a test file whose tests each start their own daemon on
// them (a daemon then starts in ~0.1 s instead of ~1.5 s).
export function migratedStore() {
  const db = freshDatabase();
  ctl(db, 'migrate');
  return { db, dataDir: path.join(tmpdir('data'), 'data') };
}

// Runs fn(d) against a new daemon and always kills it afterwards.
export async function withDaemon(opts, fn) {
  const d = await startDaemon(opts);
  try {
    return await fn(d);
  } finally {
    await d.stop('SIGKILL');
  }
}
