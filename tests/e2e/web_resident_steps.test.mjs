// The resident page's steps for everyone (issue 13): every step by
// keyboard alone at 320 px (the map an alternative, the list the way to
// choose), and an address refused for guessing links gets a page that
// says, in the resident's language, how long to wait (429), axe-clean in
// Dutch and Arabic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipWithoutChromium, axe, describeViolations, screenshot } from './lib/browser.mjs';
import { residentDaemon, launchWithMic, admin, SLUG } from './lib/resident.mjs';

const skip = skipWithoutChromium();


// The accessible name of the focused element, as a screen reader says it.
const focusedName = (page) => page.evaluate(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return '';
  return (e.getAttribute('aria-label') || (e.labels && e.labels[0]?.textContent) || e.textContent || '').trim() ||
    `<${e.tagName.toLowerCase()} class="${e.getAttribute('class') ?? ''}">`;
});
// Tab (only the keyboard) until the focus is on a control named like re.
async function tabTo(page, re) {
  const seen = [];
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const name = await focusedName(page);
    if (re.test(name)) return;
    seen.push(name);
  }
  throw new Error(`no control named ${re} by Tab; went past: ${seen.join(' | ')}`);
}
// Nothing wider than the phone's screen.
const noSideScroll = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

test('every step by keyboard alone at 320 px wide: the map is an alternative, the list chooses the buurt', { skip }, async () => {
  const ctx = await residentDaemon();
  const browser = await launchWithMic({ locale: 'nl-NL' });
  try {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 320, height: 640 });
    await page.goto(ctx.link);
    await page.getByTestId('retention').waitFor();
    const shot = async (name) => {
      assert.ok(await noSideScroll(page), `${name}: wider than 320 px`);
      await screenshot(page, `resident-kbd-${name}`, 320, 640);
    };
    await shot('1-waarom');
    await tabTo(page, /^Volgende$/);
    await page.keyboard.press('Enter');
    await page.getByTestId('consent-text').waitFor();
    await tabTo(page, /^Alleen gebruiken voor onderzoek/);
    await page.keyboard.press('Space');
    assert.ok(await page.getByLabel('Alleen gebruiken voor onderzoek').isChecked());
    await shot('2-toestemming');
    await tabTo(page, /^Volgende$/);
    await page.keyboard.press('Enter');
    await tabTo(page, /^Microfoon aanzetten$/);
    await page.keyboard.press('Enter');
    await tabTo(page, /^Opnemen$/);
    await page.keyboard.press('Enter');
    await page.waitForTimeout(2000);
    await tabTo(page, /^Stoppen$/);
    await page.keyboard.press('Enter');
    await page.locator('[data-duration-ms]').waitFor();
    await shot('3-opnemen');
    await tabTo(page, /^Volgende$/);
    await page.keyboard.press('Enter');
    await tabTo(page, /^Uw verhaal in tekst$/);
    await page.keyboard.type('Op het plein is het donker.');
    await page.waitForFunction(() => document.querySelectorAll('#vh-buurt option').length > 1);
    await tabTo(page, /^In welke buurt gebeurde het\?$/);
    await page.keyboard.press('ArrowDown');
    const buurt = await page.getByLabel('In welke buurt gebeurde het?').inputValue();
    assert.match(buurt, /^BU0344/);
    // The map opens and closes by keyboard; it holds no control that
    // would trap the focus (only Leaflet's zoom buttons, named in Dutch).
    await tabTo(page, /^Kies op een kaart$/);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('path.vh-map-buurt').length > 50, null, { timeout: 20000 });
    await shot('4-meer-vertellen-kaart');
    const v = await axe(page);
    assert.equal(v.length, 0, `map open:\n${describeViolations(v)}`);
    await tabTo(page, /^Inzoomen$/);
    await page.keyboard.press('Enter');
    await tabTo(page, /^Kaart verbergen$/);
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('.leaflet-container').count(), 0);
    assert.equal(await page.getByLabel('In welke buurt gebeurde het?').inputValue(), buurt, 'the choice stays');
    await tabTo(page, /^Versturen$/);
    await page.keyboard.press('Enter');
    await page.getByTestId('receipt').waitFor({ timeout: 60000 });
    await shot('6-bedankt');
    const r = await fetch(`${ctx.d.url}/api/v1/entries?collection=${SLUG}&facets=false&sort=recent`, { headers: admin(ctx) });
    const [item] = (await r.json()).items;
    const entry = await (await fetch(`${ctx.d.url}/api/v1/entries/${item.id}`, { headers: admin(ctx) })).json();
    assert.equal(entry.area.code, buurt);
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});

test('an address refused for wrong links opens the link: a page that says, in its language, how long to wait (429)', { skip }, async () => {
  const ctx = await residentDaemon({ VERHAAL_RESIDENT_UPLOAD_RATE: '3' });
  const browser = await launchWithMic({ locale: 'nl-NL' });
  try {
    // Three wrong keys from this address (the browser's too).
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${ctx.d.url}/api/v1/collections/${SLUG}/uploads?key=vh_fout${i}`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1' } });
      assert.equal(r.status, 401);
    }
    const page = await browser.newPage();
    await page.setViewportSize({ width: 320, height: 640 });
    const res = await page.goto(ctx.link);
    assert.equal(res.status(), 429);
    assert.ok(Number(res.headers()['retry-after']) > 0);
    await page.getByRole('heading', { name: 'Even wachten' }).waitFor();
    assert.match(await page.getByTestId('refused-wait').textContent(), /^Probeer het over (60|59) minuten opnieuw\.$/);
    assert.ok(await noSideScroll(page));
    let v = await axe(page);
    assert.equal(v.length, 0, `nl:\n${describeViolations(v)}`);
    await screenshot(page, 'resident-nl-10-even-wachten', 320, 640);
    await screenshot(page, 'resident-nl-10-even-wachten', 360, 740);
    // The other languages, from the same message files.
    await page.getByLabel('Taal').selectOption('en');
    assert.match(await page.getByTestId('refused-wait').textContent(), /^Please try again in (60|59) minutes\.$/);
    await page.getByLabel('Language').selectOption('ar');
    await page.getByRole('heading', { name: 'يرجى الانتظار قليلًا' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl');
    v = await axe(page);
    assert.equal(v.length, 0, `ar:\n${describeViolations(v)}`);
    await screenshot(page, 'resident-ar-10-even-wachten', 320, 640);
    await page.getByLabel('اللغة').selectOption('nl');
    // The keyboard reaches "Opnieuw proberen", which asks again.
    await tabTo(page, /^Opnieuw proberen$/);
    const again = page.waitForResponse((r) => r.url() === ctx.link);
    await page.keyboard.press('Enter');
    assert.equal((await again).status(), 429);
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});
