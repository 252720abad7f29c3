// Helpers for the resident page's browser tests: a daemon serving the
// built web app with media runners, a collection with consent texts and
// Utrecht's buurten, a speech file made by espeak-ng in Dutch for
// chromium's fake microphone, and walking the page's steps.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { build, top, freshDatabase, startDaemon, ctl, tmpdir } from './harness.mjs';
import { addConsentText } from './accounts.mjs';
import { launch } from './browser.mjs';

export const webRoot = path.join(build, 'web');
export const SLUG = 'wijkgesprek';

export async function residentDaemon(env = {}) {
  const url = freshDatabase();
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_WEB_ROOT: webRoot, VERHAAL_MEDIA_RUNNERS: '2', VERHAAL_LOG_LEVEL: 'info', ...env } });
  const out = ctl(url, 'collection', 'create', '--slug', SLUG, '--title', 'Wijkgesprek Overvecht');
  const key = out.trim().split('\n').pop();
  addConsentText(url, SLUG, '2026-11', 'nl', 'Ik geef mijn verhaal aan de gemeente Utrecht.\n\nDe gemeente gebruikt het alleen zoals ik hieronder kies.');
  addConsentText(url, SLUG, '2026-11', 'en', 'I give my story to the City of Utrecht.\n\nThe city uses it only as I choose below.');
  const seed = path.join(top, 'contrib/seed');
  ctl(url, 'import-areas', ...['cbs_47018NED_WijkenEnBuurten_indeling2024_utrecht.csv', 'utrecht_buurten_gemeente2013_wgs84.geojson',
    'utrecht_wijken_gemeente2013_wgs84.geojson', 'utrecht_gemeentegrens2013_wgs84.geojson'].map((f) => path.join(seed, f)));
  const admin = ctl(url, 'token', 'create', '--user', 'beheer', '--role', 'admin').trim().split('\n').pop();
  return { url, d, key, admin, link: `${d.url}/api/v1/collections/${SLUG}/uploads?key=${encodeURIComponent(key)}` };
}

// A Dutch sentence spoken by espeak-ng, as chromium's fake microphone
// plays it (in a loop).
let speech;
export function speechWav() {
  if (speech && existsSync(speech)) return speech;
  const dir = tmpdir('speech');
  speech = path.join(dir, 'spraak.wav');
  execFileSync('espeak-ng', ['-v', 'nl', '-s', '140', '-w', speech,
    'Bij ons in de straat wordt vaak ingebroken. Ik voel me \'s avonds niet veilig op het plein bij de winkels.']);
  return speech;
}

export function launchWithMic(opts = {}) {
  return launch({
    ...opts,
    args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${speechWav()}`],
  });
}

export const admin = (ctx) => ({ Authorization: `Bearer ${ctx.admin}` });

export async function entries(ctx) {
  const r = await fetch(`${ctx.d.url}/api/v1/entries?collection=${SLUG}&facets=false&sort=recent`, { headers: admin(ctx) });
  return (await r.json()).items;
}

// The steps up to sending: consent scope, a recording of about `seconds`
// (or none), a text and a buurt. Resolves the recorded length in ms.
export async function tellStory(page, { scope = 'Gebruiken voor onderzoek en mijn woorden citeren', seconds = 5, text = 'Bij de winkels is het onveilig.', buurt = true, photos = [] } = {}) {
  await page.getByRole('button', { name: 'Volgende' }).click();
  await page.getByLabel(scope).check();
  await page.getByRole('button', { name: 'Volgende' }).click();
  let ms = 0;
  if (seconds > 0) {
    await page.getByRole('button', { name: 'Microfoon aanzetten' }).click();
    await page.getByRole('button', { name: 'Opnemen', exact: true }).click();
    await page.waitForTimeout(seconds * 1000);
    await page.getByRole('button', { name: 'Stoppen' }).click();
    await page.getByText(/Opname klaar/).waitFor();
    ms = Number(await page.locator('[data-duration-ms]').getAttribute('data-duration-ms'));
  }
  await page.getByRole('button', { name: 'Volgende' }).click();
  if (text) await page.getByLabel('Uw verhaal in tekst').fill(text);
  if (photos.length) await page.getByLabel("Foto's (maximaal 3)").setInputFiles(photos);
  if (buurt) {
    const sel = page.getByLabel('In welke buurt gebeurde het?');
    await page.waitForFunction(() => document.querySelectorAll('#vh-buurt option').length > 1);
    await sel.selectOption({ index: 1 });
  }
  return { ms, buurt: buurt ? await page.getByLabel('In welke buurt gebeurde het?').inputValue() : '' };
}

// The number of stories waiting in the page's IndexedDB.
export function pendingCount(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('verhaal-resident', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('pending', { keyPath: 'slug' });
    req.onsuccess = () => {
      const c = req.result.transaction('pending').objectStore('pending').count();
      c.onsuccess = () => { resolve(c.result); req.result.close(); };
      c.onerror = () => reject(c.error);
    };
    req.onerror = () => reject(req.error);
  }));
}

// The SHA-256 of the story waiting in IndexedDB.
export function pendingSha256(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('verhaal-resident', 1);
    req.onsuccess = () => {
      const g = req.result.transaction('pending').objectStore('pending').getAll();
      g.onsuccess = async () => {
        const buf = await g.result[0].blob.arrayBuffer();
        const h = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
        resolve([...h].map((b) => b.toString(16).padStart(2, '0')).join(''));
      };
      g.onerror = () => reject(g.error);
    };
    req.onerror = () => reject(req.error);
  }));
}

// A small JPEG photo made by ffmpeg.
export function photoJpeg(name = 'foto.jpg') {
  const file = path.join(tmpdir('photo'), name);
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=640x480', '-frames:v', '1', file]);
  return file;
}
