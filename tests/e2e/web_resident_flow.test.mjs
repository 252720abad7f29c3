// The resident's page in a real chromium with a fake microphone fed from
// espeak-ng's Dutch speech (issue 13): a story recorded, told and sent
// with its receipt; the network cut mid-upload; the page closed
// mid-upload and opened again; the last answer dropped; withdrawal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { waitFor, tmpdir } from './lib/harness.mjs';
import { skipWithoutChromium, launch, jsWeight } from './lib/browser.mjs';
import { walk } from './lib/consent.mjs';
import { residentDaemon, launchWithMic, tellStory, entries, admin, pendingCount, pendingSha256, photoJpeg } from './lib/resident.mjs';
import { waitMedia, fetchTo, decodedSeconds } from './lib/media.mjs';

const skip = skipWithoutChromium();

async function receiptOf(page) {
  const el = page.getByTestId('receipt');
  await el.waitFor({ timeout: 60000 });
  return (await el.textContent()).trim();
}

test('a resident records, tells and sends a story and gets a receipt; the entry has its consent, is in review and has an Opus rendition of the recorded length', { skip }, async () => {
  const ctx = await residentDaemon();
  const browser = await launchWithMic();
  try {
    const page = await browser.newPage();
    const hosts = new Set();
    page.on('request', (r) => { if (!/^(blob|data):/.test(r.url())) hosts.add(new URL(r.url()).origin); });
    const weight = await jsWeight(page);
    await page.goto(ctx.link);
    await page.getByRole('heading', { name: 'Waarom en wie leest het' }).waitFor();
    assert.match(await page.getByTestId('retention').textContent(), /1\.825 dagen|1825 dagen/);
    const js = weight.stop();
    assert.ok(js.bytes > 0 && js.bytes <= 60 * 1024, `JavaScript ${js.bytes} bytes gzipped`);
    console.log(`resident page JavaScript: ${js.bytes} bytes gzipped in ${js.files.length} files`);

    // Nothing is chosen for the resident: Volgende without a scope stays.
    await page.getByRole('button', { name: 'Volgende' }).click();
    assert.equal(await page.getByTestId('consent-version').textContent(), 'Versie 2026-11');
    assert.equal(await page.getByTestId('consent-text').getAttribute('lang'), 'nl');
    await page.getByRole('button', { name: 'Volgende' }).click();
    await page.getByText('Kies eerst wat we met uw verhaal mogen doen.').waitFor();
    await page.getByRole('button', { name: 'Vorige' }).click();

    const { ms, buurt } = await tellStory(page, { seconds: 5, photos: [photoJpeg()] });
    assert.ok(ms > 4000 && ms < 7000, `recorded ${ms} ms`);
    assert.match(buurt, /^BU0344/);
    await page.getByRole('button', { name: 'Versturen' }).click();
    const receipt = await receiptOf(page);
    assert.match(receipt, /^vh_[A-Za-z0-9_-]{43}$/);
    assert.equal(await pendingCount(page), 0, 'IndexedDB is empty once acknowledged');
    assert.deepEqual([...hosts], [ctx.d.url], 'no request to another host');

    const [item] = await entries(ctx);
    const r = await fetch(`${ctx.d.url}/api/v1/entries/${item.id}`, { headers: admin(ctx) });
    const entry = await r.json();
    assert.equal(entry.status, 'pending_review');
    assert.equal(entry.consent.scope, 'quote_anonymised');
    assert.equal(entry.consent.version, '2026-11');
    assert.equal(entry.consent.language, 'nl');
    assert.equal(entry.area.code, buurt);
    assert.match(entry.text, /Bij de winkels is het onveilig/);
    // The recording, and the photo the same device added to it.
    assert.equal(entry.media.length, 2, JSON.stringify(entry.media));
    assert.ok(entry.media.some((x) => x.declared_type === 'image/jpeg'));
    entry.media = entry.media.filter((x) => /^audio\/webm/.test(x.declared_type));
    assert.equal(entry.media.length, 1);
    const m = await waitMedia(ctx.d.url, ctx.admin, entry.media[0].id);
    assert.equal(m.status, 'ready', JSON.stringify(m));
    const dir = tmpdir('opus');
    const { file } = await fetchTo(ctx.d.url, ctx.admin, m.links['audio.opus'], dir, 'a.opus');
    const secs = decodedSeconds(file);
    assert.ok(Math.abs(secs - ms / 1000) <= 0.3, `Opus ${secs} s against ${ms / 1000} s recorded`);
    // The receipt says in review.
    const s = await (await fetch(`${ctx.d.url}/api/v1/receipt`, { method: 'POST', body: JSON.stringify({ receipt }) })).json();
    assert.equal(s.state, 'in_review');
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});

test('the network goes away mid-upload and comes back: one entry, the right SHA-256', { skip }, async () => {
  const ctx = await residentDaemon();
  const browser = await launchWithMic();
  try {
    const page = await browser.newPage();
    await page.goto(ctx.link);
    await tellStory(page, { seconds: 6 });
    let patches = 0;
    let sha = null;
    const cut = new Promise((resolve) => {
      page.on('requestfinished', async (req) => {
        if (req.method() === 'PATCH' && ++patches === 1) {
          await browser.setOffline(true);
          resolve();
        }
      });
    });
    await page.getByRole('button', { name: 'Versturen' }).click();
    await cut;
    sha = await pendingSha256(page);
    await page.getByText('Geen verbinding.', { exact: false }).waitFor({ timeout: 20000 });
    assert.equal((await entries(ctx)).length, 0, 'nothing finished while offline');
    await browser.setOffline(false);
    await receiptOf(page);
    const list = await entries(ctx);
    assert.equal(list.length, 1, 'one entry');
    const entry = await (await fetch(`${ctx.d.url}/api/v1/entries/${list[0].id}`, { headers: admin(ctx) })).json();
    assert.equal(entry.media[0].sha256, sha);
    assert.ok(patches >= 2);
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});

test('the page is closed mid-upload and opened again: it resumes from the stored recording, and the storage is empty after', { skip }, async () => {
  const ctx = await residentDaemon();
  const browser = await launchWithMic();
  try {
    let page = await browser.newPage();
    await page.goto(ctx.link);
    await tellStory(page, { seconds: 6 });
    let patches = 0;
    // The second PATCH never gets through: the page closes meanwhile.
    await page.route('**/api/v1/uploads/*', async (route) => {
      if (route.request().method() === 'PATCH' && ++patches >= 2) return; // left hanging
      await route.continue();
    });
    await page.getByRole('button', { name: 'Versturen' }).click();
    await waitFor(() => patches >= 2, { timeout: 20000 });
    const sha = await pendingSha256(page);
    await page.close();
    assert.equal((await entries(ctx)).length, 0);

    page = await browser.newPage();
    await page.goto(ctx.link);
    await page.getByText('Uw vorige verhaal was nog niet helemaal verstuurd').waitFor();
    await receiptOf(page);
    assert.equal(await pendingCount(page), 0, 'IndexedDB is empty afterwards');
    const list = await entries(ctx);
    assert.equal(list.length, 1);
    const entry = await (await fetch(`${ctx.d.url}/api/v1/entries/${list[0].id}`, { headers: admin(ctx) })).json();
    assert.equal(entry.media[0].sha256, sha);
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});

test('the last answer is dropped: the receipt is still obtained, and another browser cannot obtain it', { skip }, async () => {
  const ctx = await residentDaemon();
  const browser = await launchWithMic();
  const other = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(ctx.link);
    await tellStory(page, { seconds: 3 });
    let uploadUrl = null;
    let dropped = false;
    await page.route('**/api/v1/uploads/*', async (route) => {
      const req = route.request();
      if (req.method() !== 'PATCH' || dropped) return route.continue();
      const res = await route.fetch();
      // The server finished the upload; its answer never arrives.
      if (res.headers()['upload-receipt']) {
        dropped = true;
        uploadUrl = req.url();
        return route.abort('connectionreset');
      }
      return route.fulfill({ response: res });
    });
    await page.getByRole('button', { name: 'Versturen' }).click();
    const receipt = await receiptOf(page);
    assert.ok(dropped, 'the final answer was dropped');
    const s = await fetch(`${ctx.d.url}/api/v1/receipt`, { method: 'POST', body: JSON.stringify({ receipt }) });
    assert.equal(s.status, 200, 'the receipt obtained again is the real one');
    assert.equal((await entries(ctx)).length, 1);

    // Another browser, with its own device secret, on the same upload.
    const p2 = await other.newPage();
    await p2.goto(ctx.link);
    const answer = await p2.evaluate(async (u) => {
      const b = crypto.getRandomValues(new Uint8Array(32));
      const device = btoa(String.fromCharCode(...b)).replace(/[+/=]/g, 'x');
      const r = await fetch(`${new URL(u).pathname}/receipt`, { headers: { 'Upload-Device': device } });
      return { status: r.status, text: await r.text() };
    }, uploadUrl);
    assert.equal(answer.status, 404);
    assert.ok(!answer.text.includes(receipt));
  } finally {
    await browser.close();
    await other.close();
    await ctx.d.stop('SIGKILL');
  }
});

test('withdrawal with the receipt removes the entry and its files; a wrong code gets a clear message', { skip }, async () => {
  const ctx = await residentDaemon();
  const browser = await launchWithMic();
  try {
    const page = await browser.newPage();
    await page.goto(ctx.link);
    await tellStory(page, { seconds: 3 });
    await page.getByRole('button', { name: 'Versturen' }).click();
    const receipt = await receiptOf(page);
    const [item] = await entries(ctx);
    const entry = await (await fetch(`${ctx.d.url}/api/v1/entries/${item.id}`, { headers: admin(ctx) })).json();
    const m = await waitMedia(ctx.d.url, ctx.admin, entry.media[0].id);
    const hashes = new Set(walk(ctx.d.dataDir).map((f) => f.sha256));
    assert.ok(hashes.has(entry.media[0].sha256), 'the original is under the data directory');
    const opusDir = tmpdir('w');
    const { file } = await fetchTo(ctx.d.url, ctx.admin, m.links['audio.opus'], opusDir, 'a.opus');
    const opusSha = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
    assert.ok(hashes.has(opusSha), 'the rendition is under the data directory');

    // Status first, from the link on the page.
    await page.getByRole('link', { name: 'Wat is er met mijn verhaal gebeurd?' }).click();
    await page.getByLabel('Ontvangstcode').fill(receipt);
    await page.getByRole('button', { name: 'Bekijken' }).click();
    await page.getByText('Een moderator bekijkt uw verhaal nog.').waitFor();

    await page.getByRole('link', { name: 'Mijn verhaal intrekken' }).click();
    await page.getByLabel('Ontvangstcode').fill('vh_ditisnietdecode');
    await page.getByRole('button', { name: 'Verder' }).click();
    await page.getByText('We vinden geen verhaal bij deze code.', { exact: false }).waitFor();
    await page.getByLabel('Ontvangstcode').fill(receipt);
    await page.getByRole('button', { name: 'Verder' }).click();
    await page.getByText('Dit wissen we:').waitFor();
    await page.getByText('uw opname (1)').waitFor();
    await page.getByRole('button', { name: 'Ja, trek mijn verhaal in' }).click();
    await page.getByTestId('withdrawn').waitFor();

    assert.equal((await entries(ctx)).length, 0);
    const r = await fetch(`${ctx.d.url}/api/v1/entries/${item.id}`, { headers: admin(ctx) });
    assert.equal(r.status, 404);
    const after = new Set(walk(ctx.d.dataDir).map((f) => f.sha256));
    assert.ok(!after.has(entry.media[0].sha256), 'no file holds the original');
    assert.ok(!after.has(opusSha), 'no file holds the rendition');
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});

test('the longest recording (resident_max_recording) is said before the start and before the end, and the recording stops there', { skip }, async () => {
  const ctx = await residentDaemon({ VERHAAL_RESIDENT_MAX_RECORDING: '12s' });
  const browser = await launchWithMic();
  try {
    const page = await browser.newPage();
    await page.goto(ctx.link);
    await page.getByRole('button', { name: 'Volgende' }).click();
    await page.getByLabel('Alleen gebruiken voor onderzoek').check();
    await page.getByRole('button', { name: 'Volgende' }).click();
    await page.getByText('U kunt maximaal 12 seconden opnemen.').waitFor();
    // The microphone is asked for only after the tap.
    assert.equal(await page.evaluate(() => document.querySelector('#vh-level')), null);
    await page.getByRole('button', { name: 'Microfoon aanzetten' }).click();
    await page.getByRole('button', { name: 'Opnemen', exact: true }).click();
    const t0 = Date.now();
    await page.getByText('Nog 4 seconden. Daarna stopt de opname vanzelf.').waitFor({ timeout: 15000 });
    const warnedAfter = Date.now() - t0;
    assert.ok(warnedAfter >= 7000 && warnedAfter < 11500, `warned after ${warnedAfter} ms`);
    await page.getByText('De opname is gestopt: dit is de langste opname die kan.').waitFor({ timeout: 10000 });
    const ms = Number(await page.locator('[data-duration-ms]').getAttribute('data-duration-ms'));
    assert.ok(ms >= 11800 && ms <= 12600, `stopped at ${ms} ms`);
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});

// A photo of noise (JPEG barely compresses it), width × height pixels,
// so that sizes differ and so do the bytes.
function noiseJpeg(name, width, height) {
  const file = path.join(tmpdir('photo'), name);
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `nullsrc=s=${width}x${height},geq=random(1)*255:random(1)*255:random(1)*255`,
    '-frames:v', '1', '-q:v', '2', file]);
  return file;
}
const sha256Of = (file) => execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];

// Every tus request the page makes: creations (POST, with the address
// the server gave) and PATCHes (with the offset after each).
function watchTus(page, log = { posts: [], patches: [] }) {
  page.on('response', (res) => {
    const req = res.request();
    if (req.method() === 'POST' && /\/uploads(\?|$)/.test(new URL(req.url()).pathname + '?') && res.status() === 201)
      log.posts.push(new URL(res.headers().location, req.url()).pathname);
    if (req.method() === 'PATCH' && res.status() === 204)
      log.patches.push({ url: new URL(req.url()).pathname, offset: Number(res.headers()['upload-offset']) });
  });
  return log;
}

test('the page is closed while photos are being sent and opened again: each photo is in the entry exactly once', { skip }, async () => {
  const ctx = await residentDaemon();
  const browser = await launchWithMic();
  const photos = [noiseJpeg('a.jpg', 900, 700), noiseJpeg('b.jpg', 904, 700), noiseJpeg('c.jpg', 908, 700)];
  try {
    let page = await browser.newPage();
    await page.goto(ctx.link);
    await tellStory(page, { seconds: 3, photos });
    // A slow phone connection: each photo takes seconds to go.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 200 * 1024 });
    const first = watchTus(page);
    await page.getByRole('button', { name: 'Versturen' }).click();
    // Closed once the first photo is in and the second has begun.
    await waitFor(() => first.posts.length >= 3 && first.patches.some((p) => p.url === first.posts[2]), { timeout: 60000 });
    await page.close();
    const [item] = await entries(ctx);
    const get = async () => (await fetch(`${ctx.d.url}/api/v1/entries/${item.id}`, { headers: admin(ctx) })).json();
    const before = (await get()).media.filter((m) => m.declared_type === 'image/jpeg');
    assert.equal(before.length, 1, 'one photo was in when the page closed');

    page = await browser.newPage();
    const second = watchTus(page);
    await page.goto(ctx.link);
    await page.getByText('Uw vorige verhaal was nog niet helemaal verstuurd').waitFor();
    await receiptOf(page);
    assert.equal(await pendingCount(page), 0, 'IndexedDB is empty afterwards');
    assert.equal(second.posts.length, 1, `only the third photo needed a new upload: ${JSON.stringify(second.posts)}`);
    assert.ok(second.patches.some((p) => p.url === first.posts[2]), 'the second photo went on where it was');
    const entry = await get();
    const got = entry.media.filter((m) => m.declared_type === 'image/jpeg').map((m) => m.sha256).sort();
    assert.deepEqual(got, photos.map(sha256Of).sort(), 'each photo exactly once');
    assert.equal(entry.media.length, 4, JSON.stringify(entry.media));
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});

test('a recording and a large photo go up in a few growing chunks, not in hundreds of small ones', { skip }, async () => {
  const ctx = await residentDaemon();
  const browser = await launchWithMic();
  const photo = noiseJpeg('groot.jpg', 1600, 1200);
  try {
    const page = await browser.newPage();
    await page.goto(ctx.link);
    await tellStory(page, { seconds: 5, photos: [photo] });
    const log = watchTus(page);
    await page.getByRole('button', { name: 'Versturen' }).click();
    await receiptOf(page);
    const size = Number(execFileSync('stat', ['-c', '%s', photo], { encoding: 'utf8' }));
    assert.ok(size > 1.5 * 1024 * 1024, `photo of ${size} bytes`);
    assert.equal(log.posts.length, 2);
    const [story, foto] = log.posts.map((u) => log.patches.filter((p) => p.url === u));
    const steps = (ps) => ps.map((p, i) => p.offset - (i ? ps[i - 1].offset : 0));
    assert.ok(story.length <= 3, `the recording in ${story.length} PATCHes: ${steps(story)}`);
    assert.ok(foto.length <= 5, `the photo in ${foto.length} PATCHes: ${steps(foto)}`);
    assert.equal(foto.at(-1).offset, size);
    assert.ok(Math.max(...steps(foto)) >= 1024 * 1024, `chunks ${steps(foto)}`);
    const [item] = await entries(ctx);
    const entry = await (await fetch(`${ctx.d.url}/api/v1/entries/${item.id}`, { headers: admin(ctx) })).json();
    assert.ok(entry.media.some((m) => m.sha256 === sha256Of(photo)), 'the photo arrived whole');
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});

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
