// Texts, numbers and dates for people: t() looks a key up in the message
// file of the page's language (nl for now) and fills {name} placeholders;
// numbers and dates go through Intl with nl-NL.
import { nl, type MessageKey } from './messages.nl';
export type { MessageKey };

export const locale = 'nl-NL';
const messages: Record<MessageKey, string> = nl;

export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  return messages[key].replace(/\{(\w+)\}/g, (m, name: string) =>
    name in vars ? formatValue(vars[name]) : m);
}

function formatValue(v: string | number): string {
  return typeof v === 'number' ? formatNumber(v) : v;
}

const numberFmt = new Intl.NumberFormat(locale);
export function formatNumber(n: number): string { return numberFmt.format(n); }

// A count as the API gives it: a number, or "<k" for small numbers.
export function formatCount(c: number | string): string {
  return typeof c === 'number' ? formatNumber(c) : c.replace(/^</, '< ');
}

const dateFmt = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'long', year: 'numeric' });
const dateTimeFmt = new Intl.DateTimeFormat(locale, {
  day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit',
  timeZone: 'Europe/Amsterdam',
});
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFmt.format(d);
}
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTimeFmt.format(d);
}

// "over 5 minuten": a Retry-After in seconds, for people.
export function formatWait(seconds: number): string {
  if (seconds < 90) return t('wait.seconds', { n: Math.max(1, Math.round(seconds)) });
  const m = Math.ceil(seconds / 60);
  return m === 1 ? t('wait.minute') : t('wait.minutes', { n: m });
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
