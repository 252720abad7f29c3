// Search: sort=relevance pages are exactly the ranking of every match, by
// ts_rank and then id, also where verhaal ranks only the entries with a
// query word in their title or tags (schema/0025: when enough of those
// outrank anything else). Each query's pages, followed through their
// cursors, are compared with the ranking PostgreSQL gives over all
// matches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { searchSetup, allPages } from './lib/search.mjs';

let s;
before(async () => { s = await searchSetup(); });
after(async () => { await s?.d.stop(); });

test('relevance pages equal the full ranking, with and without head matches', async () => {
  s.collection('rank');
  const titles = ['Fiets gestolen', 'Mijn fietsen', 'Buurt', 'Gesprek', 'Inbraak in de buurt',
    'Melding', 'Fietsenstalling vol', 'De buurtapp', 'Overlast', 'Fiets'];
  const texts = ['mijn fiets is gestolen bij het station', 'de buurt is rustig, de buren ook',
    'inbraakpoging bij de buren, fiets weg', 'fietsen fietsen fietsen in de buurt',
    'niets over tweewielers', 'woninginbraken in de wijk en een fiets', 'gewoon een verhaal'];
  const posts = [];
  for (let i = 0; i < 42; i++) {
    posts.push(s.post('fw', { kind: 'visit', collection: 'rank', title: titles[i % titles.length],
      text: texts[(i * 3) % texts.length], themes: i % 4 === 0 ? ['fietsendiefstal'] : [] }));
  }
  await Promise.all(posts);
  s.sql("UPDATE entry SET status = 'published' WHERE collection_id = (SELECT id FROM collection WHERE slug = 'rank')");
  for (const q of ['fiets', 'buurt', 'fietsen', 'fiets or buurt', 'fiets gestolen', '"de buurt"',
    'inbraak', '-fiets buurt']) {
    const expect = JSON.parse(s.sql(`SELECT coalesce(json_agg(id ORDER BY r DESC, id DESC), '[]')
      FROM (SELECT id, ts_rank(search, websearch_to_tsquery('verhaal_dutch', '${q.replace(/'/g, "''")}')) AS r
      FROM entry WHERE status IN ('approved', 'published')
      AND search @@ websearch_to_tsquery('verhaal_dutch', '${q.replace(/'/g, "''")}')) x`));
    assert.ok(expect.length > 0, `${q}: matches something`);
    for (const limit of [1, 2, 3, 5, 50]) {
      const seen = await allPages(s.get, 'an',
        `/api/v1/entries?collection=rank&sort=relevance&limit=${limit}&q=${encodeURIComponent(q)}`);
      assert.deepEqual(seen, expect, `${q}, limit ${limit}: the full ranking, page by page`);
    }
  }
  // The head (title and tags) decides the first pages of a one-word query
  // here: more than three title matches outrank every text-only match.
  const head = Number(s.sql(`SELECT count(*) FROM entry WHERE ts_filter(search, '{a,b}')
    @@ websearch_to_tsquery('verhaal_dutch', 'fiets') AND ts_rank(search,
    websearch_to_tsquery('verhaal_dutch', 'fiets')) > 0.33`));
  assert.ok(head > 3, `head matches of "fiets": ${head}`);
});
