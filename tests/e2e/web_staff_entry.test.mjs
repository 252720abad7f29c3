// The staff app's search results and entry page in a real chromium: a
// result with a photo shows its thumbnail (loaded, with Dutch alt text),
// and an analysis_only story, whose photo the analyst may not see, shows
// none, while the API hands out no link for it either; the entry page
// lists the entry's history from the audit trail (received, processed,
// redacted, published, by whom); and where the browser cannot play Opus
// (canPlayType stubbed to '') the player takes the AAC rendition and
// plays it. axe-core on every new state, screenshots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctl } from './lib/harness.mjs';
import { launch, skipWithoutChromium } from './lib/browser.mjs';
import { checkPage, json, skipWithoutWeb } from './lib/staffweb.mjs';
import { PASSWORD, webSetup } from './lib/webapp.mjs';
import { fixtures } from './lib/search.mjs';
import { waitMedia } from './lib/media.mjs';

// Signs in unless this browser's session cookie already does.
async function signIn(page, base, then) {
  await page.goto(`${base}${then}`);
  await page.waitForURL((u) => u.pathname === '/inloggen' || u.pathname === then.split('?')[0]);
  await page.locator('h1').first().waitFor();
  if (new URL(page.url()).pathname !== '/inloggen') return;
  await page.getByLabel('Accountnaam').fill('analist');
  await page.getByLabel('Wachtwoord').fill(PASSWORD);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.waitForURL((u) => u.pathname === then.split('?')[0], { timeout: 10000 });
}

test('search thumbnails, the entry history and the AAC fallback', { skip: skipWithoutChromium() || skipWithoutWeb(), timeout: 240000 }, async (t) => {
  const ctx = await webSetup();
  const base = ctx.d.url;
  const { mod, key } = ctx;
  const analyst = ctl(ctx.url, 'token', 'create', '--user', 'analist', '--label', 'api').trim().split('\n').pop();
  const submit = async (entry, files = []) => {
    const form = new FormData();
    form.append('entry', JSON.stringify({ kind: 'story', ...entry }));
    for (const f of files) form.append('file', new Blob([f.data], { type: f.type }), f.name);
    const r = await fetch(`${base}/api/v1/collections/wg/uploads?key=${encodeURIComponent(key)}`, { method: 'POST', body: form });
    assert.equal(r.status, 201, await r.clone().text());
    return r.json();
  };
  const { png } = fixtures();
  // A story with a photo whose consent lets staff only count and find it.
  const hidden = await submit({
    title: 'Geheime foto van de steeg', text: 'Een foto van de steeg achter de winkels.', area: 'BU03440112',
    themes: ['overlast-en-leefbaarheid'], consent: { scope: 'analysis_only', version: '2024-05', language: 'nl' },
  }, [{ name: 'steeg.png', type: 'image/png', data: png }]);
  // A story to redact and publish, for its history.
  const open = await submit({
    title: 'Speeltuin aan de Kanaalweg', text: 'Gisteren zag ik Jan Zonnebloem bij de speeltuin.', area: 'BU03440111',
    themes: ['veiligheidsgevoel'], consent: { scope: 'publish', version: '2024-05', language: 'nl' },
  });
  const ready = await waitMedia(base, mod, hidden.media[0].id, 90000);
  assert.equal(ready.status, 'ready');
  for (const e of [hidden]) assert.equal((await json(base, mod, 'POST', `/api/v1/entries/${e.id}/approve`, {})).status, 200);
  const i = 'Gisteren zag ik Jan '.length;
  const red = await json(base, mod, 'POST', `/api/v1/entries/${open.id}/redact`, { text: [{ start: i, end: i + 'Zonnebloem'.length, replacement: '[naam]' }] });
  assert.equal(red.status, 200, JSON.stringify(red.body));
  assert.equal((await json(base, mod, 'POST', `/api/v1/entries/${open.id}/publish`, {})).status, 200);

  const browser = await launch();
  const errors = [];
  try {
    await t.test('the API: a thumbnail link only where the rule allows the photo', async () => {
      const r = await json(base, analyst, 'GET', '/api/v1/entries?has_photo=true&sort=recent');
      assert.equal(r.status, 200);
      const byId = Object.fromEntries(r.body.items.map((x) => [x.id, x]));
      assert.ok(byId[ctx.west.id] && byId[hidden.id], 'both photo stories are found');
      assert.equal(byId[ctx.west.id].thumb, `/api/v1/media/${ctx.west.media.find((m) => /png$/.test(m.filename)).id}/thumb.jpg`);
      assert.equal(byId[hidden.id].thumb, null, 'no link to a photo the analyst may not see');
      assert.equal(byId[hidden.id].title, null);
      // The link works for the analyst; the hidden photo's does not.
      const ok = await fetch(`${base}${byId[ctx.west.id].thumb}`, { headers: { Authorization: `Bearer ${analyst}` } });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('content-type'), 'image/jpeg');
      const no = await fetch(`${base}/api/v1/media/${hidden.media[0].id}/thumb.jpg`, { headers: { Authorization: `Bearer ${analyst}` } });
      assert.equal(no.status, 404);
      // A moderator sees every photo: the hidden one's thumbnail too.
      const m = await json(base, mod, 'GET', '/api/v1/entries?has_photo=true&sort=recent');
      assert.equal(m.body.items.find((x) => x.id === hidden.id).thumb, `/api/v1/media/${hidden.media[0].id}/thumb.jpg`);
    });

    await t.test('search results show the thumbnail beside the audio badge', async () => {
      const page = await browser.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      await signIn(page, base, '/zoeken?has_photo=true&sort=recent');
      await page.getByText('2 resultaten').waitFor();
      const west = page.locator('.vh-result').filter({ hasText: 'Inbraak in de schuur aan de Kanaalweg' });
      const img = west.getByRole('img', { name: 'Foto bij “Inbraak in de schuur aan de Kanaalweg”' });
      await img.waitFor();
      await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle(), { timeout: 10000 });
      assert.ok(await img.evaluate((el) => el.naturalWidth) > 0, 'the thumbnail loaded');
      // Beside the audio badge: in the same row.
      const badge = await west.getByText('Met audio').boundingBox(), box = await img.boundingBox();
      assert.ok(Math.abs((box.y + box.height / 2) - (badge.y + badge.height / 2)) < box.height, 'thumbnail and badges share a row');
      // The analysis_only story: found, untitled, with no image at all.
      const hiddenRow = page.locator('.vh-result').filter({ has: page.locator(`a[href="/verhalen/${hidden.id}"]`) });
      await hiddenRow.waitFor();
      assert.equal(await hiddenRow.locator('img').count(), 0, 'no thumbnail for an analysis_only story');
      assert.equal(await hiddenRow.getByText('Met foto').count(), 1);
      await checkPage(page, 'zoeken-miniaturen');
      await page.close();
    });

    await t.test('the entry page lists its history', async () => {
      const page = await browser.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      await signIn(page, base, `/verhalen/${open.id}`);
      await page.getByRole('heading', { level: 1, name: /Speeltuin aan de Kanaalweg/ }).waitFor();
      const hist = page.getByRole('region', { name: 'Geschiedenis' });
      await hist.getByText('Gepubliceerd door mod1').waitFor();
      const lines = await hist.locator('li').allInnerTexts();
      assert.equal(lines.length, 3, lines.join('\n'));
      assert.match(lines[0], / Ontvangen$/);
      assert.match(lines[1], /Weggelakt door mod1 — 1 stuk\(ken\) tekst, 0 opname\(s\)$/);
      assert.match(lines[2], /Gepubliceerd door mod1$/);
      assert.ok(!lines.join(' ').includes('Zonnebloem'), 'the history never holds the removed words');
      await checkPage(page, 'verhaal-geschiedenis');

      // The story with a recording and a photo: both files' processing.
      await page.goto(`${base}/verhalen/${ctx.west.id}`);
      await page.getByRole('heading', { level: 1, name: 'Inbraak in de schuur aan de Kanaalweg' }).waitFor();
      await hist.getByText('Vrijgegeven door mod1').waitFor();
      const w = await hist.locator('li').allInnerTexts();
      assert.deepEqual(w.map((x) => x.replace(/^.*? (?=(Ontvangen|Bestand|Vrijgegeven))/, '')).sort(),
        ['Bestand verwerkt — foto', 'Bestand verwerkt — opname', 'Ontvangen', 'Vrijgegeven door mod1']);
      await page.close();
    });

    await t.test('without Ogg Opus the player plays the AAC rendition', async () => {
      const page = await browser.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      // A browser that cannot play Opus (Safari before 17), as far as the
      // page can ask: canPlayType says '' for it.
      await page.addInitScript(() => {
        const orig = HTMLMediaElement.prototype.canPlayType;
        HTMLMediaElement.prototype.canPlayType = function (type) {
          return /opus/i.test(type) ? '' : orig.call(this, type);
        };
      });
      await signIn(page, base, `/verhalen/${ctx.west.id}`);
      await page.getByRole('heading', { level: 1, name: 'Inbraak in de schuur aan de Kanaalweg' }).waitFor();
      const audioId = ctx.west.media.find((m) => /wav$/.test(m.filename)).id;
      await page.waitForFunction(() => document.querySelector('.vh-player audio')?.currentSrc, null, { timeout: 15000 });
      assert.equal(await page.evaluate(() => document.querySelector('.vh-player audio').canPlayType('audio/ogg; codecs=opus')), '');
      const src = await page.evaluate(() => document.querySelector('.vh-player audio').currentSrc);
      assert.equal(src, `${base}/api/v1/media/${audioId}/audio.m4a`);
      await page.getByRole('button', { name: 'Afspelen' }).click();
      await page.waitForFunction(() => { const a = document.querySelector('.vh-player audio'); return a && a.currentTime > 0.5; }, null, { timeout: 15000 });
      await page.getByRole('button', { name: 'Pauzeren' }).click();
      await checkPage(page, 'verhaal-aac');
      await page.close();

      // And a browser that can: the Opus rendition, as before.
      const p2 = await browser.newPage();
      await p2.goto(`${base}/verhalen/${ctx.west.id}`);
      await p2.waitForFunction(() => document.querySelector('.vh-player audio')?.currentSrc, null, { timeout: 15000 });
      assert.equal(await p2.evaluate(() => document.querySelector('.vh-player audio').currentSrc), `${base}/api/v1/media/${audioId}/audio.opus`);
      await p2.close();
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await ctx.d.stop();
  }
});
