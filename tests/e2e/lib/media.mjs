// Helpers for the media e2e tests: a daemon with tokens, uploads through
// multipart (curl) or tus (fetch), waiting for a media job, and probing
// what it made with ffprobe and exiftool.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freshDatabase, startDaemon, ctl, psql, waitFor } from './harness.mjs';

export function token(url, user, role) {
  return ctl(url, 'token', 'create', '--user', user, '--role', role).trim().split('\n').pop();
}

// A fresh database, a daemon and tokens for a field worker, an analyst
// and a second field worker.
export async function mediaDaemon(env = {}) {
  const url = freshDatabase();
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_LOG_LEVEL: 'info', VERHAAL_MEDIA_RUNNERS: '2', ...env } });
  return {
    url, d,
    worker: token(url, 'fw1', 'fieldworker'),
    other: token(url, 'fw2', 'fieldworker'),
    analyst: token(url, 'an1', 'analyst'),
    admin: token(url, 'ad1', 'admin'),
  };
}

// Uploads one file in a one-request submission; resolves its media id.
export function uploadMultipart(base, tok, file, { filename, type = 'application/octet-stream' } = {}) {
  const name = filename ?? path.basename(file);
  const out = execFileSync('curl', ['-sS', '--fail-with-body', '-H', `Authorization: Bearer ${tok}`,
    '-F', 'entry={"kind":"visit"};type=application/json',
    '-F', `file=@${file};filename=${name};type=${type}`,
    `${base}/api/v1/entries`], { encoding: 'utf8' });
  const entry = JSON.parse(out);
  return { entry: entry.id, media: entry.media[0].id };
}

// Uploads one file with tus in two PATCHes; resolves its media id.
export async function uploadTus(base, tok, file, filename = path.basename(file)) {
  const buf = readFileSync(file);
  const b64 = (s) => Buffer.from(s).toString('base64');
  const auth = { Authorization: `Bearer ${tok}`, 'Tus-Resumable': '1.0.0' };
  let r = await fetch(`${base}/api/v1/uploads`, {
    method: 'POST',
    headers: { ...auth, 'Upload-Length': String(buf.length),
      'Upload-Metadata': `filename ${b64(filename)},kind ${b64('visit')}` },
  });
  if (r.status !== 201) throw new Error(`tus create: ${r.status} ${await r.text()}`);
  const loc = new URL(r.headers.get('location'), base).href;
  const half = Math.floor(buf.length / 2);
  let entry;
  for (const [a, b] of [[0, half], [half, buf.length]]) {
    r = await fetch(loc, {
      method: 'PATCH',
      headers: { ...auth, 'Upload-Offset': String(a), 'Content-Type': 'application/offset+octet-stream' },
      body: buf.subarray(a, b),
    });
    if (r.status !== 204) throw new Error(`tus patch: ${r.status} ${await r.text()}`);
    entry = r.headers.get('upload-entry') ?? entry;
  }
  return { entry: Number(entry) };
}

export async function getMedia(base, tok, id) {
  const r = await fetch(`${base}/api/v1/media/${id}`, { headers: { Authorization: `Bearer ${tok}` } });
  return { status: r.status, body: await r.json() };
}

// Resolves the media description once its job has finished.
export async function waitMedia(base, tok, id, timeout = 60000) {
  return waitFor(async () => {
    const { status, body } = await getMedia(base, tok, id);
    if (status !== 200) throw new Error(`GET media ${id}: ${status} ${JSON.stringify(body)}`);
    return body.status === 'ready' || body.status === 'rejected' ? body : null;
  }, { timeout, interval: 150 });
}

// Downloads a rendition to dir; resolves its path and the response.
export async function fetchTo(base, tok, link, dir, name) {
  const r = await fetch(`${base}${link}`, { headers: { Authorization: `Bearer ${tok}` } });
  if (r.status !== 200) throw new Error(`GET ${link}: ${r.status} ${await r.text()}`);
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.from(await r.arrayBuffer()));
  return { file, res: r };
}

// Seconds of audio ffmpeg actually decodes from a file (not the header's
// claim): samples at 48 kHz mono.
export function decodedSeconds(file) {
  const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a:0', '-ac', '1', '-ar', '48000',
    '-f', 's16le', '-'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  return pcm.length / 2 / 48000;
}

export function ffprobe(file) {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries',
    'format=duration,format_name:stream=codec_name,sample_rate,channels,width,height,duration', '-of', 'json', file],
  { encoding: 'utf8' }));
}

export { psql, waitFor };
