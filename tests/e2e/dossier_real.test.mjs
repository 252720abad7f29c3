// Dossiers on the real data of ../shared/data: every file of areas/ and
// indicators/ imported with verhaalctl (the .xlsx workbooks too), then
// read through the daemon. A wijk has the crime figure CBS publishes
// only per buurt, summed from its buurten and saying so; the comparison
// of figures with stories is not empty; no indicator in any dossier is
// titled with a bare column code; series without a single figure are
// not stored. Skips when the shared data is absent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { shared } from './lib/harness.mjs';
import { searchSetup } from './lib/search.mjs';

const data = path.join(shared, 'data');
const have = existsSync(path.join(data, 'areas')) && existsSync(path.join(data, 'indicators'));
const CRIMES = '47018NED/GeregistreerdeMisdrijven_1/0.0.0';

let s;
let importOut = '';
before(async () => {
  if (!have) return;
  s = await searchSetup();
  const areas = readdirSync(path.join(data, 'areas')).map((f) => path.join(data, 'areas', f));
  s.ctl = (await import('./lib/harness.mjs')).ctl;
  s.ctl(s.url, 'import-areas', ...areas);
  const ind = readdirSync(path.join(data, 'indicators')).sort()
    .map((f) => path.join(data, 'indicators', f));
  importOut = s.ctl(s.url, 'import-indicators', ...ind);
});
after(async () => { await s?.d.stop(); });

const skip = (t) => { t.skip(`${data} is absent`); };
const num = (x) => Number(x);
// A title that is only a variable name: a_00_14, p_koopw, g_wozbag, bev_dich.
const bare = (title, key) => /^[a-z]{1,4}(_[a-z0-9]+)+$/.test(title) ||
  title === key.split('/').pop() || /^kwb-variabele /.test(title);

test('the workbooks are imported, not skipped', (t) => {
  if (!have) return skip(t);
  for (const y of ['2023', '2024']) {
    assert.match(importOut, new RegExp(`cbs_kwb-${y}_utrecht\\.xlsx: cbs-kwb \\(xlsx\\), 122 rows`));
  }
  assert.doesNotMatch(importOut, /skipped: [^\n]*\.xlsx/);
  // The workbook's figures are those of its CSV export.
  assert.equal(s.sql(`SELECT count(*) FROM indicator_value WHERE source_file = 'cbs_kwb-2024_utrecht.xlsx'`),
    s.sql(`SELECT count(*) FROM indicator_value v JOIN indicator i ON i.id = v.indicator_id
      WHERE i.key LIKE 'kwb/%' AND v.period = '2024'`));
});

test('a wijk has a crime figure summed from its buurten', async (t) => {
  if (!have) return skip(t);
  const r = await s.get('an', '/api/v1/areas/WK034404/dossier?from=2016&to=2025');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const crimes = r.body.indicators.find((i) => i.key === CRIMES);
  assert.ok(crimes, 'WK034404 has registered crimes');
  const v = crimes.values.find((x) => x.period === '2023');
  const buurten = s.sql(`SELECT count(*) FROM area WHERE parent = 'WK034404'`);
  const sum = s.sql(`SELECT sum(v.value) FROM indicator_value v JOIN indicator i ON i.id = v.indicator_id
    JOIN area a ON a.code = v.area_code WHERE i.key = '${CRIMES}' AND a.parent = 'WK034404'`);
  assert.equal(num(v.value), num(sum));
  assert.deepEqual(v.derived, { method: 'sum', buurten: num(buurten) });
  assert.equal(crimes.title, 'Geregistreerde misdrijven: Totaal misdrijven');
  // The gemeente: all 111 buurten, 25,395 crimes; residents too.
  const g = (await s.get('an', '/api/v1/areas/GM0344/dossier?from=2016&to=2025')).body;
  const gv = g.indicators.find((i) => i.key === CRIMES).values.find((x) => x.period === '2023');
  assert.equal(num(gv.value), 25395);
  assert.deepEqual(gv.derived, { method: 'sum', buurten: 111 });
  const pop = g.indicators.find((i) => i.key === '85984NED/population');
  assert.equal(pop.title, 'Inwoners');
  assert.equal(pop.values[0].derived.buurten, 111);
  // A figure of the area's own is never replaced: kwb gives wijken theirs.
  const inw = r.body.indicators.find((i) => i.key === 'kwb/a_inw').values.find((x) => x.period === '2023');
  assert.equal(inw.derived, undefined);
});

test('a sum needs every buurt; a rate is recomputed from its counts', (t) => {
  if (!have) return skip(t);
  // One buurt without a figure: the wijk gets none rather than too low a sum.
  const n = s.sql(`BEGIN; DELETE FROM indicator_value v USING indicator i WHERE i.id = v.indicator_id
    AND i.key = '${CRIMES}' AND v.area_code = 'BU03440411';
    SELECT vh_indicator_aggregate() >= 0;
    SELECT count(*) FROM indicator_figure v JOIN indicator i ON i.id = v.indicator_id
     WHERE i.key = '${CRIMES}' AND v.area_code IN ('WK034404', 'GM0344'); ROLLBACK`);
  assert.match(n, /\n0$/);
  // The files' own figures stay as they were: derived ones are apart.
  assert.equal(s.sql(`SELECT count(*) FROM indicator_value v JOIN indicator i ON i.id = v.indicator_id
    WHERE i.key = '${CRIMES}'`), '111');
  // Without the wijk's own birth rate, it is births / residents x 1000.
  const got = s.sql(`BEGIN; DELETE FROM indicator_value v USING indicator i WHERE i.id = v.indicator_id
    AND i.key = 'kwb/p_geb' AND v.area_code = 'WK034401' AND v.period = '2023';
    SELECT vh_indicator_aggregate() >= 0;
    SELECT v.value || '|' || v.derivation || '|' || round(1000 * b.value / r.value, 1)
      FROM indicator_figure v JOIN indicator i ON i.id = v.indicator_id AND i.key = 'kwb/p_geb'
      JOIN indicator_value b ON b.area_code = v.area_code AND b.period = v.period
       AND b.indicator_id = (SELECT id FROM indicator WHERE key = 'kwb/a_geb')
      JOIN indicator_value r ON r.area_code = v.area_code AND r.period = v.period
       AND r.indicator_id = (SELECT id FROM indicator WHERE key = 'kwb/a_inw')
     WHERE v.area_code = 'WK034401' AND v.period = '2023'; ROLLBACK`);
  const [value, how, want] = got.split('\n').pop().split('|');
  assert.equal(how, 'ratio');
  assert.equal(num(value), num(want));
});

test('the comparison is not empty and says its rule in words', async (t) => {
  if (!have) return skip(t);
  // Stories: in WK034404 mostly about feeling unsafe, elsewhere not.
  s.collection('real');
  const post = (area, themes, n) => Array.from({ length: n }, () => s.post('fw', {
    kind: 'story', collection: 'real', area, themes, text: 'verhaal', occurred_at: '2023-06-01T12:00:00Z' }));
  await Promise.all([...post('BU03440411', ['veiligheidsgevoel'], 6), ...post('BU03440412', ['geweld'], 2),
    ...post('BU03440111', ['overlast-en-leefbaarheid'], 12), ...post('BU03440111', ['veiligheidsgevoel'], 6)]);
  s.sql(`UPDATE entry SET status = 'published' WHERE collection_id = (SELECT id FROM collection WHERE slug = 'real')`);
  const d = (await s.get('an', '/api/v1/areas/WK034404/dossier?from=2016&to=2025')).body;
  assert.ok(d.divergence.length > 0, 'a non-empty comparison');
  assert.match(d.comparison_rule, /per 1,000 residents/);
  const v = d.divergence.find((x) => x.theme === 'veiligheidsgevoel');
  assert.ok(v, JSON.stringify(d.divergence));
  assert.equal(v.mode, 'level');
  assert.equal(v.indicator, CRIMES);
  assert.equal(v.compared_with, 'GM0344');
  assert.deepEqual(v.figures.map((f) => f.area), ['GM0344', 'WK034404']);
  for (const f of v.figures) assert.equal(f.rate, Math.round(10000 * f.count / f.residents) / 10);
  // 6 of the wijk's 8 stories, 12 of the city's 26: 75% against 46%.
  assert.deepEqual(v.story_shares, [Math.round(12000 / 26) / 1000, 0.75]);
  assert.ok(v.indicator_change < -0.1, 'fewer crimes per 1,000 residents than the city');
  assert.ok(v.stories_change > 0.1);
  assert.equal(v.diverging, true);
  assert.match(v.note, /lower than in the parent area while stories about the theme are more common/);
  assert.match(v.statement, /^In 2023 this wijk had [0-9.]+ Geregistreerde misdrijven: Totaal misdrijven per 1,000 residents against [0-9.]+ in Utrecht/);
  // Too few stories: said, not guessed; counts below k never leak.
  const g = d.divergence.find((x) => x.theme === 'geweld');
  assert.equal(g.stories_change, null);
  assert.equal(g.story_shares, null);
  assert.equal(g.note, 'too few stories to compare');
  assert.deepEqual(g.stories, ['<5', '<5']);	// the city's 2, all of them here
  // A buurt is compared with its wijk.
  const b = (await s.get('an', '/api/v1/areas/BU03440411/dossier?from=2016&to=2025')).body;
  assert.ok(b.divergence.length > 0);
  assert.ok(b.divergence.every((x) => x.compared_with === 'WK034404'));
});

test('no indicator in any dossier is titled with a bare column code', async (t) => {
  if (!have) return skip(t);
  const list = (await s.get('an', '/api/v1/indicators')).body;
  assert.ok(list.length > 50);
  for (const i of list) assert.ok(!bare(i.title, i.key), `${i.key} is titled '${i.title}'`);
  const areas = (await s.get('an', '/api/v1/areas')).body.map((a) => a.code);
  assert.equal(areas.length, 122);
  let seen = 0;
  for (const code of areas) {
    const d = (await s.get('an', `/api/v1/areas/${code}/dossier?from=2016&to=2025`)).body;
    for (const i of d.indicators) {
      seen++;
      assert.ok(!bare(i.title, i.key), `${code}: ${i.key} is titled '${i.title}'`);
      assert.ok(i.values.some((v) => v.value !== null), `${code}: ${i.key} has no figure`);
    }
  }
  assert.ok(seen > 1000);
});

test('series without a single figure are not stored', (t) => {
  if (!have) return skip(t);
  assert.equal(s.sql(`SELECT count(*) FROM indicator i WHERE NOT EXISTS (SELECT 1 FROM indicator_value v
    WHERE v.indicator_id = i.id AND v.value IS NOT NULL)`), '0');
  assert.equal(s.sql(`SELECT count(*) FROM indicator WHERE key IN ('kwb/g_ele',
    'statline/Gezondheid en welzijn/Huisartsenpraktijk/Afstand tot huisartsenpraktijk (km)')`), '0');
  // A series with figures in one year keeps the other year's gaps.
  assert.equal(s.sql(`SELECT count(*) FROM indicator_value v JOIN indicator i ON i.id = v.indicator_id
    WHERE i.key = 'kwb/a_geb' AND v.period = '2024' AND v.value IS NULL`), '122');
});
