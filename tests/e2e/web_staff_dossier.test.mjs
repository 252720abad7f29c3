// Het buurtdossier in a real browser, on the real CBS figures of
// ../shared/data (areas and indicators imported with verhaalctl; skipped
// with a message when absent): the map draws Utrecht's buurten from the
// GeoJSON verhaal serves, with no request leaving it; choosing a buurt
// opens its dossier, whose chart of registered crimes has the figure CBS
// gives for that buurt in its data table, beside the stories per year.
// axe-core on the map and the dossier, 320 px, screenshots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ctl, psql, shared } from './lib/harness.mjs';
import { launch, skipWithoutChromium } from './lib/browser.mjs';
import { checkPage, json, signIn, skipWithoutWeb, staffSetup } from './lib/staffweb.mjs';

const data = path.join(shared, 'data');
const have = existsSync(path.join(data, 'areas')) && existsSync(path.join(data, 'indicators'));
const CRIMES = '47018NED/GeregistreerdeMisdrijven_1/0.0.0';

test('the dossier of a buurt draws its map and chart from real CBS figures', {
  skip: skipWithoutChromium() || skipWithoutWeb() || (!have && `${data} is absent: no CBS figures to draw`), timeout: 240000,
}, async () => {
  const ctx = await staffSetup();
  const u = ctx.d.url;
  const browser = await launch();
  try {
    ctl(ctx.url, 'import-areas', ...readdirSync(path.join(data, 'areas')).map((f) => path.join(data, 'areas', f)));
    ctl(ctx.url, 'import-indicators', ...readdirSync(path.join(data, 'indicators')).sort().map((f) => path.join(data, 'indicators', f)));
    // A buurt with a registered-crimes figure, and its name and figure.
    const [code, name, year, value] = psql(ctx.url, `SELECT a.code || '|' || a.name || '|' || v.period || '|' || v.value FROM indicator_value v
      JOIN indicator i ON i.id = v.indicator_id JOIN area a ON a.code = v.area_code
      WHERE i.key = '${CRIMES}' AND a.level = 'buurt' AND v.value > 20 ORDER BY a.code LIMIT 1`).split('|');
    assert.match(code, /^BU\d{8}$/);
    // Stories there, released to analysts.
    for (let i = 0; i < 6; i++) {
      const form = new FormData();
      form.append('entry', JSON.stringify({ kind: 'story', title: `Verhaal ${i}`, text: 'Het voelt hier onveilig na donker.', area: code,
        occurred_at: `${year}-0${1 + i}-10T12:00:00Z`, themes: ['veiligheidsgevoel'], consent: { scope: 'quote_anonymised', version: '2024-05', language: 'nl' } }));
      const r = await fetch(`${u}/api/v1/collections/buurt/uploads?key=${encodeURIComponent(ctx.key)}`, { method: 'POST', body: form });
      const id = (await r.json()).id;
      assert.equal((await json(u, ctx.tokens.moderator, 'POST', `/api/v1/entries/${id}/approve`, {})).status, 200);
    }

    const page = await browser.newPage();
    const outside = [];
    page.on('request', (r) => { if (!r.url().startsWith(u) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) outside.push(r.url()); });
    const errors = [];
    page.on('pageerror', (x) => errors.push(String(x)));
    await signIn(page, u, 'analyst1', '/dossier');
    await page.getByRole('heading', { level: 1, name: 'Buurt- en wijkdossier' }).waitFor();
    // The map: one SVG path per buurt with a boundary.
    const buurten = Number(psql(ctx.url, "SELECT count(*) FROM area WHERE level = 'buurt' AND boundary IS NOT NULL"));
    await page.waitForFunction((n) => document.querySelectorAll('.vh-map path.leaflet-interactive').length >= n, buurten, { timeout: 30000 });
    await page.getByLabel('Kleur de kaart naar').selectOption({ label: 'Geregistreerde misdrijven: Totaal misdrijven' }).catch(async () => {
      await page.getByLabel('Kleur de kaart naar').selectOption(CRIMES);
    });
    await checkPage(page, 'dossier-kaart');

    await page.getByLabel('Wijk of buurt').selectOption(code);
    await page.waitForURL(`${u}/dossier/${code}`);
    await page.getByRole('heading', { level: 1, name: `Dossier ${name}` }).waitFor({ timeout: 20000 });
    const fig = page.locator('figure', { has: page.locator('figcaption', { hasText: 'Totaal misdrijven' }) }).first();
    await fig.waitFor();
    assert.ok(await fig.locator('circle').count() >= 1, 'the chart draws the figure');
    await fig.locator('summary').click();
    const row = fig.getByRole('row', { name: new RegExp(`^${year}`) });
    const shown = Number(value).toLocaleString('nl-NL', { maximumFractionDigits: 1 });
    assert.match(await row.innerText(), new RegExp(shown.replace('.', '\\.')), `${year}: ${value}`);
    // Stories beside it: 6 in that year (not below k), the chart and the theme table.
    const stories = page.locator('figure', { has: page.locator('figcaption', { hasText: 'Verhalen per jaar' }) });
    await stories.locator('summary').click();
    assert.match(await stories.getByRole('row', { name: new RegExp(`^${year}`) }).innerText(), /\b6\b/);
    await page.getByRole('heading', { name: 'Cijfers en verhalen vergeleken' }).waitFor();
    assert.ok(await page.locator('.vh-compare__item').count() >= 1);
    await page.getByRole('link', { name: 'Verhaal 5' }).waitFor();
    // The map marks the buurt chosen.
    await page.waitForFunction(() => [...document.querySelectorAll('.vh-map path.leaflet-interactive')].some((p) => p.getAttribute('stroke-width') === '3'));
    await checkPage(page, 'dossier-buurt');
    assert.deepEqual(outside, [], 'no request leaves verhaal');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});
