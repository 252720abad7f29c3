// The staff pages at 200% zoom, part 2 (part 1 and the method:
// web_staff_zoom): Moderatie with an entry and its waveform, the reject
// dialog, Collecties with a new link and its QR code, Exporteren and
// Beheer, signed in as an admin. On each, also no cell of a stacked table
// drawn over another (lib/overlap.mjs); Collecties and Beheer again at
// 320 px. Screenshots under $BUILD/screenshots/zoom200-*.png and
// w320-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { psql, tmpdir, waitFor } from './lib/harness.mjs';
import { toneWav } from './lib/consent.mjs';
import { skipWithoutChromium } from './lib/browser.mjs';
import { atZoom, launchZoomed } from './lib/zoom.mjs';
import { assertNoOverlap, at320 } from './lib/overlap.mjs';
import { json, PW, skipWithoutWeb, staffSetup } from './lib/staffweb.mjs';

test('moderation, collections, export and admin at 200% zoom', { skip: skipWithoutChromium() || skipWithoutWeb(), timeout: 240000 }, async (t) => {
  const ctx = await staffSetup();
  const base = ctx.d.url;
  // One entry waiting for review, with a long title and a recording.
  const form = new FormData();
  form.append('entry', JSON.stringify({ kind: 'story', title: 'Een verhaal met een lange titel over de onveilige oversteekplaats bij het Vredenburgplein',
    text: 'Gisteren sprak ik Jan Zonnebloem bij de speeltuin. Hij voelt zich daar niet veilig.',
    consent: { scope: 'publish', version: '2024-05', language: 'nl' } }));
  form.append('file', new Blob([toneWav(tmpdir('zoom'), 'memo.wav', 6)], { type: 'audio/wav' }), 'memo.wav');
  const r = await fetch(`${base}/api/v1/collections/buurt/uploads?key=${encodeURIComponent(ctx.key)}`, { method: 'POST', body: form });
  assert.equal(r.status, 201);
  const pending = await r.json();
  await waitFor(() => psql(ctx.url, `SELECT status FROM media WHERE id = ${pending.media[0].id}`) === 'ready', { timeout: 90000 });
  // A field worker with a phone, so Beheer's ODK table has a row (and
  // its revoke button) too.
  assert.equal((await json(base, ctx.tokens.admin, 'POST', '/api/v1/accounts',
    { name: 'veldwerker-noordoost', role: 'fieldworker', password: 'een lang genoeg wachtwoord' })).status, 201);
  assert.equal((await json(base, ctx.tokens.admin, 'POST', '/api/v1/odk/tokens', { name: 'veldwerker-noordoost' })).status, 201);

  const browser = await launchZoomed();
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const h1 = (name) => page.getByRole('heading', { level: 1, name }).waitFor({ timeout: 20000 });
  const check = async (name) => { await atZoom(page, name); return assertNoOverlap(page, name); };
  try {
    await page.goto(`${base}/inloggen?terug=%2Fmoderatie`);
    await page.getByLabel('Accountnaam').fill('admin1');
    await page.getByLabel('Wachtwoord').fill(PW);
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await h1('Moderatie');

    await t.test('Moderatie: the queue and an entry with its waveform', async () => {
      await page.goto(`${base}/moderatie`);
      await h1('Moderatie');
      await page.locator('.vh-queue__item').first().waitFor();
      await check('moderatie');
      await page.locator('.vh-queue__item').first().click();
      await page.getByTestId('entry-text').waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid="waveform"] canvas'), null, { timeout: 20000 });
      await page.waitForFunction(() => !document.querySelector('.vh-wave__pick input[type="range"]')?.disabled, null, { timeout: 15000 });
      await check('moderatie-verhaal');
      await page.getByRole('button', { name: 'Afwijzen…' }).click();
      await page.getByRole('dialog', { name: 'Inzending afwijzen' }).waitFor();
      await check('moderatie-afwijzen');
      await page.getByRole('button', { name: 'Annuleren' }).click();
    });

    await t.test('Collecties: the list, and a new link with its QR code', async () => {
      await page.goto(`${base}/collecties`);
      await h1('Collecties');
      // (Below 48em each cell's name begins with its column's.)
      await page.getByRole('cell', { name: /^(Korte naam: )?buurt$/ }).waitFor();
      assert.ok((await check('collecties')).some((x) => x.stacked), 'the collections table is stacked at 200%');
      await at320(page, 'collecties');
      await page.getByLabel('Titel', { exact: true }).fill('Wijkgesprek Zuid, juni');
      await page.getByLabel('Versie').fill('2026-12');
      await page.getByLabel('Toestemmingstekst (Nederlands)').fill('Ik geef de gemeente toestemming mijn verhaal te gebruiken voor analyse.');
      await page.getByRole('button', { name: 'Collectie aanmaken' }).click();
      await page.getByRole('img', { name: /QR-code van de uploadlink/ }).waitFor();
      await check('collecties-link');
    });

    await t.test('Exporteren', async () => {
      await page.goto(`${base}/exporteren?q=inbraak`);
      await h1('Exporteren');
      await page.getByRole('link', { name: 'CSV downloaden' }).waitFor();
      await check('exporteren');
    });

    await t.test('Beheer: accounts, tokens, ODK, audit trail', async () => {
      await page.goto(`${base}/beheer`);
      await h1('Beheer');
      await page.getByRole('rowheader', { name: /^(Naam: )?moderator1$/ }).waitFor();
      await page.getByRole('cell', { name: /^(Veldwerker: )?veldwerker-noordoost$/ }).waitFor();
      const tables = await check('beheer');
      assert.deepEqual(tables.map((x) => x.stacked), [true, true, true, true], 'the four tables of Beheer are stacked at 200%');
      assert.equal((await at320(page, 'beheer')).length, 4);
    });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await ctx.d.stop();
  }
});
