// The staff app in a real chromium against the real daemon: an analyst
// signs in, searches "inbraak", filters on a wijk, opens the story and
// plays its recording; axe-core (WCAG 2.1 A/AA) on every page and state;
// a keyboard-only pass; 320 px; the JavaScript the sign-in and search
// pages transfer; an expired session back through sign-in; the Dutch
// throttling message. Screenshots go to $BUILD/screenshots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { psql } from './lib/harness.mjs';
import { axe, describeViolations, jsWeight, launch, screenshot, skipWithoutChromium } from './lib/browser.mjs';
import { PASSWORD, webSetup } from './lib/webapp.mjs';

const skip = skipWithoutChromium();
if (skip) console.log(`# ${skip}`);

async function noViolations(page, what) {
  const v = await axe(page);
  assert.deepEqual(v.map((x) => x.id), [], `axe on ${what}:\n${describeViolations(v)}`);
}

async function shots(page, name) {
  for (const [w, h] of [[360, 800], [1280, 800]]) await screenshot(page, name, w, h);
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function fits(page, width, what) {
  await page.setViewportSize({ width, height: 800 });
  const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(over <= 0, `${what} at ${width}px scrolls sideways by ${over}px`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function signIn(page, name = 'analist', password = PASSWORD) {
  await page.getByLabel('Accountnaam').fill(name);
  await page.getByLabel('Wachtwoord').fill(password);
  await page.getByRole('button', { name: 'Inloggen' }).click();
}

test('staff app: sign in, search, filter, read and listen', { skip, timeout: 240000 }, async (t) => {
  const ctx = await webSetup({ VERHAAL_LOGIN_MAX_FAILURES: '3', VERHAAL_SMALL_COUNT_K: '2' });
  const browser = await launch();
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const base = ctx.d.url;
  try {
    await t.test('sign-in page: redirect, Dutch errors, axe, weight', async () => {
      const weight = await jsWeight(page);
      await page.goto(`${base}/zoeken`);
      await page.getByRole('heading', { level: 1, name: 'Inloggen' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/inloggen');
      assert.equal(new URL(page.url()).searchParams.get('terug'), '/zoeken');
      assert.equal(await page.getAttribute('html', 'lang'), 'nl');
      const w = weight.stop();
      assert.ok(w.files.length > 0, 'JavaScript was transferred');
      for (const f of w.files) assert.equal(f.encoding, 'gzip', `${f.url} came gzipped`);
      console.log(`# sign-in page: ${w.bytes} bytes of JavaScript (gzip) in ${w.files.length} files`);
      assert.ok(w.bytes <= 150 * 1024, `sign-in page JS ${w.bytes} B > 150 KB`);
      await noViolations(page, 'sign-in');
      await shots(page, 'inloggen');

      await signIn(page, 'analist', 'fout wachtwoord 123');
      await page.getByRole('alert').filter({ hasText: 'De accountnaam of het wachtwoord klopt niet' }).waitFor();
      await noViolations(page, 'sign-in with error');
      await shots(page, 'inloggen-fout');

      // Throttled: another name, past login_max_failures (3 here).
      for (let i = 0; i < 4; i++) {
        const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST');
        await signIn(page, 'iemand', `fout ${i} wachtwoord`);
        const r = await answered;
        if (i === 3) assert.equal(r.status(), 429, 'the fourth attempt is throttled');
        await page.getByRole('button', { name: 'Inloggen' }).waitFor();
      }
      await page.getByRole('alert').filter({ hasText: /Te veel mislukte pogingen.*over \d+ (minuten|seconden|minuut)/ }).waitFor();
    });

    await t.test('analyst searches "inbraak", filters on a wijk, opens the story and plays it', async () => {
      await signIn(page);
      await page.getByRole('heading', { level: 1, name: 'Zoeken in verhalen en werkbezoeken' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/zoeken', 'back to where the analyst was');
      await page.getByRole('searchbox', { name: 'Zoekterm' }).fill('inbraak');
      await page.getByRole('searchbox', { name: 'Zoekterm' }).press('Enter');
      await page.getByText('2 resultaten').waitFor();
      assert.equal(new URL(page.url()).searchParams.get('q'), 'inbraak');
      assert.equal(await page.getByRole('article').count(), 2);
      // Highlighted snippets, the audio badge, facet counts.
      assert.ok(await page.locator('.vh-result__snippet mark').count() >= 2, 'matches are marked');
      assert.equal(await page.locator('.vh-result').filter({ hasText: 'Inbraak in de schuur' }).getByText('Met audio').count(), 1);
      const area = page.getByLabel('Wijk of buurt');
      assert.match(await area.locator('option[value="WK034401"]').textContent(), /Wijk 01 West.*\(< 2\)/);

      await area.selectOption('WK034401');
      // A search's total is exact (a list, not a statistic: privacy.md);
      // the wijk facet above is the statistic that shows "< 2".
      await page.getByText('1 resultaat', { exact: true }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('.vh-result').length === 1);
      assert.equal(new URL(page.url()).searchParams.get('area'), 'WK034401');
      assert.ok(await page.getByRole('link', { name: 'Inbraak in de schuur aan de Kanaalweg' }).isVisible());
      assert.equal(await page.locator('.vh-result__snippet mark.vh-redacted').count(), 1, 'the redaction is marked in the snippet');
      await noViolations(page, 'search with filters open');
      await shots(page, 'zoeken');
      await fits(page, 320, 'search');

      // The back button keeps the search's state (in the URL).
      await page.goBack();
      await page.waitForFunction(() => document.querySelectorAll('.vh-result').length === 2);
      assert.equal(await area.inputValue(), '');
      await page.goForward();
      await page.waitForFunction(() => document.querySelectorAll('.vh-result').length === 1);

      await page.getByRole('link', { name: 'Inbraak in de schuur aan de Kanaalweg' }).click();
      await page.getByRole('heading', { level: 1, name: 'Inbraak in de schuur aan de Kanaalweg' }).waitFor();
      assert.equal(new URL(page.url()).pathname, `/verhalen/${ctx.west.id}`);
      // Redacted span marked, consent in plain words, buurt and theme.
      assert.equal(await page.locator('mark.vh-redacted').filter({ hasText: '[naam]' }).count(), 1);
      await page.getByText('Medewerkers mogen de tekst lezen en de opname beluisteren').waitFor();
      await page.getByText('Welgelegen, Den Hommel').waitFor();
      await page.getByRole('img', { name: 'Foto 1 van 1' }).waitFor();
      const play = page.getByRole('button', { name: 'Afspelen' });
      await play.waitFor();
      await page.waitForFunction(() => document.querySelector('.vh-player__zoom canvas') !== null, null, { timeout: 15000 });
      await play.click();
      await page.waitForFunction(() => { const a = document.querySelector('audio'); return a && a.currentTime > 0.5; }, null, { timeout: 15000 });
      await page.getByRole('button', { name: 'Pauzeren' }).waitFor();
      await noViolations(page, 'entry with the player playing');
      await shots(page, 'verhaal');
      await fits(page, 320, 'entry');
    });

    await t.test('search errors are shown in Dutch beside the field', async () => {
      await page.goto(`${base}/zoeken?q=inbraak&from=2024-13`);
      await page.getByRole('alert').filter({ hasText: 'Ongeldige waarde bij “Van”' }).waitFor();
      assert.equal(await page.getByLabel('Van').getAttribute('aria-invalid'), 'true');
      await page.locator('#fout-from').waitFor();
      await noViolations(page, 'search with an error');
      await shots(page, 'zoeken-fout');
    });

    await t.test('keyboard only: search → story → player', async () => {
      await page.goto(`${base}/zoeken`);
      await page.getByRole('heading', { level: 1, name: /Zoeken/ }).waitFor();
      const focusTo = async (pred, max = 80) => {
        for (let i = 0; i < max; i++) {
          await page.keyboard.press('Tab');
          if (await page.evaluate(pred)) return;
        }
        throw new Error(`Tab never reached ${pred}`);
      };
      await focusTo(() => document.activeElement?.id === 'zoek-q');
      await page.keyboard.type('inbraak');
      await page.keyboard.press('Enter');
      await page.getByText('2 resultaten').waitFor();
      await focusTo(() => document.activeElement?.textContent === 'Inbraak in de schuur aan de Kanaalweg');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Inbraak in de schuur aan de Kanaalweg' }).waitFor();
      await focusTo(() => document.activeElement?.textContent === 'Afspelen');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => { const a = document.querySelector('audio'); return a && a.currentTime > 0.3; }, null, { timeout: 15000 }).catch(async (e) => {
        // Say what the element was doing, so that a failure can be read.
        const state = await page.evaluate(() => { const a = document.querySelector('audio'); return a ? { paused: a.paused, readyState: a.readyState, networkState: a.networkState, error: a.error?.code, currentTime: a.currentTime } : 'no audio element'; });
        throw new Error(`the recording did not play after Enter on Afspelen: ${JSON.stringify(state)} (${e.message})`);
      });
      // Visible focus: the focused control has an outline.
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, 'none', 'focus is visible');
      await page.keyboard.press('Space');
      await page.getByRole('button', { name: 'Afspelen' }).waitFor();
    });

    await t.test('"meer laden" follows the keyset cursor', async () => {
      await page.goto(`${base}/zoeken?sort=recent`);
      await page.getByText('25 resultaten').waitFor();
      assert.equal(await page.getByRole('article').count(), 20);
      await page.getByRole('button', { name: 'Meer laden' }).click();
      await page.waitForFunction(() => document.querySelectorAll('.vh-result').length === 25);
      // No repeats, and focus moves to the first new result.
      const ids = await page.locator('.vh-result h3 a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert.equal(new Set(ids).size, 25);
      // The page moves focus in an effect, after the new results are drawn.
      await page.waitForFunction((h) => document.activeElement?.getAttribute('href') === h, ids[20], { timeout: 5000 })
        .catch(() => undefined);
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('href')), ids[20]);
      assert.equal(await page.getByRole('button', { name: 'Meer laden' }).count(), 0, 'no third page');
    });

    await t.test('search page weight', async () => {
      const p2 = await browser.newPage();
      const weight = await jsWeight(p2);
      await p2.goto(`${base}/zoeken?q=inbraak`);
      await p2.getByText('2 resultaten').waitFor();
      const w = weight.stop();
      console.log(`# search page: ${w.bytes} bytes of JavaScript (gzip) in ${w.files.length} files`);
      assert.ok(w.bytes <= 150 * 1024, `search page JS ${w.bytes} B > 150 KB`);
      assert.ok(!w.files.some((f) => /Speler/.test(f.url)), 'the player is not loaded for search');
      await p2.close();
    });

    await t.test('an expired session returns to sign-in and back', async () => {
      await page.goto(`${base}/verhalen/${ctx.overvecht.id}`);
      await page.getByRole('heading', { level: 1, name: 'Inbraakpogingen bij de flat' }).waitFor();
      psql(ctx.url, 'DELETE FROM session');
      await page.getByRole('link', { name: 'Zoeken', exact: true }).click();
      await page.getByText('Uw sessie is verlopen').waitFor();
      assert.equal(new URL(page.url()).pathname, '/inloggen');
      await signIn(page);
      await page.getByRole('heading', { level: 1, name: /Zoeken/ }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/zoeken');
      // Sign out: back to sign-in, and the session is gone on the server.
      await page.getByRole('button', { name: 'Uitloggen' }).click();
      await page.getByText('U bent uitgelogd.').waitFor();
      assert.equal(psql(ctx.url, 'SELECT count(*) FROM session'), '0');
    });
    assert.deepEqual(errors.filter((e) => !/status of 40[014]|status of 429/.test(e)), [], 'no script errors');
  } finally {
    await browser.close();
    await ctx.d.stop();
  }
});
