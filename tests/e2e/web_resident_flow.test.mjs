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
    page.on('requestfinished', (req) => { if (req.method() === 'PATCH') patches++; });
    // The network goes when the second PATCH is sent, before any of it
    // reaches the daemon: going offline after the first one's answer
    // raced the page, which on a busy machine sent all the rest first.
    let sent = 0;
    const cut = new Promise((resolve) => {
      page.route('**/api/v1/**', async (route) => {
        if (route.request().method() === 'PATCH' && ++sent === 2) {
          await browser.setOffline(true);
          resolve();
          return route.abort('internetdisconnected');
        }
        return route.continue();
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
