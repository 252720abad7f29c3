// The resident page's languages: Dutch by default, English, Turkish and
// Arabic (right to left). The choice made on the page is kept; else the
// browser's languages decide. t() fills {name} placeholders.
import { nl, type MessageKey } from './messages.nl';
import { en } from './messages.en';
import { tr } from './messages.tr';
import { ar } from './messages.ar';

export type Lang = 'nl' | 'en' | 'tr' | 'ar';
export const LANGS: { code: Lang; name: string }[] = [
  { code: 'nl', name: 'Nederlands' }, { code: 'en', name: 'English' },
  { code: 'tr', name: 'Türkçe' }, { code: 'ar', name: 'العربية' },
];
const files: Record<Lang, Record<MessageKey, string>> = { nl, en, tr, ar };
const KEY = 'verhaal.lang';

function initial(): Lang {
  const kept = localStorage.getItem(KEY);
  if (kept && kept in files) return kept as Lang;
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = l.toLowerCase().split('-')[0];
    if (base in files) return base as Lang;
  }
  return 'nl';
}

let lang: Lang = initial();

export function currentLang(): Lang { return lang; }
export function dir(l: Lang = lang): 'rtl' | 'ltr' { return l === 'ar' ? 'rtl' : 'ltr'; }

export function setLang(l: Lang): void {
  lang = l;
  localStorage.setItem(KEY, l);
  document.documentElement.lang = l;
  document.documentElement.dir = dir(l);
  document.title = t('page.title');
}

export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  return files[lang][key].replace(/\{(\w+)\}/g, (m, n: string) =>
    n in vars ? (typeof vars[n] === 'number' ? new Intl.NumberFormat(lang).format(vars[n] as number) : String(vars[n])) : m);
}

// "10 minuten", "45 seconden".
export function spoken(seconds: number): string {
  if (seconds < 60) return t('time.seconds', { n: seconds });
  const m = Math.round(seconds / 60);
  return m === 1 ? t('time.minute') : t('time.minutes', { n: m });
}

export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function formatDate(day: string): string {
  const d = new Date(`${day}T12:00:00`);
  return Number.isNaN(d.getTime()) ? day :
    new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'long', year: 'numeric' }).format(d);
}
