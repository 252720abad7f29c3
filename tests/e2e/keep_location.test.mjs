// A position an entry is placed by (issue 11, item 6) becomes its buurt;
// the coordinates are stored only where keep_location = true, one key for
// every path: the JSON API (multipart), tus (whose metadata waits in its
// row until the last byte), OpenRosa submissions and a field worker's
// edit. With the key off the whole database (pg_dump --data-only) holds
// no trace of the point, also while a tus upload is half done; with it
// on, the entry holds it. The old name odk_keep_location is still read,
// with a warning.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freshDatabase, startDaemon, psql, tmpdir, top } from './lib/harness.mjs';
import { importAreas } from './lib/search.mjs';
import { token } from './lib/accounts.mjs';
import { dump } from './lib/consent.mjs';
import { collectPost, instanceXml, newToken } from './lib/odk.mjs';

const daemons = [];
after(async () => { for (const d of daemons) await d.stop(); });

const b64 = (s) => Buffer.from(s).toString('base64');

// A database with Utrecht's buurten, a daemon with env, a field worker's
// API and ODK tokens, and a point inside a buurt, moved a little off the
// boundary's own vertices so its digits are its own.
async function world(env, args) {
  const db = freshDatabase();
  const d = await startDaemon({ databaseUrl: db, env: { VERHAAL_MEDIA_RUNNERS: '0', ...env }, ...(args ? { args } : {}) });
  daemons.push(d);
  assert.ok(importAreas(db), 'the Utrecht area files in ../shared/data');
  const [buurt, y, x] = psql(db, "SELECT code, ST_Y(p), ST_X(p) FROM (SELECT code, ST_PointOnSurface(boundary) p FROM area"
    + " WHERE level = 'buurt' AND boundary IS NOT NULL ORDER BY code LIMIT 1) s").split('|');
  // Seven decimals, as verhaal writes them; the last ones random.
  const lat = Number(Number(y).toFixed(4)) + 0.0000123 + Math.floor(Math.random() * 50) * 1e-7;
  const lon = Number(Number(x).toFixed(4)) + 0.0000456 + Math.floor(Math.random() * 50) * 1e-7;
  assert.equal(psql(db, `SELECT code FROM area WHERE level = 'buurt' AND ST_Contains(boundary, ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326))`), buurt,
    'the moved point is still in its buurt');
  const fw = token(db, 'veld1', 'fieldworker');
  const odk = newToken(db, 'veld1', d.url);
  return { db, d, fw, odk, buurt, lat: Number(lat.toFixed(7)), lon: Number(lon.toFixed(7)) };
}

async function multipartVisit(w, fields) {
  const fd = new FormData();
  fd.append('entry', JSON.stringify({ kind: 'visit', text: 'Een plek bij de school', ...fields }));
  const r = await fetch(`${w.d.url}/api/v1/entries`, { method: 'POST', headers: { Authorization: `Bearer ${w.fw}` }, body: fd });
  return { status: r.status, body: await r.json() };
}

// A tus upload created with the point and sent in two PATCHes; between
// them `during` sees the half-done upload.
async function tusVisit(w, during) {
  const data = randomBytes(4000);
  const md = [`kind ${b64('visit')}`, `text ${b64('Notitie per tus')}`, `lat ${b64(String(w.lat))}`, `lon ${b64(String(w.lon))}`,
    `filename ${b64('notitie.bin')}`].join(',');
  const auth = { Authorization: `Bearer ${w.fw}`, 'Tus-Resumable': '1.0.0' };
  const created = await fetch(`${w.d.url}/api/v1/uploads`, { method: 'POST', headers: { ...auth, 'Upload-Length': String(data.length), 'Upload-Metadata': md } });
  assert.equal(created.status, 201, await created.text());
  const loc = new URL(created.headers.get('location'), w.d.url).href;
  const patch = (off, bytes) => fetch(loc, { method: 'PATCH', headers: { ...auth, 'Upload-Offset': String(off), 'Content-Type': 'application/offset+octet-stream' }, body: bytes });
  assert.equal((await patch(0, data.subarray(0, 1000))).status, 204);
  const head = await fetch(loc, { method: 'HEAD', headers: auth });
  await during(head.headers.get('upload-metadata') ?? '');
  const last = await patch(1000, data.subarray(1000));
  assert.equal(last.status, 204);
  return Number(psql(w.db, `SELECT m.entry_id FROM upload u JOIN media m ON m.id = u.media_id WHERE u.id = '${loc.split('/').pop()}'`));
}

async function odkVisit(w) {
  const id = `uuid:${randomUUID()}`;
  const r = await collectPost(`${w.odk.serverUrl}/submission`, instanceXml({ id, location: `${w.lat} ${w.lon} 3.0 5.0`, buurt: '' }));
  assert.equal(r.status, 201, r.text);
  return { id, entry: Number(psql(w.db, `SELECT entry_id FROM odk_submission WHERE instance_id = '${id}'`)) };
}

const patchEntry = async (w, id, body) => {
  const r = await fetch(`${w.d.url}/api/v1/entries/${id}`, { method: 'PATCH', headers: { Authorization: `Bearer ${w.fw}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.text());
};

const placed = (w, id) => psql(w.db, `SELECT area_code || '|' || coalesce(lat::text, '-') || '|' || coalesce(lon::text, '-') FROM entry WHERE id = ${id}`);

// What would give the point away: its digits, and the base64 of the
// decimal text a tus client sends.
function traces(w) {
  return [String(w.lat), String(w.lon), w.lat.toFixed(7), w.lon.toFixed(7), String(w.lat).slice(3), String(w.lon).slice(2),
    b64(String(w.lat)), b64(String(w.lon))];
}

test('keep_location off (the default): every path keeps the buurt and no trace of the point', { timeout: 120000 }, async () => {
  const w = await world({});
  const json = await multipartVisit(w, { lat: w.lat, lon: w.lon });
  assert.equal(json.status, 201, JSON.stringify(json.body));
  assert.equal(placed(w, json.body.id), `${w.buurt}|-|-`);

  const viaTus = await tusVisit(w, async (headMetadata) => {
    // Half done: the upload's row names the buurt, not the point.
    const stored = psql(w.db, 'SELECT metadata FROM upload WHERE completed_at IS NULL');
    assert.ok(stored.includes(`area ${b64(w.buurt)}`), stored);
    assert.doesNotMatch(stored, /(^|,)(lat|lon) /);
    assert.doesNotMatch(headMetadata, /(^|,)(lat|lon) /);
    const all = dump(w.db);
    for (const t of traces(w)) assert.ok(!all.includes(t), `mid-upload, the database holds ${t}`);
  });
  assert.equal(placed(w, viaTus), `${w.buurt}|-|-`);

  const odk = await odkVisit(w);
  assert.equal(placed(w, odk.entry), `${w.buurt}|-|-`);
  assert.equal(psql(w.db, `SELECT location IS NULL FROM odk_submission WHERE instance_id = '${odk.id}'`), 't');

  // A field worker moving their entry by a position: the buurt, no point.
  const other = await multipartVisit(w, { area: w.buurt });
  await patchEntry(w, other.body.id, { lat: w.lat, lon: w.lon });
  assert.equal(placed(w, other.body.id), `${w.buurt}|-|-`);

  const all = dump(w.db);
  for (const t of traces(w)) assert.ok(!all.includes(t), `the database holds ${t}`);
  assert.equal(psql(w.db, 'SELECT count(*) FROM entry WHERE lat IS NOT NULL OR lon IS NOT NULL'), '0');
});

test('keep_location = true: the entry keeps the point on every path; a new area drops it', { timeout: 120000 }, async () => {
  const w = await world({ VERHAAL_KEEP_LOCATION: 'true' });
  const want = `${w.buurt}|${w.lat}|${w.lon}`;
  const json = await multipartVisit(w, { lat: w.lat, lon: w.lon });
  assert.equal(json.status, 201, JSON.stringify(json.body));
  assert.equal(placed(w, json.body.id), want);

  const viaTus = await tusVisit(w, async (headMetadata) => {
    assert.match(headMetadata, new RegExp(`lat ${b64(String(w.lat))}`));
  });
  assert.equal(placed(w, viaTus), want);

  const odk = await odkVisit(w);
  assert.equal(psql(w.db, `SELECT location FROM odk_submission WHERE instance_id = '${odk.id}'`), `${w.lat} ${w.lon} 3.0 5.0`);
  assert.equal(psql(w.db, `SELECT area_code FROM entry WHERE id = ${odk.entry}`), w.buurt);

  // An edit by position keeps the new point; one by area code drops it.
  const other = await multipartVisit(w, { area: w.buurt });
  assert.equal(placed(w, other.body.id), `${w.buurt}|-|-`);
  await patchEntry(w, other.body.id, { lat: w.lat, lon: w.lon });
  assert.equal(placed(w, other.body.id), want);
  await patchEntry(w, other.body.id, { area: w.buurt });
  assert.equal(placed(w, other.body.id), `${w.buurt}|-|-`);
  await patchEntry(w, json.body.id, { title: 'alleen de titel' });
  assert.equal(placed(w, json.body.id), want, 'other fields leave the point alone');
});

test('the old name odk_keep_location is still read, with a warning, for every path', { timeout: 60000 }, async () => {
  const conf = path.join(tmpdir('keeploc'), 'verhaald.conf');
  const shipped = readFileSync(path.join(top, 'config/verhaald.conf'), 'utf8');
  assert.match(shipped, /^keep_location = false$/m, 'the shipped file names the new key');
  assert.doesNotMatch(shipped, /^odk_keep_location/m);
  writeFileSync(conf, shipped.replace(/^keep_location = false$/m, 'odk_keep_location = true'));
  const w = await world({}, ['-c', conf]);
  assert.match(w.d.log(), /odk_keep_location is deprecated; it is read as keep_location/);
  const json = await multipartVisit(w, { lat: w.lat, lon: w.lon });
  assert.equal(placed(w, json.body.id), `${w.buurt}|${w.lat}|${w.lon}`);
  const odk = await odkVisit(w);
  assert.match(psql(w.db, `SELECT location FROM odk_submission WHERE instance_id = '${odk.id}'`), /^\d/);
});
