// API problems of the staff pages in Dutch: the shared messages, plus the
// problem types only these pages meet.
import { ApiError } from '../shared/api';
import { st, type StaffKey } from './staffI18n';

const own: Record<string, StaffKey> = {
  'consent-scope': 'err.consent-scope',
  'invalid-redaction': 'err.invalid-redaction',
  'conflict': 'err.conflict',
  'reason-required': 'err.reason-required',
  'invalid-entry': 'err.invalid-entry',
  'invalid-account': 'err.invalid-account',
  'invalid-token': 'err.invalid-token',
  'invalid-consent-text': 'err.invalid-consent-text',
  'audit-unavailable': 'err.audit-unavailable',
};

export function problem(e: unknown): string {
  if (e instanceof ApiError) {
    const k = own[e.slug];
    if (k) return st(k, { field: fieldName(e.field ?? fieldOf(e.detail)) });
    if (e.status === 409) return st('err.conflict', { field: '' });
    if (e.status === 422) return st('err.invalid', { field: fieldName(e.field ?? fieldOf(e.detail)) });
    return e.message;
  }
  return st('err.unknown');
}

function fieldOf(detail: string): string {
  const m = /'([a-z_]+)'/.exec(detail);
  return m ? m[1] : '';
}

const names: Record<string, StaffKey> = {
  title: 'field.title', themes: 'field.themes', area: 'field.area', name: 'field.name',
  role: 'field.role', password: 'field.password', account: 'field.account', label: 'field.label',
  expires_days: 'field.expires', slug: 'field.slug', version: 'field.version', language: 'field.language',
  text: 'field.text', reason: 'field.reason',
};
function fieldName(f: string): string { return names[f] ? st(names[f]) : f; }
