// Shared set-up of the search tests: one daemon over a fresh database,
// tokens per role, and helpers to create entries through the real API.
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { freshDatabase, startDaemon, psql, ctl, tmpdir, shared, top } from './harness.mjs';
import { addConsentTexts } from './accounts.mjs';

export async function searchSetup(env = {}) {
  const url = freshDatabase();
  const d = await startDaemon({ databaseUrl: url, env });
  const tok = {};
  for (const [user, role] of [['ad', 'admin'], ['an', 'analyst'], ['mo', 'moderator'],
    ['fw', 'fieldworker'], ['fw2', 'fieldworker']]) {
    tok[user] = ctl(url, 'token', 'create', '--user', user, '--role', role).trim().split('\n').pop();
  }
  const get = async (who, p) => {
    const r = await fetch(`${d.url}${p}`, { headers: { Authorization: `Bearer ${tok[who]}` } });
    const ct = r.headers.get('content-type') ?? '';
    const body = ct.includes('json') ? await r.json() : await r.text();
    return { status: r.status, body, headers: r.headers };
  };
  // Creates an entry through POST /api/v1/entries; files are [{name, type, data}].
  const post = async (who, entry, files = []) => {
    const fd = new FormData();
    fd.append('entry', JSON.stringify(entry));
    for (const f of files) fd.append('file', new Blob([f.data], { type: f.type }), f.name);
    const r = await fetch(`${d.url}/api/v1/entries`, {
      method: 'POST', headers: { Authorization: `Bearer ${tok[who]}` }, body: fd,
    });
    if (r.status !== 201) throw new Error(`POST entry: ${r.status} ${await r.text()}`);
    return (await r.json()).id;
  };
  const collection = (slug) => {
    const out = ctl(url, 'collection', 'create', '--slug', slug, '--title', slug);
    addConsentTexts(url, slug);
    return out;
  };
  return { url, d, tok, get, post, collection, sql: (q) => psql(url, q) };
}

// Every page of a search, following next_cursor; between pages, onPage runs.
export async function allPages(get, who, p, onPage = async () => {}) {
  const ids = [];
  let cursor = null;
  for (let n = 0; n < 100; n++) {
    const r = await get(who, p + (cursor ? `&cursor=${cursor}` : ''));
    if (r.status !== 200) throw new Error(`${p}: ${r.status} ${JSON.stringify(r.body)}`);
    ids.push(...r.body.items.map((i) => i.id));
    cursor = r.body.next_cursor;
    if (!cursor) return ids;
    await onPage(n);
  }
  throw new Error('too many pages');
}

// The area files of ../shared/data; contrib/seed ships the same four as
// seed data, so these tests run without ../shared too.
const sharedAreas = path.join(shared, 'data', 'areas');
export const areasDir = existsSync(sharedAreas) ? sharedAreas : path.join(top, 'contrib', 'seed');
export function importAreas(url) {
  if (!existsSync(areasDir)) return false;
  const files = ['cbs_47018NED_WijkenEnBuurten_indeling2024_utrecht.csv',
    'utrecht_buurten_gemeente2013_wgs84.geojson', 'utrecht_wijken_gemeente2013_wgs84.geojson',
    'utrecht_gemeentegrens2013_wgs84.geojson'].map((f) => path.join(areasDir, f));
  if (!files.every(existsSync)) return false;
  ctl(url, 'import-areas', ...files);
  return true;
}

// Real media made by real encoders into a temporary directory.
export function fixtures() {
  const dir = tmpdir('media');
  const ogg = path.join(dir, 'a.ogg');
  const png = path.join(dir, 'p.png');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1',
    '-c:a', 'libopus', ogg]);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=red:s=16x16',
    '-frames:v', '1', png]);
  return { ogg: readFileSync(ogg), png: readFileSync(png) };
}
