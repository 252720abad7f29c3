// The staff app's routes live in the URL path and query (history API);
// verhaald answers every route listed in vh_routes.c with index.html.
import { useEffect, useState } from 'preact/hooks';

export interface Location { path: string; query: URLSearchParams }

function current(): Location {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((fn) => fn()));

// Goes to url (path and query) in the app; replace keeps the history entry.
export function navigate(url: string, { replace = false } = {}): void {
  if (url === window.location.pathname + window.location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((fn) => fn());
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const fn = () => setLoc(current());
    listeners.add(fn);
    return () => { listeners.delete(fn); };
  }, []);
  return loc;
}

// Handles a click on an in-app link without reloading the page, leaving
// modified clicks (new tab, download) to the browser.
export function linkClick(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement);
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target || a.origin !== window.location.origin) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}

// "/verhalen/12" against "/verhalen/:id": the parameters, or null.
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/'), s = path.replace(/\/+$/, '').split('/');
  if (p.length !== s.length && !(pattern === '/' && path === '/')) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) {
      if (!s[i]) return null;
      out[p[i].slice(1)] = decodeURIComponent(s[i]);
    } else if (p[i] !== s[i]) return null;
  }
  return out;
}
