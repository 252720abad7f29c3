// The buurt chosen on a map of Utrecht's buurten on "Meer vertellen"
// (issue 13): Leaflet draws the boundaries verhaal serves, with no tiles
// and no other host, loaded only when the map is opened; a buurt tapped
// there is chosen (and shows in the list, which stays the keyboard's
// way), and the story arrives with its code; axe-clean right to left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipWithoutChromium, axe, describeViolations, screenshot } from './lib/browser.mjs';
import { residentDaemon, launchWithMic, tellStory, entries, admin } from './lib/resident.mjs';

const skip = skipWithoutChromium();

const WORDS = {
  ar: { next: 'التالي', scope: 'للبحث فقط' },
};

async function receiptOf(page) {
  const el = page.getByTestId('receipt');
  await el.waitFor({ timeout: 60000 });
  return (await el.textContent()).trim();
}
// Nothing wider than the phone's screen.
const noSideScroll = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

test('a buurt tapped on the map is chosen, shows in the list, and the story arrives with its code', { skip }, async () => {
  const ctx = await residentDaemon();
  const browser = await launchWithMic();
  try {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 360, height: 740 });
    const hosts = new Set();
    page.on('request', (r) => { if (!/^(blob|data):/.test(r.url())) hosts.add(new URL(r.url()).origin); });
    await page.goto(ctx.link);
    await tellStory(page, { seconds: 0, text: 'Bij het plein is het onveilig.', buurt: false });
    // Nothing of Leaflet or the boundaries before the map is asked for.
    let geo = 0;
    page.on('request', (r) => { if (/buurten\.geojson/.test(r.url())) geo++; });
    assert.equal(await page.locator('.leaflet-container').count(), 0);
    const show = page.getByRole('button', { name: 'Kies op een kaart' });
    assert.equal(await show.getAttribute('aria-expanded'), 'false');
    await show.click();
    await page.waitForFunction(() => document.querySelectorAll('path.vh-map-buurt').length > 50, null, { timeout: 20000 });
    assert.equal(geo, 1);
    assert.equal(await page.getByRole('button', { name: 'Kaart verbergen' }).getAttribute('aria-expanded'), 'true');
    // A buurt whose middle is its own (not a neighbour's) on the screen.
    const target = await page.evaluate(() => {
      for (const p of document.querySelectorAll('path.vh-map-buurt')) {
        const b = p.getBoundingClientRect();
        const x = b.left + b.width / 2, y = b.top + b.height / 2;
        if (b.width > 6 && document.elementFromPoint(x, y) === p)
          return { code: /vh-map-buurt--(\S+)/.exec(p.getAttribute('class'))[1], x, y };
      }
      return null;
    });
    assert.ok(target, 'a buurt to tap');
    await page.mouse.click(target.x, target.y);
    const sel = page.getByLabel('In welke buurt gebeurde het?');
    assert.equal(await sel.inputValue(), target.code);
    const name = await sel.evaluate((s) => s.selectedOptions[0].textContent);
    assert.match(await page.getByTestId('buurt-chosen').textContent(), new RegExp(`Gekozen: ${name.replace(/ \(.*\)$/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // The keyboard's way, the list, shows on the map too.
    const fill = (code) => page.locator(`path.vh-map-buurt--${code}`).getAttribute('fill');
    const chosenFill = await fill(target.code);
    await sel.focus();
    await page.keyboard.press('ArrowDown');
    const other = await sel.inputValue();
    assert.notEqual(other, target.code);
    if (await page.locator(`path.vh-map-buurt--${other}`).count()) {
      await page.waitForFunction(([c, f]) => document.querySelector(`path.vh-map-buurt--${c}`)?.getAttribute('fill') === f, [other, chosenFill]);
      assert.notEqual(await fill(target.code), chosenFill);
    }
    // Tapped again on the map (where it is now): the story's buurt.
    await page.locator(`path.vh-map-buurt--${target.code}`).scrollIntoViewIfNeeded();
    const again = await page.evaluate((c) => {
      const b = document.querySelector(`path.vh-map-buurt--${c}`).getBoundingClientRect();
      return { x: b.left + b.width / 2, y: b.top + b.height / 2 };
    }, target.code);
    await page.mouse.click(again.x, again.y);
    assert.equal(await sel.inputValue(), target.code);
    await page.getByRole('button', { name: 'Versturen' }).click();
    await receiptOf(page);
    assert.deepEqual([...hosts], [ctx.d.url], 'no request to another host (no tiles)');
    const [item] = await entries(ctx);
    const entry = await (await fetch(`${ctx.d.url}/api/v1/entries/${item.id}`, { headers: admin(ctx) })).json();
    assert.equal(entry.area.code, target.code);
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});

test('the map passes axe in Arabic (right to left) at 320 px', { skip }, async () => {
  const ctx = await residentDaemon();
  const browser = await launchWithMic({ locale: 'ar' });
  try {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 320, height: 640 });
    await page.goto(ctx.link);
    const w = WORDS.ar;
    await page.getByRole('button', { name: w.next }).click();
    await page.getByLabel(w.scope).check();
    await page.getByRole('button', { name: w.next }).click();
    await page.getByRole('button', { name: w.next }).click();
    await page.getByRole('button', { name: 'اختر على الخريطة' }).click();
    await page.waitForFunction(() => document.querySelectorAll('path.vh-map-buurt').length > 50, null, { timeout: 20000 });
    assert.ok(await noSideScroll(page));
    const v = await axe(page);
    assert.equal(v.length, 0, `ar map:\n${describeViolations(v)}`);
    await screenshot(page, 'resident-ar-4b-kaart', 320, 640);
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});
