// Issue 11, the items after the audit trail and consent texts:
//   2. field visits enter review like stories (review_visits), and the
//      moderators' queue shows both kinds;
//   3. small numbers are suppressed in area and theme statistics only,
//      with complementary suppression, never in a list, a queue or a
//      person's own entries;
//   5. unknown areas and themes, bad dates and slugs get precise 422s in
//      our words; has_audio counts only accepted files; collection create
//      keeps an existing link and rotate-link replaces it, audited;
//   6. field workers list areas, place entries by lat/lon (not stored),
//      and change or withdraw their own entry until it is published.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { searchSetup } from './lib/search.mjs';
import { randomUUID } from 'node:crypto';
import { build, ctl, freshDatabase, psql, startDaemon, top, waitFor } from './lib/harness.mjs';
import { collectPost, instanceXml, newToken } from './lib/odk.mjs';

let s;
before(async () => {
  // Media runners on: a file's job decides whether it counts as audio.
  s = await searchSetup({ VERHAAL_MEDIA_RUNNERS: '2' });
  // Utrecht's areas and buurt boundaries, as the first run seeds them.
  const seed = path.join(top, 'contrib/seed');
  ctl(s.url, 'import-areas', path.join(seed, 'cbs_47018NED_WijkenEnBuurten_indeling2024_utrecht.csv'),
    path.join(seed, 'utrecht_buurten_gemeente2013_wgs84.geojson'));
});
after(async () => { await s.d.stop('SIGKILL'); });

const CONSENT = { scope: 'publish', version: '2024-05', language: 'nl' };
const send = (who, method, p, body) => fetch(`${s.d.url}${p}`, {
  method, headers: { Authorization: `Bearer ${s.tok[who]}`, 'Content-Type': 'application/json' },
  body: body === undefined ? undefined : JSON.stringify(body),
}).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
// POST /api/v1/entries, answering status and body (post() throws on non-201).
const submit = async (who, entry, files = []) => {
  const fd = new FormData();
  fd.append('entry', JSON.stringify(entry));
  for (const f of files) fd.append('file', new Blob([f.data], { type: f.type }), f.name);
  const r = await fetch(`${s.d.url}/api/v1/entries`, { method: 'POST', headers: { Authorization: `Bearer ${s.tok[who]}` }, body: fd });
  return { status: r.status, body: await r.json() };
};
const resident = async (slug, key, entry) => {
  const fd = new FormData();
  fd.append('entry', JSON.stringify(entry));
  const r = await fetch(`${s.d.url}/api/v1/collections/${slug}/uploads?key=${encodeURIComponent(key)}`, { method: 'POST', body: fd });
  return { status: r.status, body: await r.json() };
};
const keyOf = (out) => out.trim().split('\n').pop();

test('a visit waits in the moderators\' queue beside a story, with its kind; redaction and approval work on it', async () => {
  const key = keyOf(s.collection('rev'));
  const story = await resident('rev', key, { text: 'Ons verhaal over de straat', consent: CONSENT });
  assert.equal(story.status, 201, JSON.stringify(story.body));
  const visit = await submit('fw', { kind: 'visit', collection: 'rev', area: 'BU03440111', text: 'Gesprek met Jan de Vries bij de school' });
  assert.equal(visit.status, 201);
  assert.equal(visit.body.status, 'pending_review');
  // Analysts see neither before a moderator decides.
  assert.equal((await s.get('an', `/api/v1/entries/${visit.body.id}`)).status, 404);
  const q = await s.get('mo', '/api/v1/entries?status=pending_review&collection=rev');
  assert.equal(q.status, 200);
  assert.deepEqual(q.body.items.map((i) => [i.id, i.kind]).sort(),
    [[story.body.id, 'story'], [visit.body.id, 'visit']].sort());
  // The queue's size is a work queue, not a statistic: exact.
  assert.equal(q.body.total, 2);
  // The name in the note is redacted as in a story.
  const text = 'Gesprek met Jan de Vries bij de school';
  const at = text.indexOf('Jan de Vries');
  const red = await send('mo', 'POST', `/api/v1/entries/${visit.body.id}/redact`, { text: [{ start: at, end: at + 12 }] });
  assert.equal(red.status, 200, JSON.stringify(red.body));
  assert.equal((await send('mo', 'POST', `/api/v1/entries/${visit.body.id}/approve`, {})).status, 200);
  const seen = await s.get('an', `/api/v1/entries/${visit.body.id}`);
  assert.equal(seen.status, 200);
  assert.ok(!seen.body.text.includes('Jan de Vries'), seen.body.text);
  const csv = await s.get('an', '/api/v1/exports/entries.csv?collection=rev');
  assert.ok(!csv.body.includes('Jan de Vries'), 'the export carries the redacted note');
});

test('review_visits = false releases visits to analysts on arrival', async () => {
  const url = freshDatabase();
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_REVIEW_VISITS: 'false' } });
  try {
    const fw = ctl(url, 'token', 'create', '--user', 'fwoff', '--role', 'fieldworker').trim().split('\n').pop();
    const an = ctl(url, 'token', 'create', '--user', 'anoff', '--role', 'analyst').trim().split('\n').pop();
    // From ODK Collect too, first, on connections no other path set up.
    const odk = newToken(url, 'fwodk', d.url);
    const id = `uuid:${randomUUID()}`;
    assert.equal((await collectPost(`${odk.serverUrl}/submission`, instanceXml({ id }))).status, 201);
    assert.equal(psql(url, `SELECT e.status FROM odk_submission o JOIN entry e ON e.id = o.entry_id WHERE o.instance_id = '${id}'`), 'approved');
    const fd = new FormData();
    fd.append('entry', JSON.stringify({ kind: 'visit', text: 'zonder review' }));
    const r = await fetch(`${d.url}/api/v1/entries`, { method: 'POST', headers: { Authorization: `Bearer ${fw}` }, body: fd });
    const e = await r.json();
    assert.equal(r.status, 201);
    assert.equal(e.status, 'approved');
    const g = await fetch(`${d.url}/api/v1/entries/${e.id}`, { headers: { Authorization: `Bearer ${an}` } });
    assert.equal(g.status, 200);
  } finally {
    await d.stop('SIGKILL');
  }
});

test('small numbers: exact in lists, queues, own entries and collection sizes; area facets suppressed with their complement', async () => {
  s.collection('small');
  const ids = [];
  for (let i = 0; i < 6; i++) ids.push(await s.post('fw2', { kind: 'visit', collection: 'small', area: 'BU03440111', themes: ['woninginbraak'], text: `a ${i}` }));
  for (let i = 0; i < 2; i++) ids.push(await s.post('fw2', { kind: 'visit', collection: 'small', area: 'BU03440211', themes: ['geweld'], text: `b ${i}` }));
  // A field worker's own entries: 8, not "<5" of anything.
  const own = await s.get('fw2', '/api/v1/entries?collection=small&limit=3');
  assert.equal(own.body.total, 8);
  const ownSmall = await s.get('fw2', '/api/v1/entries?collection=small&area=WK034402');
  assert.equal(ownSmall.body.total, 2);
  assert.equal(ownSmall.body.items.length, 2);
  // The admin's collection list counts exactly.
  const cols = await s.get('ad', '/api/v1/collections');
  s.collection('tiny');
  await s.post('fw2', { kind: 'visit', collection: 'tiny', text: 'een' });
  const cols2 = await s.get('ad', '/api/v1/collections');
  assert.equal(cols2.body.find((c) => c.slug === 'tiny').entries, 1);
  assert.equal(cols.body.find((c) => c.slug === 'small').entries, 8);
  s.sql(`UPDATE entry SET status = 'published' WHERE id IN (${ids.join(',')})`);
  // An analyst's search: the list's total and kinds are exact ...
  const r = await s.get('an', '/api/v1/entries?collection=small&limit=1');
  assert.equal(r.body.total, 8);
  const f = (name) => Object.fromEntries(r.body.facets[name].map((x) => [x.value, x.count]));
  assert.deepEqual(f('kind'), { visit: 8 });
  // ... the wijk facet hides the small cell and the one that would give
  // it away as 8 - 6.
  assert.deepEqual(f('wijk'), { WK034401: 'x', WK034402: '<5' });
  // Themes do not add up (an entry may have several): the small one alone.
  assert.deepEqual(f('theme'), { woninginbraak: 6, geweld: '<5' });
  const few = await s.get('an', '/api/v1/entries?collection=small&area=WK034402');
  assert.equal(few.body.total, 2);
  assert.equal(few.body.items.length, 2);
  // The map still suppresses small buurten.
  const geo = await s.get('an', '/api/v1/exports/buurten.geojson?collection=small&area=WK034402');
  const b = JSON.parse(typeof geo.body === 'string' ? geo.body : JSON.stringify(geo.body));
  assert.equal(b.features.find((x) => x.id === 'BU03440211').properties.entries, '<5');
});

test('unknown areas and themes, bad dates and slugs: 422 naming the field, in our words', async () => {
  s.collection('chk');
  const area = await submit('fw', { kind: 'visit', collection: 'chk', area: 'BU99999999', text: 'x' });
  assert.equal(area.status, 422);
  assert.match(area.body.detail, /'area'.*BU99999999/);
  const theme = await submit('fw', { kind: 'visit', collection: 'chk', themes: ['geweld', 'bestaat-niet'], text: 'x' });
  assert.equal(theme.status, 422);
  assert.match(theme.body.detail, /'themes'.*bestaat-niet/);
  const weird = await submit('fw', { kind: 'visit', themes: ['Ünïcode <b>'], text: 'x' });
  assert.equal(weird.status, 422);
  assert.match(weird.body.detail, /'themes': item 1/);
  assert.ok(!weird.body.detail.includes('<b>'));
  const date = await submit('fw', { kind: 'visit', occurred_at: 'gisteren', text: 'x' });
  assert.equal(date.status, 422);
  assert.match(date.body.detail, /'occurred_at'/);
  assert.doesNotMatch(date.body.detail, /invalid input syntax|timestamp with time zone/);
  assert.equal(s.sql(`SELECT count(*) FROM entry WHERE collection_id = (SELECT id FROM collection WHERE slug = 'chk')`), '0');
  for (const slug of ['Bad Slug!', '-x', 'a'.repeat(65)]) {
    const c = await send('ad', 'POST', '/api/v1/collections', { slug, title: 'T' });
    assert.equal(c.status, 422, slug);
    assert.match(c.body.detail, /'slug' must be/);
    assert.doesNotMatch(c.body.detail, /constraint|violates|\\x/);
  }
  // A date of no calendar in an audit filter: our words, not the database's.
  const au = await send('ad', 'GET', '/api/v1/audit?since=2024-13-45');
  assert.equal(au.status, 400);
  assert.match(au.body.detail, /since and until must be dates or times of the calendar/);
  assert.doesNotMatch(au.body.detail, /out of range|invalid input|2024-13-45/);
  const noTitle = await send('ad', 'POST', '/api/v1/collections', { slug: 'ok-slug', title: '' });
  assert.equal(noTitle.status, 422);
  assert.match(noTitle.body.detail, /'title'/);
});

test('has_audio and has_photo count only files processing accepted', async () => {
  s.collection('med');
  // A WAVE header (libmagic: audio) whose format has no channels and no
  // rate: classified as audio, then refused by the decoder.
  const wav = Buffer.alloc(44 + 4096);
  wav.write('RIFF', 0); wav.writeUInt32LE(36 + 4096, 4); wav.write('WAVE', 8);
  wav.write('fmt ', 12); wav.writeUInt32LE(16, 16); wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(0, 22); wav.writeUInt32LE(0, 24); wav.writeUInt32LE(0, 28);
  wav.writeUInt16LE(0, 32); wav.writeUInt16LE(16, 34);
  wav.write('data', 36); wav.writeUInt32LE(4096, 40);
  const id = await s.post('fw', { kind: 'visit', collection: 'med', text: 'kapotte opname' },
    [{ name: 'memo.wav', type: 'audio/wav', data: wav }]);
  await waitFor(() => s.sql(`SELECT status FROM media WHERE entry_id = ${id}`) === 'rejected', { timeout: 30000 });
  // Still known as a recording: only its refusal keeps it from counting.
  assert.equal(s.sql(`SELECT coalesce(family, declared_type) FROM media WHERE entry_id = ${id}`).startsWith('audio'), true);
  const r = await s.get('fw', '/api/v1/entries?collection=med');
  assert.equal(r.body.items[0].has_audio, false);
  assert.equal((await s.get('fw', '/api/v1/entries?collection=med&has_audio=true')).body.items.length, 0);
  assert.equal((await s.get('fw', '/api/v1/entries?collection=med&has_audio=false')).body.items.length, 1);
});

test('collection create keeps an existing link; rotate-link replaces it at once, audited', async () => {
  const old = keyOf(s.collection('poster'));
  const hash = s.sql(`SELECT encode(upload_secret_hash, 'hex') FROM collection WHERE slug = 'poster'`);
  const again = spawnSync(path.join(build, 'verhaalctl'), ['collection', 'create', '--slug', 'poster', '--title', 'Nog eens'],
    { encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: s.url } });
  assert.equal(again.status, 1);
  assert.match(again.stderr, /collection poster exists already; its upload link is unchanged/);
  assert.match(again.stderr, /rotate-link poster/);
  assert.equal(again.stdout, '');
  assert.equal(s.sql(`SELECT encode(upload_secret_hash, 'hex') FROM collection WHERE slug = 'poster'`), hash);
  const bad = spawnSync(path.join(build, 'verhaalctl'), ['collection', 'create', '--slug', 'Bad Slug', '--title', 'T'],
    { encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: s.url } });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /slug must be 1 to 64 lowercase letters/);
  assert.equal((await resident('poster', old, { text: 'voor', consent: CONSENT })).status, 201);
  const out = execFileSync(path.join(build, 'verhaalctl'), ['collection', 'rotate-link', 'poster'],
    { encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: s.url }, stdio: ['ignore', 'pipe', 'pipe'] });
  const fresh = out.trim();
  assert.match(fresh, /^vh_/);
  assert.notEqual(fresh, old);
  assert.equal((await resident('poster', old, { text: 'na', consent: CONSENT })).status, 401);
  assert.equal((await resident('poster', fresh, { text: 'na', consent: CONSENT })).status, 201);
  assert.equal(s.sql(`SELECT count(*) FROM audit WHERE action = 'collection_rotate_link' AND object_id = 'poster'`), '1');
  const none = spawnSync(path.join(build, 'verhaalctl'), ['collection', 'rotate-link', 'nergens'],
    { encoding: 'utf8', env: { ...process.env, VERHAAL_DATABASE_URL: s.url } });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no collection nergens/);
});

test('field workers list areas and place a visit by lat/lon; the position is not stored', async () => {
  assert.equal((await s.get('fw', '/api/v1/areas?level=buurt')).status, 200);
  // A point inside a stored buurt boundary (the seed's, or one set here).
  let pt = s.sql(`SELECT code || ' ' || ST_Y(p) || ' ' || ST_X(p) FROM (SELECT code, ST_PointOnSurface(boundary) AS p
    FROM area WHERE level = 'buurt' AND boundary IS NOT NULL ORDER BY code LIMIT 1) x`);
  if (pt === '') {
    s.sql(`UPDATE area SET boundary = ST_Multi(ST_MakeEnvelope(5.1100, 52.0900, 5.1200, 52.1000, 4326)) WHERE code = 'BU03440111'`);
    pt = 'BU03440111 52.0950123 5.1150456';
  }
  const [code, lat, lon] = pt.split(' ');
  const e = await submit('fw', { kind: 'visit', lat: Number(lat), lon: Number(lon), text: 'hier' });
  assert.equal(e.status, 201, JSON.stringify(e.body));
  assert.equal(e.body.area, code);
  const row = s.sql(`SELECT row_to_json(e)::text FROM entry e WHERE id = ${e.body.id}`);
  assert.ok(!row.includes(String(Number(lat)).slice(0, 7)) && !row.includes(String(Number(lon)).slice(0, 6)), row);
  const sea = await submit('fw', { kind: 'visit', lat: 0, lon: 0, text: 'zee' });
  assert.equal(sea.status, 422);
  assert.match(sea.body.detail, /'lat'\/'lon'/);
  const half = await submit('fw', { kind: 'visit', lat: 52.1, text: 'half' });
  assert.equal(half.status, 422);
  assert.match(half.body.detail, /'lat' and 'lon' go together/);
  const range = await submit('fw', { kind: 'visit', lat: 95, lon: 5, text: 'pool' });
  assert.equal(range.status, 422);
  assert.match(range.body.detail, /'lat' must be a number of degrees/);
});

test('a field worker changes and withdraws their own entry until it is published, audited', async () => {
  s.collection('own');
  const id = await s.post('fw', { kind: 'visit', collection: 'own', area: 'BU03440111', text: 'eerste versie' });
  const ch = await send('fw', 'PATCH', `/api/v1/entries/${id}`, { text: 'tweede versie', themes: ['geweld'] });
  assert.equal(ch.status, 200, JSON.stringify(ch.body));
  assert.equal(ch.body.text, 'tweede versie');
  assert.deepEqual(ch.body.themes, ['geweld']);
  assert.equal(s.sql(`SELECT body FROM entry WHERE id = ${id}`), 'tweede versie');
  assert.equal(s.sql(`SELECT reason FROM audit WHERE action = 'edit' AND object_id = '${id}'`), 'text,themes');
  // Checked like a new entry; others' entries are none of theirs.
  assert.equal((await send('fw', 'PATCH', `/api/v1/entries/${id}`, { area: 'BU99999999' })).status, 422);
  assert.equal((await send('fw', 'PATCH', `/api/v1/entries/${id}`, { kind: 'story' })).status, 422);
  assert.equal((await send('fw2', 'PATCH', `/api/v1/entries/${id}`, { text: 'van een ander' })).status, 404);
  assert.equal((await send('fw2', 'POST', `/api/v1/entries/${id}/withdraw`)).status, 404);
  assert.equal((await send('an', 'PATCH', `/api/v1/entries/${id}`, { text: 'analist' })).status, 403);
  // Published: no more changes.
  s.sql(`UPDATE entry SET status = 'published' WHERE id = ${id}`);
  const late = await send('fw', 'PATCH', `/api/v1/entries/${id}`, { text: 'te laat' });
  assert.equal(late.status, 409);
  assert.match(late.body.detail, /published/);
  assert.equal((await send('fw', 'POST', `/api/v1/entries/${id}/withdraw`)).status, 409);
  // Before publication a withdrawal erases it.
  const id2 = await s.post('fw', { kind: 'visit', collection: 'own', text: 'terugnemen' });
  const w = await send('fw', 'POST', `/api/v1/entries/${id2}/withdraw`);
  assert.equal(w.status, 200, JSON.stringify(w.body));
  assert.equal(w.body.withdrawn, true);
  assert.equal(s.sql(`SELECT count(*) FROM entry WHERE id = ${id2}`), '0');
  assert.equal(s.sql(`SELECT count(*) FROM audit WHERE action = 'withdraw' AND object_id = '${id2}'`), '1');
  assert.equal((await send('fw', 'POST', `/api/v1/entries/${id2}/withdraw`)).status, 404);
  assert.match(ctl(s.url, 'audit', '--verify'), /audit chain intact/);
});
