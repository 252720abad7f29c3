// The browser harness: Debian's chromium (make deps installs it), headless,
// driven by playwright-core, with a fresh profile per launch and no
// background traffic. Helpers for axe-core (WCAG 2.1 A and AA),
// screenshots for review under $BUILD/screenshots, and the gzipped
// JavaScript a page made the browser transfer.
//
//   import { launch, axe, screenshot, jsWeight, skipWithoutChromium } from './lib/browser.mjs';
//   test('…', { skip: skipWithoutChromium() }, async () => {
//     const browser = await launch();
//     const page = await browser.newPage();
//     …
//     await browser.close();
//   });
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { build } from './harness.mjs';

const require = createRequire(import.meta.url);

export const CHROMIUM = process.env.VERHAAL_CHROMIUM ?? '/usr/bin/chromium';

// A test's `skip` option: false when chromium is there, else the reason.
// Only a missing browser skips; make deps installs it, so CI runs these.
export function skipWithoutChromium() {
  if (existsSync(CHROMIUM)) return false;
  return `chromium is not installed at ${CHROMIUM} (make deps installs it); browser tests skipped`;
}

const launched = new Set();
after(async () => { for (const b of launched) await b.close().catch(() => {}); });

// Launches chromium headless with a new profile directory (removed on
// close). args adds command-line switches, e.g. fake media devices:
// ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
//  '--use-file-for-fake-audio-capture=/path/to.wav']. viewport and
// deviceScaleFactor emulate a window: 640×400 at 2 is a 1280×800 window
// at 200% browser zoom (what WCAG 1.4.4 asks pages to survive).
export async function launch({ args = [], locale = 'nl-NL', viewport = { width: 1280, height: 800 }, deviceScaleFactor } = {}) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(path.join(process.env.VERHAAL_TEST_TMP ?? os.tmpdir(), 'chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    locale,
    timezoneId: 'Europe/Amsterdam',
    viewport,
    ...(deviceScaleFactor ? { deviceScaleFactor } : {}),
    args: [
      '--no-sandbox',			// root in a container: no user namespaces
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-sync',
      '--disable-extensions',
      '--metrics-recording-only',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication',
      '--autoplay-policy=no-user-gesture-required',
      ...args,
    ],
  });
  const close = context.close.bind(context);
  context.close = async () => {
    launched.delete(context);
    await close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  launched.add(context);
  // A context of a persistent launch is the browser: newPage() works on it.
  return context;
}

// Runs axe-core in the page with the WCAG 2.1 A and AA rules (and the 2.0
// ones they include) and returns its violations: [{id, impact, help,
// nodes: [{target, html, failureSummary}]}]. options.include limits it to
// a selector.
export async function axe(page, { include } = {}) {
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated, not injected as a <script>: the pages' CSP allows no
  // inline script, and axe must not need it to be relaxed.
  await page.evaluate(source);
  const result = await page.evaluate(async (inc) => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(inc ? { include: [inc] } : document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
    }));
  }, include ?? null);
  return result;
}

// One line per violation, for an assertion message.
export function describeViolations(violations) {
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n` +
    v.nodes.slice(0, 5).map((n) => `    ${n.target.join(' ')}: ${n.html.slice(0, 160)}`).join('\n')).join('\n');
}

export const screenshotDir = path.join(build, 'screenshots');

// Saves the page at width × height to $BUILD/screenshots/<name>-<w>x<h>.png
// (the viewport is left at that size) and returns the file's path.
export async function screenshot(page, name, width, height, { fullPage = true } = {}) {
  mkdirSync(screenshotDir, { recursive: true });
  await page.setViewportSize({ width, height });
  // Let layout settle after the resize.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const file = path.join(screenshotDir, `${name}-${width}x${height}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

// Starts counting the JavaScript the page transfers, from the Chrome
// DevTools Protocol's network events: encodedDataLength is the bytes on
// the wire (compressed, as the server sent them), headers included.
// encoding 'gzip' (the default) makes the browser ask for gzip only, so
// the count is of gzipped bytes; null leaves its own Accept-Encoding.
// Returns { stop(): {bytes, files: [{url, bytes, encoding}]} }.
export async function jsWeight(page, { encoding = 'gzip' } = {}) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  if (encoding) await cdp.send('Network.setExtraHTTPHeaders', { headers: { 'Accept-Encoding': encoding } });
  // The cache would hide what a first visit transfers.
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const reqs = new Map();
  cdp.on('Network.responseReceived', (e) => {
    const type = e.response.headers['content-type'] ?? e.response.headers['Content-Type'] ?? '';
    if (e.type === 'Script' || /javascript/.test(type)) {
      reqs.set(e.requestId, {
        url: e.response.url, bytes: 0,
        encoding: e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? null,
      });
    }
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = reqs.get(e.requestId);
    if (r) r.bytes = e.encodedDataLength;
  });
  return {
    stop() {
      const files = [...reqs.values()];
      return { bytes: files.reduce((a, f) => a + f.bytes, 0), files };
    },
  };
}
