// Texts of the staff pages (dossier, moderation, collections, export,
// admin), in Dutch; numbers and dates go through shared/i18n (nl-NL).
import { formatNumber } from '../shared/i18n';
import { staffNl, type StaffKey } from './staffMessages.nl';
export type { StaffKey };

export function st(key: StaffKey, vars: Record<string, string | number> = {}): string {
  return staffNl[key].replace(/\{(\w+)\}/g, (m, name: string) =>
    name in vars ? (typeof vars[name] === 'number' ? formatNumber(vars[name] as number) : String(vars[name])) : m);
}

const pctFmt = new Intl.NumberFormat('nl-NL', { style: 'percent', maximumFractionDigits: 0, signDisplay: 'exceptZero' });
export function formatChange(x: number): string { return pctFmt.format(x); }
const decFmt = new Intl.NumberFormat('nl-NL', { maximumFractionDigits: 1 });
export function formatValue(x: number | null): string { return x === null ? '–' : decFmt.format(x); }
