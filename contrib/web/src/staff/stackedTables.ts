// Tables that reflow: below 48em (a phone, or a desktop window at 200%
// zoom) staff.css draws each row of a table.vh-stack as a card and each
// cell on its own line, with its column's name before it, taken from the
// data-label set here from the table's own column headers. So a wide
// table (accounts, tokens, the audit trail) needs no sideways scrolling
// (WCAG 1.4.10). The header row stays in the accessibility tree, only
// visually hidden, so screen readers still hear a table.
import { useEffect, type MutableRef } from 'preact/hooks';

// Sets attribute a to v unless it is already (attribute changes do not
// wake the observer below, but this keeps them few).
function set(el: Element, a: string, v: string) { if (el.getAttribute(a) !== v) el.setAttribute(a, v); }

function label(table: HTMLTableElement) {
  // Drawn as blocks, table elements lose their table roles in some
  // browsers; the roles are said explicitly so the table stays one.
  set(table, 'role', 'table');
  const heads = Array.from(table.tHead?.rows[0]?.cells ?? [], (c) => c.textContent?.trim() ?? '');
  for (const group of [table.tHead, ...Array.from(table.tBodies)]) {
    if (!group) continue;
    set(group, 'role', 'rowgroup');
    for (const row of Array.from(group.rows)) {
      set(row, 'role', 'row');
      Array.from(row.cells).forEach((c, i) => {
        const scope = c.getAttribute('scope');
        set(c, 'role', c.tagName === 'TH' ? (scope === 'row' ? 'rowheader' : 'columnheader') : 'cell');
        if (group !== table.tHead && heads[i]) set(c, 'data-label', heads[i]);
      });
    }
  }
}

// Labels every table.vh-stack under root, now and whenever rows change.
export function useStackedTables(root: MutableRef<HTMLElement | null>) {
  useEffect(() => {
    const el = root.current;
    if (!el) return;
    const all = () => el.querySelectorAll<HTMLTableElement>('table.vh-stack').forEach(label);
    all();
    const mo = new MutationObserver(all);
    mo.observe(el, { childList: true, subtree: true });
    return () => mo.disconnect();
  }, []);
}
