// Moderatie in a real browser: a moderator opens the oldest entry of the
// queue, double-clicks a name in the text to select it and redacts it,
// drags a range on the recording's waveform, hears it muted, saves, and
// publishes. Through the API: the published text holds the replacement
// and not the name, and the recording is silent in that range (its Opus
// rendition decoded by ffmpeg) and not outside it. axe-core on the page
// and its states (entry open, reject dialog, an error shown), 320 px,
// screenshots.
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

test('a moderator redacts a name and a range of the recording, then publishes', { skip: skipWithoutChromium() || skipWithoutWeb(), timeout: 240000 }, async () => {
  const ctx = await staffSetup();
  const u = ctx.d.url;
  const browser = await launch();
  try {
    // An older entry without audio, and the one to redact.
    const post = async (entry, files = []) => {
      const form = new FormData();
      form.append('entry', JSON.stringify(entry));
      for (const f of files) form.append('file', new Blob([f.data], { type: f.type }), f.name);
      const r = await fetch(`${u}/api/v1/collections/buurt/uploads?key=${encodeURIComponent(ctx.key)}`, { method: 'POST', body: form });
      assert.equal(r.status, 201);
      return r.json();
    };
    const consent = { scope: 'publish', version: '2024-05', language: 'nl' };
    const text = 'Gisteren sprak ik Jan Zonnebloem bij de speeltuin. Hij voelt zich daar niet veilig.';
    const e = await post({ kind: 'story', title: 'Speeltuin', text, consent },
      [{ name: 'memo.wav', type: 'audio/wav', data: toneWav(tmpdir('mod'), 'memo.wav', 8) }]);
    await post({ kind: 'story', title: 'Later verhaal', text: 'Nog een verhaal.', consent });
    const mid = e.media[0].id;
    await waitFor(() => psql(ctx.url, `SELECT status FROM media WHERE id = ${mid}`) === 'ready', { timeout: 90000 });

    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (x) => errors.push(String(x)));
    await signIn(page, u, 'moderator1', '/moderatie');
    await page.getByRole('heading', { level: 1, name: 'Moderatie' }).waitFor();
    // Oldest first.
    const items = page.locator('.vh-queue__item');
    await items.first().waitFor();
    assert.match(await items.first().innerText(), /Speeltuin/);
    await checkPage(page, 'moderatie-wachtrij');

    await items.first().click();
    const textBox = page.getByTestId('entry-text');
    await textBox.waitFor();
    // An error shown: saving with nothing chosen.
    await page.getByRole('button', { name: 'Weglakken opslaan' }).click();
    await page.getByText('Er is niets gekozen om weg te lakken.').waitFor();

    // Select "Zonnebloem" by double-clicking it, as a person would. The
    // point is taken once the page has stopped moving: a smooth scroll
    // (the Utrecht root style has one) or a late layout would otherwise
    // put the double click beside the word.
    await textBox.scrollIntoViewIfNeeded();
    await page.evaluate(() => new Promise((resolve) => {
      const el = document.querySelector('[data-testid="entry-text"]');
      let last = '';
      let same = 0;
      const tick = () => {
        const r = el.getBoundingClientRect();
        const now = `${r.x},${r.y},${r.width},${r.height},${window.scrollY}`;
        same = now === last ? same + 1 : 0;
        last = now;
        if (same >= 5) resolve();
        else requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }));
    const box = await page.evaluate(() => {
      const el = document.querySelector('[data-testid="entry-text"]');
      const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let t = w.nextNode(); t; t = w.nextNode()) {
        const i = t.textContent.indexOf('Zonnebloem');
        if (i < 0) continue;
        const r = document.createRange();
        r.setStart(t, i + 2);
        r.setEnd(t, i + 3);
        const b = r.getBoundingClientRect();
        return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
      }
      return null;
    });
    assert.ok(box, 'the name is in the text');
    await page.mouse.dblclick(box.x, box.y);
    assert.equal(await page.evaluate(() => window.getSelection().toString().trim()), 'Zonnebloem');
    await page.getByRole('button', { name: 'Selectie weglakken' }).click();
    await page.getByText('“Zonnebloem” wordt [naam]').waitFor();

    // Drag a range on the waveform: from 25% to 50% of the whole recording.
    const wave = page.getByTestId('waveform');
    await page.waitForFunction(() => document.querySelector('[data-testid="waveform"] canvas'), null, { timeout: 20000 });
    const wb = await wave.boundingBox();
    await page.mouse.move(wb.x + wb.width * 0.25, wb.y + wb.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(wb.x + wb.width * (0.25 + 0.025 * i), wb.y + wb.height / 2);
    await page.mouse.up();
    const rangeText = await page.getByText(/^Van \d+:\d\d tot \d+:\d\d/).first().innerText();
    assert.match(rangeText, /Van 0:0[12] tot 0:0[34]/);
    await checkPage(page, 'moderatie-weglakken');

    // Hear it before saving: the player is muted inside the range.
    await page.getByRole('button', { name: 'Beluisteren met stilte' }).click();
    await page.waitForFunction(() => { const a = document.querySelector('audio'); return a && !a.paused && a.muted; }, null, { timeout: 15000 });
    await page.waitForFunction(() => { const a = document.querySelector('audio'); return a && a.paused && !a.muted; }, null, { timeout: 20000 });

    // The recording is re-encoded by a media job (202): the page says so
    // and holds publishing back until the job is done, then says it is.
    await page.getByRole('button', { name: 'Weglakken opslaan' }).click();
    await page.getByRole('status').filter({ hasText: 'De opname wordt nu weggelakt' }).waitFor();
    await page.getByRole('button', { name: 'Publiceren' }).click();
    await page.getByText('Wacht met publiceren tot de opname is weggelakt.').waitFor();
    await page.getByText(/Opgeslagen: 1 stuk\(ken\) tekst en 1 stuk\(ken\) opname weggelakt/).waitFor({ timeout: 120000 });
    const redactJob = psql(ctx.url, `SELECT state FROM job WHERE kind = 'redact' ORDER BY id DESC LIMIT 1`).trim();
    assert.equal(redactJob, 'done', 'the page says saved only once the redaction job is done');
    assert.match(await textBox.innerText(), /Jan \[naam\] bij de speeltuin/);

    // The reject dialog, open (then cancelled).
    await page.getByRole('button', { name: 'Afwijzen…' }).click();
    await page.getByRole('dialog', { name: 'Inzending afwijzen' }).waitFor();
    await page.getByRole('button', { name: 'Afwijzen', exact: true }).click();
    await page.getByText('Vul een reden in.').waitFor();
    await checkPage(page, 'moderatie-afwijzen');
    await page.getByRole('button', { name: 'Annuleren' }).click();

    await page.getByRole('button', { name: 'Publiceren' }).click();
    await page.getByText('Gepubliceerd.').waitFor();
    await page.getByRole('heading', { name: 'Geschiedenis' }).waitFor();
    await page.locator('.vh-history li', { hasText: 'Gepubliceerd' }).waitFor();
    await checkPage(page, 'moderatie-gepubliceerd');
    assert.deepEqual(errors, []);

    // Through the API: the text, and the muted range in the rendition.
    const got = await json(u, ctx.tokens.analyst, 'GET', `/api/v1/entries/${e.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.status, 'published');
    assert.equal(got.body.text, 'Gisteren sprak ik Jan [naam] bij de speeltuin. Hij voelt zich daar niet veilig.');
    const spans = JSON.parse(psql(ctx.url, `SELECT spans::text FROM redaction WHERE entry_id = ${e.id} AND kind = 'audio'`));
    assert.equal(spans.media, mid);
    assert.equal(spans.mute.length, 1);
    const [[a, b]] = spans.mute;
    assert.ok(a > 1500 && a < 2500 && b > 3500 && b < 4500, `muted ${a}–${b} ms`);
    const opus = await fetch(`${u}/api/v1/media/${mid}/audio.opus`, { headers: { Authorization: `Bearer ${ctx.tokens.analyst}` } });
    assert.equal(opus.status, 200);
    const file = path.join(tmpdir('mod-out'), 'a.opus');
    writeFileSync(file, Buffer.from(await opus.arrayBuffer()));
    const inside = rms(file, a / 1000 + 0.15, b / 1000 - 0.15), outside = rms(file, 0.3, a / 1000 - 0.3);
    assert.ok(inside < -60, `the range is silent: ${inside} dBFS`);
    assert.ok(outside > -35, `outside it the tone stays: ${outside} dBFS`);
    const h = await json(u, ctx.tokens.moderator, 'GET', `/api/v1/entries/${e.id}/history`);
    assert.deepEqual(h.body.items.map((x) => x.event).filter((x) => x !== 'processed'), ['received', 'redacted', 'published']);
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});
