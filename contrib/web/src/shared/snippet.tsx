// A search snippet: HTML-escaped text with <mark> around matches, as the
// API sends it. Rendered as text and <mark> elements, never as HTML, so
// nothing but the marks can come through.
const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };

function unescape(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (m) => entities[m] ?? m);
}

export function Snippet({ html }: { html: string }) {
  const parts = html.split(/(<mark>|<\/mark>)/);
  const out = [];
  let marked = false;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === '<mark>') marked = true;
    else if (p === '</mark>') marked = false;
    else if (p) out.push(marked ? <mark key={i} class="utrecht-mark">{unescape(p)}</mark> : unescape(p));
  }
  return <>{out}</>;
}
