// Shared steps of the staff pages' browser tests (web_staff_*): a daemon
// serving the built web app, signing in through the sign-in page, and the
// checks every page and state gets: axe-core (WCAG 2.1 A and AA), no
// sideways scrolling at 320 px, and screenshots at 360×800 and 1280×800
// under $BUILD/screenshots for review.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { build, freshDatabase, startDaemon, ctl } from './harness.mjs';
import { addConsentTexts, addUser } from './accounts.mjs';
import { axe, describeViolations, screenshot } from './browser.mjs';

export const webRoot = path.join(build, 'web');
export const PW = 'een wachtwoord voor de test';

export function skipWithoutWeb() {
  if (!existsSync(path.join(webRoot, 'index.html'))) return `${webRoot} is not built (make builds it when Node.js is present)`;
  return false;
}

// A database, a daemon serving the app, a collection "buurt" with its
// consent texts, and one account per staff role (name = role + "1").
export async function staffSetup(env = {}) {
  const url = freshDatabase();
  ctl(url, 'migrate');
  const d = await startDaemon({ databaseUrl: url, env: { VERHAAL_WEB_ROOT: webRoot, VERHAAL_MEDIA_RUNNERS: '2', ...env } });
  const key = ctl(url, 'collection', 'create', '--slug', 'buurt', '--title', 'Buurt').trim().split('\n').pop();
  addConsentTexts(url, 'buurt');
  const tokens = {};
  for (const role of ['admin', 'moderator', 'analyst']) {
    addUser(url, `${role}1`, role, PW);
    tokens[role] = ctl(url, 'token', 'create', '--user', `${role}1`, '--label', 'api').trim().split('\n').pop();
  }
  return { url, d, key, tokens };
}

// Signs in through the sign-in page and waits for the page it returns to.
export async function signIn(page, base, name, then = '/zoeken') {
  await page.goto(`${base}/inloggen?terug=${encodeURIComponent(then)}`);
  await page.getByLabel('Accountnaam').fill(name);
  await page.getByLabel('Wachtwoord').fill(PW);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.waitForURL((u) => u.pathname === then.split('?')[0], { timeout: 10000 });
}

// The checks of one page in one state, named for its screenshots.
export async function checkPage(page, name, { include } = {}) {
  const v = await axe(page, { include });
  assert.deepEqual(v.map((x) => x.id), [], `${name}: axe found\n${describeViolations(v)}`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'nl');
  const size = page.viewportSize();
  await screenshot(page, name, 360, 800);
  await screenshot(page, name, 1280, 800);
  await page.setViewportSize({ width: 320, height: 800 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const over = await page.evaluate(() => document.documentElement.scrollWidth);
  const wide = over <= 320 ? [] : await page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > 321 && el.parentElement.getBoundingClientRect().right <= 321)
    .slice(0, 8).map((el) => `${el.tagName.toLowerCase()}.${el.getAttribute('class') ?? ''} in ${el.parentElement.tagName.toLowerCase()}.${el.parentElement.getAttribute('class') ?? ''}`));
  const probe = over <= 320 ? '' : await page.evaluate(() => ['.vh-map-wrap', '.vh-dossier__grid', '.vh-compare', '.vh-latest', '.vh-header', '.vh-dossier__controls'].map((sel) => {
    const el = document.querySelector(sel);
    if (!el) return `${sel}:-`;
    const d = el.style.display;
    el.style.display = 'none';
    const w = document.documentElement.scrollWidth;
    el.style.display = d;
    return `${sel}:${w}`;
  }).join(' ') + ' ' + [...document.querySelectorAll('.vh-dossier__grid > *, .vh-dossier__grid > * > *')].map((e) => `${e.tagName}.${e.className}:${Math.round(e.getBoundingClientRect().width)}/${e.scrollWidth}/${getComputedStyle(e).overflowX}`).join(' '));
  assert.ok(over <= 320, `${name}: the page is ${over} px wide at 320 px: ${wide.join(', ')} ${probe}`);
  if (size) await page.setViewportSize(size);
}

export async function json(base, token, method, p, body) {
  const r = await fetch(`${base}${p}`, {
    method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const ct = r.headers.get('content-type') ?? '';
  return { status: r.status, body: ct.includes('json') ? await r.json() : await r.text() };
}
