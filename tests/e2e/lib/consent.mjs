// Helpers for the consent, withdrawal and retention scenarios: a daemon
// with a collection, staff tokens, resident submissions (multipart and
// tus) and ways to look for an entry's traces on disk and in the database.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { freshDatabase, startDaemon, ctl, psql } from './harness.mjs';
import { addConsentTexts } from './accounts.mjs';

export const CONSENT = (scope = 'quote_anonymised') => ({ scope, version: '2024-05', language: 'nl' });

// A database, a daemon, a collection "buurt" with its upload key, and a
// token per staff role.
export async function setup(env = {}) {
  const url = freshDatabase();
  // Media runners on: these scenarios follow files through their jobs.
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_MEDIA_RUNNERS: '2', ...env } });
  const key = ctl(url, 'collection', 'create', '--slug', 'buurt', '--title', 'Buurt').trim().split('\n').pop();
  addConsentTexts(url, 'buurt');
  const tokens = {};
  for (const role of ['admin', 'moderator', 'analyst', 'fieldworker']) {
    tokens[role] = ctl(url, 'token', 'create', '--user', `${role}1`, '--role', role).trim().split('\n').pop();
  }
  return { url, d, key, tokens };
}

export function auth(token, extra = {}) {
  return { Authorization: `Bearer ${token}`, ...extra };
}

// A resident's multipart story; files are [{name, data, type}].
export async function submit(ctx, entry, files = []) {
  const form = new FormData();
  form.append('entry', JSON.stringify(entry));
  for (const f of files) form.append('file', new Blob([f.data], { type: f.type ?? 'application/octet-stream' }), f.name);
  return fetch(`${ctx.d.url}/api/v1/collections/buurt/uploads?key=${encodeURIComponent(ctx.key)}`, { method: 'POST', body: form });
}

function b64(s) { return Buffer.from(s).toString('base64'); }

// A resident's tus upload in two PATCHes (one with { pieces: 1 });
// returns the creation and the final PATCH responses.
export async function tus(ctx, meta, data, { pieces = 2 } = {}) {
  const md = Object.entries(meta).map(([k, v]) => `${k} ${b64(typeof v === 'string' ? v : JSON.stringify(v))}`).join(',');
  const base = `${ctx.d.url}/api/v1/collections/buurt/uploads`;
  const created = await fetch(`${base}?key=${encodeURIComponent(ctx.key)}`, {
    method: 'POST',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(data.length), 'Upload-Metadata': md },
  });
  if (created.status !== 201) return { created };
  const loc = new URL(created.headers.get('location'), ctx.d.url).href;
  const half = pieces === 1 ? 0 : Math.floor(data.length / 2);
  if (pieces !== 1 && half === 0) throw new Error('two PATCHes need at least 2 bytes');
  const hdr = (off) => ({ 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(off), 'Content-Type': 'application/offset+octet-stream', 'X-Upload-Key': ctx.key });
  const first = half === 0 ? null : await fetch(loc, { method: 'PATCH', headers: hdr(0), body: data.subarray(0, half) });
  if (first && first.status !== 204) throw new Error(`the first PATCH: ${first.status} ${await first.text()}`);
  const last = await fetch(loc, { method: 'PATCH', headers: hdr(half), body: data.subarray(half) });
  return { created, first, last };
}

export function sha256(buf) { return createHash('sha256').update(buf).digest('hex'); }

// Every regular file under dir, as {path, sha256}.
export function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walk(p));
    else if (st.isFile()) out.push({ path: p, sha256: sha256(readFileSync(p)) });
  }
  return out;
}

// The whole database as pg_dump --data-only text.
export function dump(url) {
  return execFileSync('pg_dump', ['--data-only', url], { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
}

// Tables (schema public) with a row whose text form contains needle.
export function tablesHolding(url, needle) {
  const tables = psql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'").split('\n').filter(Boolean);
  const q = needle.replace(/'/g, "''");
  const union = tables.map((t) => `SELECT '${t}' WHERE EXISTS (SELECT 1 FROM "${t}" x WHERE x::text LIKE '%${q}%')`).join(' UNION ALL ');
  return psql(url, union).split('\n').filter(Boolean);
}

export function hasColumn(url, table, column) {
  return psql(url, `SELECT count(*) FROM information_schema.columns WHERE table_name = '${table}' AND column_name = '${column}'`) === '1';
}

// A WAV of a steady tone, made by sox.
export function toneWav(dir, name, seconds = 4, freq = 440) {
  const p = path.join(dir, name);
  execFileSync('sox', ['-n', '-r', '44100', '-c', '1', '-b', '16', p, 'synth', String(seconds), 'sine', String(freq), 'gain', '-12']);
  return readFileSync(p);
}
