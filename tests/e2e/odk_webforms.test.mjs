// "Werkbezoek invullen" in a browser: the page renders the werkbezoek
// XForm with ODK Web Forms (@getodk/web-forms) and sends it, photo and
// all, to the same OpenRosa endpoint ODK Collect uses, with the field
// worker's session. One visit entry arrives, with the photo as media,
// even when Send is pressed while the form is still scaling the photo
// down (the page holds the Send until the form has it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { build, freshDatabase, startDaemon, psql, tmpdir, waitFor } from './lib/harness.mjs';
import { importAreas } from './lib/search.mjs';
import { addUser } from './lib/accounts.mjs';
import { launch, skipWithoutChromium, screenshot } from './lib/browser.mjs';

const PW = 'Veldwerk wachtwoord 2026';
let d;
after(() => d?.stop());

// A phone camera's photo (5 MP): the form scales it down to 2048 px
// before it is the question's answer, which takes a while (seconds on a
// busy machine).
function phonePhoto() {
  const file = path.join(tmpdir('webforms'), 'IMG_20261201_101500.jpg');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=2592x1944', '-frames:v', '1', '-q:v', '3', file]);
  return file;
}

test('a field worker fills in the werkbezoek in ODK Web Forms with a photo and sends it at once; the photo goes with it', { skip: skipWithoutChromium(), timeout: 300000 }, async () => {
  const db = freshDatabase();
  d = await startDaemon({ databaseUrl: db, env: { VERHAAL_WEB_ROOT: path.join(build, 'web') } });
  assert.ok(importAreas(db));
  addUser(db, 'webwerker', 'fieldworker', PW);
  const photo = phonePhoto();
  const browser = await launch();
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400 && process.env.VERHAAL_TEST_VERBOSE_BROWSER) console.log('console: HTTP', r.status(), r.url()); });
  page.on('console', (m) => { if (process.env.VERHAAL_TEST_VERBOSE_BROWSER && !m.text().includes('font')) console.log('console:', m.type(), m.text().slice(0, 300), JSON.stringify(m.location())); });
  // Every request the page sends to the submission endpoint.
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST' && /\/odk\/submission$/.test(new URL(r.url()).pathname)) posts.push(r); });
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
  // The photo repeat starts empty: add one, pick the file, and press
  // Send straight away, as someone in a hurry does: the form is still
  // scaling the photo down. The page holds the Send until the form has
  // the photo, then sends.
  await page.getByRole('button', { name: "Add Foto's" }).click();
  await page.locator('input[type=file][accept^="image"]').first().setInputFiles(photo);
  await page.getByRole('button', { name: /verzenden|send|submit/i }).first().click();
  await page.getByText(/Verstuurd: Het werkbezoek is ontvangen/).waitFor({ timeout: 150000 });
  await screenshot(page, 'werkbezoek-invullen', 1280, 900);
  const row = await waitFor(() => psql(db, "SELECT e.kind || '|' || e.title || '|' || coalesce((SELECT string_agg(m.filename || ':' || m.size, ',') FROM media m WHERE m.entry_id = e.id), '') FROM odk_submission o JOIN entry e ON e.id = o.entry_id") || null);
  const [kind, title, files] = row.split('|');
  assert.equal(kind, 'visit');
  assert.equal(title, 'Via ODK Web Forms');
  // One photo, under the name the form gave it, scaled down (smaller
  // than what was picked).
  const m = /^(\d+\.jpg):(\d+)$/.exec(files);
  assert.ok(m, `one photo: ${files}`);
  assert.ok(Number(m[2]) > 1000 && Number(m[2]) < statSync(photo).size, `${m[2]} bytes of ${statSync(photo).size}`);
  assert.equal(psql(db, 'SELECT count(*) FROM odk_submission'), '1');
  assert.equal(posts.length, 1, 'one submission sent');
  // The instance (kept sealed as the original) names the photo it carries.
  const h = psql(db, 'SELECT xml_sha256 FROM odk_submission');
  const xml = readFileSync(path.join(d.dataDir, 'blobs', h.slice(0, 2), h.slice(2, 4), h), 'utf8');
  assert.ok(xml.includes(`<foto>${m[1]}</foto>`), `the instance names the photo: ${xml}`);
  assert.deepEqual(errors, []);
  await browser.close();
});
