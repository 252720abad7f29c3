// An entry's history (received, processed, moderated, redacted,
// published) from GET /api/v1/entries/{id}/history, oldest first, for the
// Verhaal/werkbezoek page and the moderation page. The server's details
// are short technical words (a file's family, the redaction's counts, the
// fields a correction changed); they are put into Dutch here.
import { formatDateTime } from '../shared/i18n';
import type { HistoryItem } from './staffApi';
import { st, type StaffKey } from './staffI18n';
import './staff.css';

const families: Record<string, StaffKey> = { audio: 'hist.family.audio', image: 'hist.family.image', video: 'hist.family.video' };
const fields: Record<string, StaffKey> = { title: 'field.title', themes: 'field.themes', area: 'field.area' };

function detail(h: HistoryItem): string {
  const d = h.detail ?? '';
  if (!d) return '';
  switch (h.event) {
    case 'received': return '';
    case 'processed': return families[d] ? st(families[d]) : d;
    case 'redacted': {
      // "[reason; ]text spans N, recordings M" (the words never).
      const m = /^(?:(.*); )?text spans (\d+), recordings (\d+)$/.exec(d);
      if (!m) return d;
      const counts = st('hist.redacted.counts', { spans: Number(m[2]), recordings: Number(m[3]) });
      return m[1] ? `${m[1]}; ${counts}` : counts;
    }
    case 'edited':
      // "title; themes: a,b; area: BU…" -> the Dutch field names.
      return d.split('; ').map((part) => {
        const [name, ...rest] = part.split(': ');
        const label = fields[name] ? st(fields[name]) : name;
        const v = rest.join(': ');
        return v ? `${label}: ${v === 'none' ? st('hist.none') : v}` : label;
      }).join('; ');
    default: return d;
  }
}

export function Geschiedenis({ items, id }: { items: HistoryItem[]; id?: string }) {
  if (items.length === 0) return <p class="utrecht-paragraph vh-muted">{st('hist.empty')}</p>;
  return (
    <ol class="vh-history" id={id}>
      {items.map((h, i) => {
        const d = detail(h);
        return (
          <li key={i}><time dateTime={h.at}>{formatDateTime(h.at)}</time>{' '}
            {st(`hist.${h.event}` as StaffKey)}{h.actor ? ` ${st('hist.by', { actor: h.actor })}` : ''}
            {d ? ` — ${d}` : ''}</li>
        );
      })}
    </ol>
  );
}
