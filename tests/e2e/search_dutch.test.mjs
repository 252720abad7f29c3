// Dutch search through the daemon's search API: a test set of stories and
// queries (tests/e2e/data/search_dutch.json) with the stories a person
// expects for each query, covering inflection (fiets/fietsen), compounds
// (woninginbraken, inbraakpoging, fietsendiefstal), diminutives (fietsje,
// bankjes), separable verbs and words that must not match. Recall and
// precision over the whole set are reported and must both be at least 0.9.
// Also: the exact form ranks first, every word of a phrase is marked in
// the snippet, and bad periods are 400s in our words.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { searchSetup } from './lib/search.mjs';

const set = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)),
  'data', 'search_dutch.json'), 'utf8'));

let s;
const idOf = {};	// story key -> entry id
const keyOf = {};	// entry id -> story key
before(async () => {
  s = await searchSetup();
  s.collection('nl');
  for (const [key, text] of Object.entries(set.stories)) {
    const id = await s.post('fw', { kind: 'story', collection: 'nl', text });
    idOf[key] = id;
    keyOf[id] = key;
  }
});
after(async () => { await s?.d.stop(); });

const search = async (q, extra = '') => {
  const r = await s.get('ad', `/api/v1/entries?collection=nl&limit=200&facets=false${extra}&q=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
  return r.body.items;
};

test('the test set is as large as promised', () => {
  assert.ok(Object.keys(set.stories).length >= 60);
  assert.ok(set.queries.length >= 40);
});

test('recall and precision of the Dutch test set are at least 0.9', async (t) => {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const lines = [];
  for (const { q, expect } of set.queries) {
    const got = new Set((await search(q)).map((i) => keyOf[i.id]));
    const want = new Set(expect);
    const hit = [...want].filter((k) => got.has(k));
    const extra = [...got].filter((k) => !want.has(k));
    const missed = [...want].filter((k) => !got.has(k));
    tp += hit.length;
    fp += extra.length;
    fn += missed.length;
    if (extra.length || missed.length) {
      lines.push(`${q}: missed ${missed.join(',') || '-'}; unexpected ${extra.join(',') || '-'}`);
    }
  }
  const recall = tp / (tp + fn);
  const precision = tp / (tp + fp);
  for (const l of lines) t.diagnostic(l);
  t.diagnostic(`recall ${recall.toFixed(3)}, precision ${precision.toFixed(3)} over ${set.queries.length} queries, ${tp} hits`);
  console.log(`search_dutch: recall ${recall.toFixed(3)}, precision ${precision.toFixed(3)} (${set.queries.length} queries, ${Object.keys(set.stories).length} stories)`);
  assert.ok(recall >= 0.9, `recall ${recall.toFixed(3)} < 0.9`);
  assert.ok(precision >= 0.9, `precision ${precision.toFixed(3)} < 0.9`);
});

test('the misses of the issue are found', async () => {
  const keys = async (q) => (await search(q)).map((i) => keyOf[i.id]);
  assert.ok((await keys('fietsen gestolen')).includes('s01'), 'fietsen gestolen -> "Mijn fiets is gestolen"');
  const inbraak = await keys('inbraak');
  assert.ok(inbraak.includes('s03'), 'inbraak -> Inbraakpoging');
  assert.ok(inbraak.includes('s04'), 'inbraak -> woninginbraken');
  assert.ok((await keys('woninginbraak')).includes('s04'), 'woninginbraak -> woninginbraken');
  assert.ok((await keys('fiets')).includes('s08'), 'fiets -> fietsje');
  assert.ok((await keys('fiets')).includes('s07'), 'fiets -> fietsendiefstal');
  // And what must stay apart.
  assert.ok(!(await keys('fietsen gestolen')).includes('s64'), 'cycling to work is no theft');
  assert.ok(!(await keys('auto')).includes('s67'), 'autoriteiten are no cars');
  assert.ok(!(await keys('stel')).includes('s62'), 'het stel is not gestolen');
});

test('ranking prefers the exact form', async () => {
  const items = (await search('fietsen')).map((i) => keyOf[i.id]);
  // s02, s53 and s61 say "fietsen"; s01 and s09 only "fiets".
  const exact = ['s02', 's53', 's61'].map((k) => items.indexOf(k));
  const other = ['s01', 's09'].map((k) => items.indexOf(k));
  assert.ok(exact.every((i) => i >= 0) && other.every((i) => i >= 0), items.join(','));
  assert.ok(Math.max(...exact) < Math.min(...other), `exact forms first: ${items.join(',')}`);
  // The compound itself before its parts in other words.
  const c = (await search('inbraakpoging')).map((i) => keyOf[i.id]);
  assert.deepEqual(c, ['s03', 's72']);
});

test('every matched word of a phrase is highlighted', async () => {
  const cases = [
    ['"fiets is gestolen"', 's01', ['fiets', 'gestolen']],
    ['"fietsen gestolen"', 's02', ['fietsen', 'gestolen']],
    ['"inbraakpoging bij de buren"', 's03', ['inbraakpoging', 'buren']],
    ['"drie woninginbraken"', 's04', ['drie', 'woninginbraken']],
    ['"tas gestolen"', 's62', ['tas', 'gestolen']],
  ];
  for (const [q, key, words] of cases) {
    const item = (await search(q)).find((i) => i.id === idOf[key]);
    assert.ok(item, `${q} finds ${key}`);
    for (const w of words) {
      assert.ok(item.snippet.includes(`<mark>${w}</mark>`), `${q}: ${w} marked in ${item.snippet}`);
    }
  }
});

test('bad periods and filters are 400s in our words', async () => {
  const cases = [
    ['from=2023-13', /'from' has a month outside 01-12/],
    ['to=2023-02-30', /'to' is not a day of the calendar/],
    ['from=2024-02-29', null],
    ['from=2023-02-29', /'from' is not a day of the calendar/],
    ['from=0000', /'from' has a year outside 1900-2199/],
    ['from=2023-1-5', /'from' must be a year \(2023\), a month \(2023-05\) or a day/],
    ['from=2024&to=2023', /'from' \(2024\) begins after 'to' \(2023\) ends/],
    ['from=2023-05&to=2023', null],
    ['area=XX12', /'area' must be a CBS area code/],
    ['kind=poem', /'kind' must be story or visit/],
    ['status=done', /'status' must be one of/],
    ['sort=best', /'sort' must be relevance or recent/],
  ];
  for (const [qs, want] of cases) {
    const r = await s.get('ad', `/api/v1/entries?collection=nl&${qs}`);
    if (want === null) {
      assert.equal(r.status, 200, `${qs}: ${JSON.stringify(r.body)}`);
      continue;
    }
    assert.equal(r.status, 400, `${qs}: ${r.status} ${JSON.stringify(r.body)}`);
    assert.match(r.headers.get('content-type'), /application\/problem\+json/);
    assert.match(r.body.detail, want, qs);
    assert.doesNotMatch(r.body.detail, /date\/time|out of range|ERROR|invalid input syntax/, qs);
  }
  // The dossier's period checks are the same.
  const d = await s.get('an', '/api/v1/areas/GM0344/dossier?from=2023-13');
  assert.equal(d.status, 400);
  assert.match(d.body.detail, /'from' has a month outside 01-12/);
});
