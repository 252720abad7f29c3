// Search: keyset pagination stays stable while entries arrive; the area
// dossier with its small-count threshold and divergence flag; CSV and
// GeoJSON exports; a GPS point maps to its buurt.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { searchSetup, allPages, importAreas } from './lib/search.mjs';

let s;
let haveAreas = false;
before(async () => {
  s = await searchSetup();
  haveAreas = importAreas(s.url);
});
after(async () => { await s?.d.stop(); });

test('pagination is stable while new entries arrive between page fetches', async () => {
  s.collection('page');
  const made = [];
  for (let i = 0; i < 23; i++) {
    made.push(await s.post('fw', { kind: 'visit', collection: 'page', text: `overlast nummer ${i}`,
      occurred_at: `2023-01-${String(1 + (i % 5)).padStart(2, '0')}T10:00:00Z` }));
  }
  let added = 0;
  const onPage = async () => {
    // Newer entries, and one dated in the middle of the range.
    await s.post('fw', { kind: 'visit', collection: 'page', text: 'overlast nieuw' });
    await s.post('fw', { kind: 'visit', collection: 'page', text: 'overlast midden',
      occurred_at: '2023-01-03T10:00:00Z' });
    added += 2;
  };
  for (const p of ['/api/v1/entries?collection=page&limit=5',
    '/api/v1/entries?collection=page&limit=4&q=overlast&sort=relevance']) {
    const seen = await allPages(s.get, 'ad', p, onPage);
    assert.equal(new Set(seen).size, seen.length, `${p}: no entry twice`);
    for (const id of made) assert.ok(seen.includes(id), `${p}: entry ${id} not skipped`);
  }
  assert.ok(added > 0);
  // Recent order: by occurred_at (or arrival), newest first.
  const r = await s.get('ad', '/api/v1/entries?collection=page&limit=200&q=nummer&sort=recent');
  const t = r.body.items.map((i) => Date.parse(i.occurred_at));
  assert.deepEqual(t, [...t].sort((a, b) => b - a));
  // A cursor of one order is refused by the other.
  const r1 = await s.get('ad', '/api/v1/entries?collection=page&limit=2');
  const r2 = await s.get('ad', `/api/v1/entries?collection=page&limit=2&q=overlast&cursor=${r1.body.next_cursor}`);
  assert.equal(r2.status, 400);
});

test('dossier: stories per theme and year, counts below k as "<5", divergence flag', async (t) => {
  if (!haveAreas) { t.skip('../shared/data/areas is absent'); return; }
  s.collection('dos');
  const mk = (year, n) => Array.from({ length: n }, () => s.post('fw', { kind: 'visit',
    collection: 'dos', area: 'BU03440311', themes: ['woninginbraak'],
    occurred_at: `${year}-05-01T12:00:00Z`, text: 'inbraak verhaal' }));
  await Promise.all([...mk(2021, 5), ...mk(2023, 12)]);
  await s.post('fw', { kind: 'visit', collection: 'dos', area: 'BU03440311', themes: ['geweld'],
    occurred_at: '2022-05-01T12:00:00Z', text: 'ruzie' });
  s.sql(`UPDATE entry SET status = 'published' WHERE collection_id = (SELECT id FROM collection WHERE slug = 'dos')`);
  // Registered burglaries fall from 40 to 20 while stories rise.
  s.sql(`INSERT INTO indicator (key, title, unit, source) VALUES
    ('47018NED/GeregistreerdeMisdrijven_1/1.1.1', 'Woninginbraak', 'aantal', 'test')
    ON CONFLICT (key) DO NOTHING`);
  s.sql(`INSERT INTO indicator_value (indicator_id, area_code, period_type, period, period_start, value, source_file)
    SELECT id, 'BU03440311', 'year', y::text, make_date(y, 1, 1), v, 'test'
      FROM indicator, (VALUES (2021, 40), (2023, 20)) x(y, v)
     WHERE key = '47018NED/GeregistreerdeMisdrijven_1/1.1.1'`);
  const r = await s.get('an', '/api/v1/areas/BU03440311/dossier?from=2020&to=2024');
  assert.equal(r.status, 200);
  const d = r.body;
  assert.deepEqual(d.axis, ['2020', '2021', '2022', '2023', '2024']);
  const th = Object.fromEntries(d.stories.themes.map((x) => [x.theme, x.counts]));
  assert.deepEqual(th.woninginbraak, [0, 5, 0, 12, 0]);
  assert.deepEqual(th.geweld, [0, 0, '<5', 0, 0]);
  assert.deepEqual(d.stories.total, [0, 5, '<5', 12, 0]);
  const ind = d.indicators.find((i) => i.key.endsWith('/1.1.1'));
  assert.deepEqual(ind.values.map((v) => [v.period, v.value]), [['2021', 40], ['2023', 20]]);
  const div = d.divergence.find((x) => x.theme === 'woninginbraak');
  assert.equal(div.diverging, true);
  assert.equal(div.note, 'registered figures fall while stories rise');
  assert.equal(div.indicator_change, -0.5);
  assert.ok(d.latest.length > 0 && d.latest.length <= 10);
  // The wijk's dossier counts its buurten's stories; the gemeente's all.
  const w = (await s.get('an', '/api/v1/areas/WK034403/dossier?from=2020&to=2024')).body;
  assert.deepEqual(w.stories.total, [0, 5, '<5', 12, 0]);
  assert.equal((await s.get('an', '/api/v1/areas/BU09999999/dossier')).status, 404);
});

test('CSV export: UTF-8 BOM, header, one row per entry with area and themes', async () => {
  s.collection('csv');
  const a = await s.post('fw', { kind: 'visit', collection: 'csv', area: 'BU03440111',
    themes: ['geweld', 'woninginbraak'], title: 'Eén, "twee"', text: 'regel 1\nregel 2' });
  const b = await s.post('fw', { kind: 'story', collection: 'csv', text: 'zonder buurt' });
  const r = await fetch(`${s.d.url}/api/v1/exports/entries.csv?collection=csv`,
    { headers: { Authorization: `Bearer ${s.tok.ad}` } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/csv; charset=utf-8/);
  assert.match(r.headers.get('content-disposition'), /attachment; filename="entries.csv"/);
  const bytes = Buffer.from(await r.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const text = bytes.subarray(3).toString('utf8');
  const header = text.split('\n')[0];
  assert.equal(header, 'id,kind,status,occurred_at,created_at,area_code,area_name,wijk_code,wijk_name,collection,themes,title,text,transcript,media');
  // PostgreSQL's CSV quoting: embedded quotes doubled, newlines inside quotes.
  assert.ok(text.includes(`${a},visit,pending_review,`));
  assert.ok(text.includes(',BU03440111,'));
  assert.ok(text.includes(',WK034401,'));
  assert.ok(text.includes(',geweld;woninginbraak,"Eén, ""twee""","regel 1\nregel 2",'));
  assert.ok(text.includes(`\n${b},story,`));
  const semi = await (await fetch(`${s.d.url}/api/v1/exports/entries.csv?collection=csv&sep=semicolon`,
    { headers: { Authorization: `Bearer ${s.tok.ad}` } })).text();
  assert.ok(semi.includes('id;kind;status;'));
});

test('GeoJSON export: buurten with entry counts (k-protected) and indicator values', async (t) => {
  if (!haveAreas) { t.skip('../shared/data/areas is absent'); return; }
  s.collection('geo');
  for (let i = 0; i < 7; i++) await s.post('fw', { kind: 'visit', collection: 'geo', area: 'BU03440111', text: 'x' });
  for (let i = 0; i < 2; i++) await s.post('fw', { kind: 'visit', collection: 'geo', area: 'BU03440112', text: 'y' });
  s.sql(`INSERT INTO indicator (key, title, unit, source) VALUES ('test/inwoners', 'Inwoners', 'aantal', 'test')`);
  s.sql(`INSERT INTO indicator_value (indicator_id, area_code, period_type, period, period_start, value, source_file)
    SELECT id, 'BU03440111', 'year', '2024', '2024-01-01', 1234, 'test' FROM indicator WHERE key = 'test/inwoners'`);
  const r = await s.get('ad', '/api/v1/exports/buurten.geojson?collection=geo&area=WK034401');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/geo\+json/);
  assert.equal(r.body.type, 'FeatureCollection');
  const byCode = Object.fromEntries(r.body.features.map((f) => [f.properties.code, f]));
  assert.ok(Object.keys(byCode).every((c) => c.startsWith('BU034401')));
  assert.equal(Object.keys(byCode).length, Number(s.sql("SELECT count(*) FROM area WHERE parent = 'WK034401'")));
  assert.equal(byCode.BU03440111.properties.entries, 7);
  assert.equal(byCode.BU03440112.properties.entries, '<5');
  assert.equal(byCode.BU03440111.properties['test/inwoners'], 1234);
  assert.match(byCode.BU03440111.geometry.type, /Polygon/);
  assert.equal(byCode.BU03440111.properties.wijk, 'WK034401');
  const all = await s.get('ad', '/api/v1/exports/buurten.geojson?collection=geo');
  assert.equal(all.body.features.length, 111);
});

test('a GPS point inside a buurt polygon maps to that buurt', async (t) => {
  if (!haveAreas) { t.skip('../shared/data/areas is absent'); return; }
  for (const code of ['BU03440111', 'BU03440611', 'BU03440922']) {
    const [lon, lat] = s.sql(`SELECT ST_X(p) || ' ' || ST_Y(p) FROM (SELECT ST_PointOnSurface(boundary) p
      FROM area WHERE code = '${code}') x`).split(' ');
    const r = await s.get('an', `/api/v1/areas?lat=${lat}&lon=${lon}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.code, code);
    assert.equal(r.body.level, 'buurt');
  }
  // The North Sea is in no buurt.
  assert.equal((await s.get('an', '/api/v1/areas?lat=52.5&lon=4.0')).status, 404);
  const a = await s.get('an', '/api/v1/areas/WK034401');
  assert.equal(a.body.level, 'wijk');
  assert.ok(a.body.children.some((c) => c.code === 'BU03440111'));
  assert.equal((await s.get('an', '/api/v1/areas?level=wijk')).body.length, 10);
});

test('themes, collections and indicators: lists, and admin-only creation', async () => {
  const th = await s.get('an', '/api/v1/themes');
  assert.equal(th.body.length >= 11, true);
  assert.equal(th.body[0].slug, 'veiligheidsgevoel');
  const post = (who, p, body) => fetch(`${s.d.url}${p}`, { method: 'POST',
    headers: { Authorization: `Bearer ${s.tok[who]}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body) });
  assert.equal((await post('an', '/api/v1/themes', { title: 'Drugsoverlast' })).status, 403);
  const r = await post('ad', '/api/v1/themes', { title: 'Drugs overlast' });
  assert.equal(r.status, 201);
  assert.equal((await r.json()).slug, 'drugs-overlast');
  assert.equal((await post('ad', '/api/v1/themes', { title: 'Drugs overlast' })).status, 409);
  const c = await post('ad', '/api/v1/collections', { slug: 'wg-overvecht-2018', title: 'Wijkgesprekken Overvecht 2018' });
  assert.equal(c.status, 201);
  assert.match((await c.json()).upload_key, /^vh_/);
  assert.equal((await post('ad', '/api/v1/collections', { slug: 'Bad Slug', title: 'x' })).status, 422);
  const cl = await s.get('an', '/api/v1/collections');
  assert.ok(cl.body.some((x) => x.slug === 'wg-overvecht-2018'));
  const ind = await s.get('an', '/api/v1/indicators');
  assert.equal(ind.status, 200);
  assert.ok(Array.isArray(ind.body));
});
