// The resident page's photos over a poor connection (issue 13): a page
// closed while photos are being sent and opened again sends each photo
// exactly once (every photo's tus address is kept in IndexedDB before a
// byte goes, and continued), and uploads go in a few growing chunks
// rather than hundreds of 16 KiB ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { waitFor, tmpdir } from './lib/harness.mjs';
import { skipWithoutChromium } from './lib/browser.mjs';
import { residentDaemon, launchWithMic, tellStory, entries, admin, pendingCount } from './lib/resident.mjs';

const skip = skipWithoutChromium();

async function receiptOf(page) {
  const el = page.getByTestId('receipt');
  await el.waitFor({ timeout: 60000 });
  return (await el.textContent()).trim();
}

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
