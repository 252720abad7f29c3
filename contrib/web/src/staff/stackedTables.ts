// Tables that reflow: below 48em (a phone, or a desktop window at 200%
// zoom) staff.css draws each row of a table.vh-stack as a card and each
// cell on its own line, with its column's name before it, taken from the
// data-label set here from the table's own column headers. So a wide
// table (accounts, tokens, the audit trail) needs no sideways scrolling
// (WCAG 1.4.10). The header row stays in the accessibility tree, only
// visually hidden, so screen readers still hear a table.
import { useEffect, type MutableRef } from 'preact/hooks';

function label(table: HTMLTableElement) {
  const heads = Array.from(table.tHead?.rows[0]?.cells ?? [], (c) => c.textContent?.trim() ?? '');
  for (const body of Array.from(table.tBodies))
    for (const row of Array.from(body.rows))
      Array.from(row.cells).forEach((c, i) => {
        if (heads[i] && c.getAttribute('data-label') !== heads[i]) c.setAttribute('data-label', heads[i]);
      });
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
