// "Werkbezoek invullen" in a browser: the page renders the werkbezoek
// XForm with ODK Web Forms (@getodk/web-forms) and sends it, photo and
// all, to the same OpenRosa endpoint ODK Collect uses, with the field
// worker's session. One visit entry arrives, with the photo as media.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { build, freshDatabase, startDaemon, psql, shared, waitFor } from './lib/harness.mjs';
import { importAreas } from './lib/search.mjs';
import { addUser } from './lib/accounts.mjs';
import { launch, skipWithoutChromium, screenshot } from './lib/browser.mjs';

const PW = 'Veldwerk wachtwoord 2026';
let d;
after(() => d?.stop());

test('a field worker fills in the werkbezoek in ODK Web Forms with a photo and sends it', { todo: 'under load the form is sent without its photo (the engine downscales it asynchronously); open in issue 15', skip: skipWithoutChromium(), timeout: 180000 }, async () => {
  const db = freshDatabase();
  d = await startDaemon({ databaseUrl: db, env: { VERHAAL_WEB_ROOT: path.join(build, 'web') } });
  assert.ok(importAreas(db));
  addUser(db, 'webwerker', 'fieldworker', PW);
  const browser = await launch();
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400 && process.env.VERHAAL_TEST_VERBOSE_BROWSER) console.log('console: HTTP', r.status(), r.url()); });
  page.on('console', (m) => { if (process.env.VERHAAL_TEST_VERBOSE_BROWSER && !m.text().includes('font')) console.log('console:', m.type(), m.text().slice(0, 300), JSON.stringify(m.location())); });
  // Signed in as the staff app does it: the session cookie, the CSRF
  // token in sessionStorage.
  await page.goto(`${d.url}/werkbezoek`);
  await page.evaluate(async (pw) => {
    const r = await fetch('/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'webwerker', password: pw }) });
    sessionStorage.setItem('verhaal.csrf', (await r.json()).csrf_token);
  }, PW);
  await page.reload();
  await page.getByRole('heading', { name: 'Werkbezoek invullen' }).waitFor();
  const note = page.getByLabel(/Notitie/);
  await note.waitFor({ timeout: 60000 }).catch(async (e) => {
    await screenshot(page, 'werkbezoek-invullen-fout', 1280, 900);
    console.log('DAEMONLOG', d.log().split('\n').filter((l) => /odk|werkbezoek|session/.test(l)).join('\n'));
    throw new Error(`${e.message}\npage: ${(await page.locator('body').innerText()).slice(0, 800)}\nerrors: ${errors}`);
  });
  await page.getByLabel(/^Titel/).fill('Via ODK Web Forms');
  await note.fill('Losliggende stoeptegels bij de school.');
  await page.getByText('Geweld', { exact: true }).click();
  // The photo repeat starts empty: add one, then pick the file.
  await page.getByRole('button', { name: "Add Foto's" }).click();
  await page.locator('input[type=file][accept^="image"]').first().setInputFiles(path.join(shared, 'data', 'media', 'photos', 'DSCN0010.jpg'));
  // The form takes the photo asynchronously (it downscales it to
  // orx:max-pixels first); sending before it has done so sends no photo.
  // Wait until the form shows it.
  await page.waitForFunction(() => document.querySelector('img[src^="blob:"], img[src^="data:"]')
    || [...document.querySelectorAll('body *')].some((e) => e.childElementCount === 0 && /DSCN0010/.test(e.textContent ?? '')),
  null, { timeout: 30000 });
  await page.getByRole('button', { name: /verzenden|send|submit/i }).first().click();
  await page.getByText(/Verstuurd: Het werkbezoek is ontvangen/).waitFor({ timeout: 30000 });
  await screenshot(page, 'werkbezoek-invullen', 1280, 900);
  const row = await waitFor(() => psql(db, "SELECT e.kind || '|' || e.title || '|' || coalesce((SELECT string_agg(m.filename, ',') FROM media m WHERE m.entry_id = e.id), '') FROM odk_submission o JOIN entry e ON e.id = o.entry_id") || null);
  const [kind, title, files] = row.split('|');
  assert.equal(kind, 'visit');
  assert.equal(title, 'Via ODK Web Forms');
  assert.match(files, /\.jpg$/);
  assert.deepEqual(errors, []);
  await browser.close();
});
