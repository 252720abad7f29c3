// The staff pages at 200% zoom (WCAG 1.4.4 resize text; 1.4.10 reflow),
// part 1: sign-in, search, an entry, the dossier (part 2, the moderators'
// and admins' pages: web_staff_zoom_admin). chromium emulates a 1280×800
// window zoomed to 200%, a 640×400 CSS-pixel viewport at 2 device pixels
// per CSS pixel, so the pages' media queries and text size are what a
// zoomed browser gives them (lib/zoom.mjs). On each page and state: no
// sideways scrolling, no element outside the viewport, nothing cut off
// (no box that hides overflowing content, no ellipsis), axe-core clean,
// and no cell of a stacked table drawn over another (lib/overlap.mjs).
// Screenshots under $BUILD/screenshots/zoom200-*.png (1280 device pixels
// wide).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addUser } from './lib/accounts.mjs';
import { skipWithoutChromium } from './lib/browser.mjs';
import { atZoom, launchZoomed } from './lib/zoom.mjs';
import { assertNoOverlap } from './lib/overlap.mjs';
import { PW, skipWithoutWeb } from './lib/staffweb.mjs';
import { webSetup } from './lib/webapp.mjs';

test('sign-in, search, entry and dossier at 200% zoom', { skip: skipWithoutChromium() || skipWithoutWeb(), timeout: 300000 }, async (t) => {
  const ctx = await webSetup();
  const base = ctx.d.url;
  addUser(ctx.url, 'beheer1', 'admin', PW);
  const browser = await launchZoomed();
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const h1 = (name) => page.getByRole('heading', { level: 1, name }).waitFor({ timeout: 20000 });
  const check = async (name) => { await atZoom(page, name); return assertNoOverlap(page, name); };
  try {
    await t.test('Inloggen, with an error', async () => {
      await page.goto(`${base}/inloggen`);
      await h1('Inloggen');
      await check('inloggen');
      await page.getByLabel('Accountnaam').fill('beheer1');
      await page.getByLabel('Wachtwoord').fill('fout wachtwoord 123');
      await page.getByRole('button', { name: 'Inloggen' }).click();
      await page.getByRole('alert').filter({ hasText: 'De accountnaam of het wachtwoord klopt niet' }).waitFor();
      await check('inloggen-fout');
      await page.getByLabel('Wachtwoord').fill(PW);
      await page.getByRole('button', { name: 'Inloggen' }).click();
      await h1(/Zoeken/);
    });

    await t.test('Zoeken, filters open, results', async () => {
      await page.goto(`${base}/zoeken?q=inbraak`);
      await page.getByText('2 resultaten').waitFor();
      await check('zoeken');
      await page.getByRole('button', { name: 'Filters tonen' }).click();
      await page.getByLabel('Wijk of buurt').waitFor();
      await check('zoeken-filters');
      await page.goto(`${base}/zoeken?q=inbraak&from=2024-13`);
      await page.getByRole('alert').filter({ hasText: 'Ongeldige waarde bij “Van”' }).waitFor();
      await check('zoeken-fout');
    });

    await t.test('Verhaal with its player and history', async () => {
      await page.goto(`${base}/verhalen/${ctx.west.id}`);
      await h1('Inbraak in de schuur aan de Kanaalweg');
      await page.waitForFunction(() => document.querySelector('.vh-player__zoom canvas') !== null, null, { timeout: 15000 });
      await page.getByText('Vrijgegeven door mod1').waitFor();
      await check('verhaal');
    });

    await t.test('Dossier: the map, and a buurt', async () => {
      await page.goto(`${base}/dossier`);
      await h1('Buurt- en wijkdossier');
      await page.waitForFunction(() => document.querySelector('.leaflet-container path') !== null, null, { timeout: 20000 });
      await check('dossier');
      await page.goto(`${base}/dossier/BU03440111`);
      await h1(/^Dossier /);
      await page.locator('.vh-dossier__grid').waitFor({ timeout: 20000 });
      await check('dossier-buurt');
    });

    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await ctx.d.stop();
  }
});
