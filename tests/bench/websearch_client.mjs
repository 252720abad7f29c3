// The browser side of tests/bench/websearch.sh: headless chromium (a fresh
// profile, as the browser tests use) signs in through the staff app's
// sign-in page, then for each word types it into the search box and
// presses Enter. Measured in the page with the User Timing API: from the
// keydown of Enter (a mark made by a capturing listener) to the search
// page's own mark "vh:search-rendered" for that query (ZoekPagina, after
// the results are drawn). The first word is a warm-up and not printed.
//   node websearch_client.mjs BASE ACCOUNT PASSWORD WORDFILE
// Prints one duration in milliseconds per line.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

// playwright-core as the browser tests install it (tests/e2e).
const require = createRequire(new URL('../e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');

// As tests/e2e/lib/browser.mjs launches it: headless, a fresh profile, no
// background traffic.
async function launch() {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'websearch-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.VERHAAL_CHROMIUM ?? '/usr/bin/chromium',
    headless: true, locale: 'nl-NL', timezoneId: 'Europe/Amsterdam',
    viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
      '--disable-default-apps', '--disable-sync', '--disable-extensions', '--no-first-run',
      '--no-default-browser-check', '--disable-features=Translate,OptimizationHints,MediaRouter'],
  });
  const close = context.close.bind(context);
  context.close = async () => { await close().catch(() => {}); rmSync(profile, { recursive: true, force: true }); };
  return context;
}

const [base, account, password, file] = process.argv.slice(2);
const words = readFileSync(file, 'utf8').split('\n').map((w) => w.trim()).filter(Boolean);
if (words.length < 2) throw new Error(`${file}: need at least two words`);

const browser = await launch();
try {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    document.addEventListener('keydown', (ev) => {
      const el = ev.target;
      if (ev.key === 'Enter' && el instanceof HTMLInputElement && el.id === 'zoek-q')
        performance.mark('vh:enter', { detail: el.value.trim() });
    }, true);
  });
  await page.goto(`${base}/inloggen?terug=${encodeURIComponent('/zoeken')}`);
  await page.getByLabel('Accountnaam').fill(account);
  await page.getByLabel('Wachtwoord').fill(password);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.waitForURL((u) => u.pathname === '/zoeken', { timeout: 30000 });
  const box = page.getByRole('searchbox', { name: 'Zoekterm' });
  await box.waitFor();

  const out = [];
  for (const [i, w] of words.entries()) {
    await page.evaluate(() => performance.clearMarks());
    await box.fill(w);
    await box.press('Enter');
    const ms = await page.waitForFunction((q) => {
      const enter = performance.getEntriesByName('vh:enter').find((m) => m.detail === q);
      const done = performance.getEntriesByName('vh:search-rendered').find((m) => m.detail === q && enter && m.startTime > enter.startTime);
      return done ? done.startTime - enter.startTime : null;
    }, w, { timeout: 60000, polling: 50 }).then((h) => h.jsonValue());
    // The list shows this query's results (or says there are none).
    const shown = await page.locator('.vh-result').count() + await page.getByText('Geen verhalen of werkbezoeken gevonden').count();
    if (shown === 0) throw new Error(`"${w}": nothing was drawn`);
    if (i > 0) out.push(ms.toFixed(1));
  }
  console.log(out.join('\n'));
} finally {
  await browser.close();
}
