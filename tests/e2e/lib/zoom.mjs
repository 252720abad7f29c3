// The 200% zoom check of the staff pages' browser tests (web_staff_zoom*):
// chromium emulating a 1280×800 window at 200% browser zoom, a 640×400
// CSS-pixel viewport at 2 device pixels per CSS pixel (launchZoomed), and
// on a page: no sideways scrolling, nothing outside the viewport, nothing
// cut off, axe-core clean, and a screenshot (atZoom).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { axe, describeViolations, launch, screenshotDir } from './browser.mjs';

export function launchZoomed() {
  return launch({ viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 });
}

// What overflows at this size: the page's sideways scroll, elements
// reaching outside the viewport (the outermost of each), and boxes that
// cut their content off. Drawings (the waveform's and the map's canvas
// layers) and visually hidden text are left out: they are clipped on
// purpose and have text alternatives.
function overflow() {
  const vw = document.documentElement.clientWidth;
  // Visually hidden by the clip technique (for screen readers only), or
  // inside such an element.
  const memo = new Map();
  const srOnly = (el) => {
    if (!el || el === document.body) return false;
    if (!memo.has(el)) {
      const cs = getComputedStyle(el);
      memo.set(el, (cs.position === 'absolute' && cs.clip !== 'auto' && cs.clip !== '') || srOnly(el.parentElement));
    }
    return memo.get(el);
  };
  const skip = (el) => el.closest('.vh-visually-hidden, .vh-skip, .leaflet-pane, .leaflet-control-container, .konvajs-content') || srOnly(el);
  const name = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}`;
  const shown = (el) => {
    const cs = getComputedStyle(el);
    const b = el.getBoundingClientRect();
    return cs.display !== 'none' && cs.visibility !== 'hidden' && b.width > 0 && b.height > 0;
  };
  const outside = [], cut = [];
  for (const el of document.querySelectorAll('body *:not(option, optgroup)')) {
    if (skip(el) || !shown(el)) continue;
    const b = el.getBoundingClientRect();
    const p = el.parentElement.getBoundingClientRect();
    if ((b.right > vw + 1 || b.left < -1) && !(p.right > vw + 1 || p.left < -1)) outside.push(`${name(el)} ${Math.round(b.left)}–${Math.round(b.right)}`);
    // Form controls scroll their own value; a map pans its drawing.
    if (['INPUT', 'TEXTAREA', 'SELECT', 'CANVAS', 'AUDIO', 'IMG', 'svg'].includes(el.tagName) || el.classList.contains('leaflet-container')) continue;
    const cs = getComputedStyle(el);
    const hides = ['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis';
    if (hides && el.scrollWidth > el.clientWidth + 1 && !el.querySelector('canvas')) cut.push(`${name(el)} ${el.scrollWidth}>${el.clientWidth}`);
    const hidesY = ['hidden', 'clip'].includes(cs.overflowY);
    if (hidesY && el.scrollHeight > el.clientHeight + 1 && !el.querySelector('canvas') && (el.textContent ?? '').trim()) cut.push(`${name(el)} height ${el.scrollHeight}>${el.clientHeight}`);
  }
  return {
    dpr: window.devicePixelRatio, width: window.innerWidth,
    scroll: document.documentElement.scrollWidth - vw, outside: outside.slice(0, 10), cut: cut.slice(0, 10),
  };
}

export async function atZoom(page, name) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const o = await page.evaluate(overflow);
  assert.equal(o.dpr, 2, `${name}: 2 device pixels per CSS pixel`);
  assert.equal(o.width, 640, `${name}: 640 CSS pixels wide`);
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `zoom200-${name}.png`), fullPage: true });
  assert.ok(o.scroll <= 0, `${name}: scrolls sideways by ${o.scroll} px at 200%`);
  assert.deepEqual(o.outside, [], `${name}: outside the viewport at 200%`);
  assert.deepEqual(o.cut, [], `${name}: cut off at 200%`);
  const v = await axe(page);
  assert.deepEqual(v.map((x) => x.id), [], `${name} at 200%: axe found\n${describeViolations(v)}`);
}

