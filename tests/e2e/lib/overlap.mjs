// The overlap check of the tables that reflow (contrib/web
// stackedTables.ts, table.vh-stack): below 48em each row is drawn as a
// card with a cell a line, and the zoom tests' other checks (no sideways
// scroll, nothing cut off) do not see one cell drawn over another, which
// is what a cell of fixed height with a select or a button in it gave.
// So, on every row of every such table: no two cells' boxes intersect,
// and no control (select, button, input, textarea, link) reaches outside
// its own cell; a failure names the page, the table, the row and the two
// cells. Also: each such table is drawn stacked when the viewport is
// under 48em, so the check is not run on the wide layout by mistake.
//
//   import { assertNoOverlap, at320 } from './lib/overlap.mjs';
//   await atZoom(page, 'beheer'); await assertNoOverlap(page, 'beheer');
//   await at320(page, 'beheer');   // 320 CSS px wide: the same, a screenshot
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { screenshotDir } from './browser.mjs';

// Runs in the page. Boxes may share an edge (a pixel's rounding is let
// through); visually hidden text (a select's label for screen readers) is
// left out, it is clipped to nothing on purpose.
function overlaps() {
  const EPS = 0.5;
  const cut = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > EPS
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > EPS;
  const inside = (a, b) => a.left >= b.left - EPS && a.right <= b.right + EPS && a.top >= b.top - EPS && a.bottom <= b.bottom + EPS;
  const hidden = (el) => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (e.classList.contains('vh-visually-hidden') || cs.display === 'none' || cs.visibility === 'hidden') return true;
      if (cs.position === 'absolute' && cs.clip !== 'auto' && cs.clip !== '') return true;
    }
    return false;
  };
  const text = (el) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
  const ctlName = (el) => {
    const t = el.tagName.toLowerCase();
    const n = el.getAttribute('aria-label') || (el.labels?.[0] && text(el.labels[0])) || (t === 'select' ? '' : text(el)) || el.id;
    return n ? `${t} “${n}”` : t;
  };
  const narrow = window.matchMedia('(max-width: 47.99em)').matches;
  const tables = [], problems = [];
  document.querySelectorAll('table.vh-stack').forEach((table, ti) => {
    if (hidden(table)) return;
    const tname = text(table.caption) || table.dataset.testid || `table ${ti + 1}`;
    const heads = Array.from(table.tHead?.rows[0]?.cells ?? [], text);
    const stacked = Array.from(table.tBodies).some((b) => b.rows[0] && getComputedStyle(b.rows[0]).display === 'block');
    tables.push({ name: tname, stacked });
    if (narrow && !stacked && table.tBodies[0]?.rows.length) problems.push(`table “${tname}” is not stacked below 48em`);
    for (const body of Array.from(table.tBodies)) {
      for (const row of Array.from(body.rows)) {
        const cells = Array.from(row.cells).filter((c) => !hidden(c));
        const cname = (c) => c.dataset.label || heads[c.cellIndex] || `cell ${c.cellIndex + 1}`;
        const rname = text(row.querySelector('th[scope="row"]') ?? row.cells[0]).slice(0, 40);
        const at = `table “${tname}”, row “${rname}”`;
        const box = cells.map((c) => c.getBoundingClientRect());
        for (let i = 0; i < cells.length; i++) {
          for (let j = i + 1; j < cells.length; j++) {
            if (cut(box[i], box[j])) problems.push(`${at}: cell “${cname(cells[i])}” overlaps cell “${cname(cells[j])}”`);
          }
          for (const ctl of cells[i].querySelectorAll('select, button, input:not([type="hidden"]), textarea, a[href]')) {
            if (hidden(ctl)) continue;
            const b = ctl.getBoundingClientRect();
            if (b.width === 0 && b.height === 0) continue;
            if (inside(b, box[i])) continue;
            const over = cells.filter((c, k) => k !== i && cut(b, box[k])).map((c) => `cell “${cname(c)}”`);
            const r = (x) => `y ${Math.round(x.top)}–${Math.round(x.bottom)}, x ${Math.round(x.left)}–${Math.round(x.right)}`;
            problems.push(`${at}: the ${ctlName(ctl)} in cell “${cname(cells[i])}” reaches outside its cell`
              + (over.length ? `, drawn over ${over.join(' and ')}` : ' (over no other cell)') + ` (${r(b)}; its cell ${r(box[i])})`);
          }
        }
      }
    }
  });
  return { tables, problems };
}

// The check on the page as it is now; returns the tables it looked at.
export async function assertNoOverlap(page, name) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const o = await page.evaluate(overlaps);
  if (o.problems.length) assert.fail(`${name}: in the stacked tables (${o.problems.length})\n  ${o.problems.slice(0, 12).join('\n  ')}`);
  return o.tables;
}

// The page at 320 CSS pixels wide (WCAG 1.4.10's 1280 px at 400%): no
// sideways scroll, the overlap check, and a screenshot
// $BUILD/screenshots/w320-<name>.png; the viewport is put back after.
export async function at320(page, name) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 800 });
  try {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    mkdirSync(screenshotDir, { recursive: true });
    await page.screenshot({ path: path.join(screenshotDir, `w320-${name}.png`), fullPage: true });
    const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(over <= 0, `${name}: scrolls sideways by ${over} px at 320 px`);
    return await assertNoOverlap(page, `${name} at 320 px`);
  } finally {
    if (size) await page.setViewportSize(size);
  }
}
