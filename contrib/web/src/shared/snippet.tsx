// A search snippet: HTML-escaped text with <mark> around matches, as the
// API sends it. Rendered as text and <mark> elements, never as HTML, so
// nothing but the marks can come through.
import { t } from './i18n';

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
    else if (p && marked) out.push(<mark key={i} class="utrecht-mark">{unescape(p)}</mark>);
    else if (p) out.push(<Redacted key={i} text={unescape(p)} />);
  }
  return <>{out}</>;
}

// A redaction leaves its replacement ("[…]" by default, or "[naam]");
// those are marked so that no reader takes them for the resident's words.
export function Redacted({ text }: { text: string }) {
  const parts = text.split(/(\[[^\[\]\n]{1,64}\])/);
  return <>{parts.map((p, i) => i % 2 === 1 ? (
    <mark key={i} class="vh-redacted"><span class="vh-visually-hidden">{t('entry.redacted')}: </span>{p}</mark>
  ) : p)}</>;
}
