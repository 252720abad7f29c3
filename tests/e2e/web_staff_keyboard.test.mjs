// Moderatie with the keyboard alone, in a real chromium: from the queue
// (Tab, Enter) to the entry; in its text a name selected with the caret
// (Shift and the arrow keys) and redacted; a range of the recording set
// with the begin and end sliders (arrow keys, Page Up) and added; heard
// muted before saving; saved; published. No mouse event is sent after
// signing in. Checked through the API: the published text holds the
// replacement, the muted range is exactly the one set (2.0–4.0 s) and
// the Opus rendition is silent there. axe-core on the new states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { psql, tmpdir, waitFor } from './lib/harness.mjs';
import { toneWav } from './lib/consent.mjs';
import { launch, skipWithoutChromium } from './lib/browser.mjs';
import { checkPage, json, signIn, skipWithoutWeb, staffSetup } from './lib/staffweb.mjs';

function rms(file, from, to) {
  const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-ss', String(from), '-t', String(to - from), '-f', 'f32le', '-ac', '1', '-ar', '48000', '-'], { maxBuffer: 64 << 20 });
  const f = new Float32Array(pcm.buffer, pcm.byteOffset, pcm.length / 4);
  let s = 0;
  for (const v of f) s += v * v;
  return f.length && s > 0 ? 10 * Math.log10(s / f.length) : -200;
}

// The accessible name of the focused element, as far as this test needs:
// its label, aria-label or text.
function focusedName() {
  const el = document.activeElement;
  if (!el || el === document.body) return '';
  const byId = (ids) => ids.split(/\s+/).map((i) => document.getElementById(i)?.textContent ?? '').join(' ');
  return (el.labels?.[0]?.textContent ?? (el.getAttribute('aria-labelledby') ? byId(el.getAttribute('aria-labelledby')) : null) ??
    el.getAttribute('aria-label') ?? el.textContent ?? '').trim();
}

// Tab (or Shift+Tab) until the focused element's name matches re.
async function tabTo(page, re, { back = false, max = 60 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const name = await page.evaluate(focusedName);
    if (re.test(name)) return;
  }
  throw new Error(`${back ? 'Shift+Tab' : 'Tab'} never reached ${re}`);
}

test('a moderator redacts and publishes with the keyboard alone', { skip: skipWithoutChromium() || skipWithoutWeb(), timeout: 240000 }, async () => {
  const ctx = await staffSetup();
  const u = ctx.d.url;
  const browser = await launch();
  try {
    const form = new FormData();
    const text = 'Gisteren sprak ik Jan Zonnebloem bij de speeltuin. Hij voelt zich daar niet veilig.';
    form.append('entry', JSON.stringify({ kind: 'story', title: 'Speeltuin', text, consent: { scope: 'publish', version: '2024-05', language: 'nl' } }));
    form.append('file', new Blob([toneWav(tmpdir('kbd'), 'memo.wav', 8)], { type: 'audio/wav' }), 'memo.wav');
    const r = await fetch(`${u}/api/v1/collections/buurt/uploads?key=${encodeURIComponent(ctx.key)}`, { method: 'POST', body: form });
    assert.equal(r.status, 201);
    const e = await r.json();
    const mid = e.media[0].id;
    await waitFor(() => psql(ctx.url, `SELECT status FROM media WHERE id = ${mid}`) === 'ready', { timeout: 90000 });

    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (x) => errors.push(String(x)));
    await signIn(page, u, 'moderator1', '/moderatie');
    await page.getByRole('heading', { level: 1, name: 'Moderatie' }).waitFor();
    await page.locator('.vh-queue__item').first().waitFor();
    // From here on, only keys.
    const clicks = [];
    await page.exposeFunction('vhClick', (x) => clicks.push(x));
    await page.evaluate(() => document.addEventListener('mousedown', (ev) => window.vhClick(String(ev.target?.tagName)), true));

    await tabTo(page, /^Speeltuin/);
    await page.keyboard.press('Enter');
    await page.getByTestId('entry-text').waitFor();

    // The text: the caret to "Zonnebloem", then Shift+→ over it.
    await tabTo(page, /^Tekst$/);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'entry-text');
    await page.keyboard.press('Control+Home');
    for (let i = 0; i < 'Gisteren sprak ik Jan '.length; i++) await page.keyboard.press('ArrowRight');
    for (let i = 0; i < 'Zonnebloem'.length; i++) await page.keyboard.press('Shift+ArrowRight');
    assert.equal(await page.evaluate(() => window.getSelection().toString()), 'Zonnebloem');
    // Typing changes nothing: the text is only selectable.
    await page.keyboard.type('x');
    assert.equal(await page.getByTestId('entry-text').innerText(), text);
    for (let i = 0; i < 'Zonnebloem'.length; i++) await page.keyboard.press('Shift+ArrowLeft');
    for (let i = 0; i < 'Zonnebloem'.length; i++) await page.keyboard.press('Shift+ArrowRight');
    assert.equal(await page.evaluate(() => window.getSelection().toString()), 'Zonnebloem');
    await tabTo(page, /^Selectie weglakken$/);
    await page.keyboard.press('Enter');
    await page.getByText('“Zonnebloem” wordt [naam]').waitFor();

    // The recording: begin at 2.0 s (20 × →), end at 4.0 s (4 × Page Up).
    await page.waitForFunction(() => document.querySelector('[data-testid="waveform"] canvas'), null, { timeout: 20000 });
    const start = page.getByRole('slider', { name: 'Begin van het stille stuk' });
    await page.waitForFunction(() => !document.querySelector('input[type="range"]')?.disabled, null, { timeout: 15000 });
    await tabTo(page, /^Begin van het stille stuk$/);
    for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
    assert.equal(await start.inputValue(), '2000');
    assert.equal(await start.getAttribute('aria-valuetext'), '2,0 seconden');
    await tabTo(page, /^Einde van het stille stuk$/);
    for (let i = 0; i < 4; i++) await page.keyboard.press('PageUp');
    assert.equal(await page.getByRole('slider', { name: 'Einde van het stille stuk' }).inputValue(), '4000');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowLeft');
    await checkPage(page, 'moderatie-toetsenbord-keuze');
    await tabTo(page, /^Stuk toevoegen \(0:02,0 tot 0:04,0\)$/);
    await page.keyboard.press('Enter');
    await page.getByText('Van 0:02 tot 0:04 (2,0 s) wordt stil').waitFor();

    // Hear it: back to "Beluisteren met stilte".
    await tabTo(page, /^Beluisteren met stilte$/, { back: true });
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => { const a = document.querySelector('.vh-wave audio'); return a && !a.paused && a.muted; }, null, { timeout: 15000 });
    await page.waitForFunction(() => { const a = document.querySelector('.vh-wave audio'); return a && a.paused && !a.muted; }, null, { timeout: 20000 });

    await tabTo(page, /^Weglakken opslaan$/);
    await page.keyboard.press('Enter');
    await page.getByText(/Opgeslagen: 1 stuk\(ken\) tekst en 1 stuk\(ken\) opname weggelakt/).waitFor({ timeout: 60000 });
    assert.match(await page.getByTestId('entry-text').innerText(), /Jan \[naam\] bij de speeltuin/);
    await tabTo(page, /^Publiceren$/);
    await page.keyboard.press('Enter');
    await page.getByText('Gepubliceerd.').waitFor();
    await page.locator('.vh-history li', { hasText: 'Gepubliceerd' }).waitFor();
    await checkPage(page, 'moderatie-toetsenbord-klaar');
    assert.deepEqual(clicks, [], 'no mouse was used');
    assert.deepEqual(errors, []);

    // Through the API.
    const got = await json(u, ctx.tokens.analyst, 'GET', `/api/v1/entries/${e.id}`);
    assert.equal(got.body.status, 'published');
    assert.equal(got.body.text, 'Gisteren sprak ik Jan [naam] bij de speeltuin. Hij voelt zich daar niet veilig.');
    const spans = JSON.parse(psql(ctx.url, `SELECT spans::text FROM redaction WHERE entry_id = ${e.id} AND kind = 'audio'`));
    assert.equal(spans.media, mid);
    assert.deepEqual(spans.mute, [[2000, 4000]]);
    const opus = await fetch(`${u}/api/v1/media/${mid}/audio.opus`, { headers: { Authorization: `Bearer ${ctx.tokens.analyst}` } });
    assert.equal(opus.status, 200);
    const file = path.join(tmpdir('kbd-out'), 'a.opus');
    writeFileSync(file, Buffer.from(await opus.arrayBuffer()));
    assert.ok(rms(file, 2.15, 3.85) < -60, 'the range is silent');
    assert.ok(rms(file, 0.3, 1.7) > -35, 'before it the tone stays');
    const h = await json(u, ctx.tokens.moderator, 'GET', `/api/v1/entries/${e.id}/history`);
    assert.deepEqual(h.body.items.map((x) => x.event).filter((x) => x !== 'processed'), ['received', 'redacted', 'published']);
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});
