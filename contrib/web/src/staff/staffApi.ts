// The API calls of the staff pages (dossier, moderation, collections,
// export, admin), on top of the one request function of shared/api.ts
// (CSRF header, problem+json, session expiry). Pages never build URLs.
import { request, type Count, type Query, type SearchItem, type SearchParams } from '../shared/api';

// ---- areas and dossiers ------------------------------------------------------

export interface Geometry { type: string; coordinates: unknown }
export interface BuurtFeature {
  type: 'Feature';
  geometry: Geometry | null;
  properties: { code: string; name: string; wijk: string | null; entries: Count } & Record<string, unknown>;
}
export interface BuurtenCollection { type: 'FeatureCollection'; features: BuurtFeature[] }

// The buurten with their boundaries, story counts (k-protected) and the
// latest value of every indicator, for the map.
export function buurtenGeoJSON(p: SearchParams = {}): Promise<BuurtenCollection> {
  return request('GET', '/api/v1/exports/buurten.geojson', { query: p as Query });
}

export interface IndicatorInfo { id: number; key: string; title: string; unit: string; source: string }
export function indicators(): Promise<IndicatorInfo[]> { return request('GET', '/api/v1/indicators'); }

export interface AreaDetail {
  code: string; level: string; name: string; parent: string | null;
  children: { code: string; name: string; level: string }[];
  geometry: Geometry | null; bbox: number[] | null;
}
export function area(code: string): Promise<AreaDetail> {
  return request('GET', `/api/v1/areas/${encodeURIComponent(code)}`);
}

export interface Series {
  key: string; title: string; unit: string; source: string;
  values: { period: string; period_type: string; value: number | null }[];
  derived?: { method: string; buurten: number };
}
export interface Divergence {
  theme: string; title: string; indicator: string | null; indicator_title?: string;
  mode: string; unit?: string; from?: number; to?: number; compared_with?: string;
  indicator_change?: number | null; stories_change?: number | null;
  diverging: boolean; note: string; statement?: string;
}
export interface Dossier {
  area: { code: string; name: string; level: string; parent?: string | null };
  from: string; to: string; axis: string[]; k: number;
  indicators: Series[];
  stories: { total: Count[]; themes: { theme: string; title: string; counts: Count[] }[] };
  latest: SearchItem[];
  divergence: { items: Divergence[]; comparison_rule?: string } | Divergence[];
}
export function dossier(code: string, from?: string, to?: string): Promise<Dossier> {
  return request('GET', `/api/v1/areas/${encodeURIComponent(code)}/dossier`, { query: { from, to } });
}

// ---- moderation --------------------------------------------------------------

export interface HistoryItem { at: string; event: string; actor: string | null; detail: string | null; media: number | null }
export function history(id: number): Promise<{ entry: number; status: string; items: HistoryItem[] }> {
  return request('GET', `/api/v1/entries/${id}/history`);
}

export interface Span { start: number; end: number; replacement?: string }
export interface Redaction { text?: Span[]; title?: Span[]; audio?: { media: number; mute: [number, number][] }[] }
// With audio the answer is 202: each recording is re-encoded by a job of
// the media runners, followed with job().
export interface RedactJob { media: number; job: number; state: string }
export function redact(id: number, r: Redaction): Promise<{ id: number; status: string; title: string; text: string; audio?: RedactJob[] }> {
  return request('POST', `/api/v1/entries/${id}/redact`, { body: r });
}
export interface Job { id: number; state: 'queued' | 'running' | 'done' | 'failed'; last_error: string | null }
export function job(id: number): Promise<Job> { return request('GET', `/api/v1/jobs/${id}`); }
export function approve(id: number): Promise<{ id: number; status: string }> {
  return request('POST', `/api/v1/entries/${id}/approve`, { body: {} });
}
export function publish(id: number): Promise<{ id: number; status: string }> {
  return request('POST', `/api/v1/entries/${id}/publish`, { body: {} });
}
export function reject(id: number, reason: string): Promise<{ id: number; status: string }> {
  return request('POST', `/api/v1/entries/${id}/reject`, { body: { reason } });
}
export interface EntryEdit { title?: string; themes?: string[]; area?: string | null }
export function editEntry(id: number, e: EntryEdit): Promise<{ id: number; title: string; themes: string[]; area: string | null }> {
  return request('PATCH', `/api/v1/entries/${id}`, { body: e });
}

// ---- collections ---------------------------------------------------------------

export interface CollectionRow {
  id: number; slug: string; title: string; description: string;
  consent_version: string; created_at: string; entries: Count;
}
export function collectionList(): Promise<CollectionRow[]> { return request('GET', '/api/v1/collections'); }
export interface NewLink { slug: string; upload_key: string; link: string }
export function createCollection(c: { slug: string; title: string; description?: string; consent_version: string }): Promise<CollectionRow & NewLink> {
  return request('POST', '/api/v1/collections', { body: c });
}
export function addConsentText(slug: string, version: string, language: string, text: string): Promise<unknown> {
  return request('POST', `/api/v1/collections/${encodeURIComponent(slug)}/consent`, { body: { version, language, text } });
}
export function renewLink(slug: string): Promise<NewLink> {
  return request('POST', `/api/v1/collections/${encodeURIComponent(slug)}/link`, { body: {} });
}

// ---- exports -------------------------------------------------------------------

function exportQuery(p: SearchParams, extra: Query = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...p, ...extra }))
    if (v !== undefined && v !== null && v !== '' && k !== 'cursor' && k !== 'limit' && k !== 'sort') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
export const exportUrl = {
  csv: (p: SearchParams, semicolon: boolean) => `/api/v1/exports/entries.csv${exportQuery(p, semicolon ? { sep: 'semicolon' } : {})}`,
  geojson: (p: SearchParams) => `/api/v1/exports/buurten.geojson${exportQuery(p)}`,
};

// ---- accounts, tokens, audit -------------------------------------------------

export interface Account {
  name: string; role: string; disabled: boolean; has_password: boolean;
  created_at: string; last_login_at: string | null; sessions: number; tokens: number;
}
export function accounts(): Promise<Account[]> { return request('GET', '/api/v1/accounts'); }
export function addAccount(name: string, role: string, password: string): Promise<Account> {
  return request('POST', '/api/v1/accounts', { body: { name, role, password } });
}
export function changeAccount(name: string, change: { role?: string; disabled?: boolean }): Promise<Account> {
  return request('PATCH', `/api/v1/accounts/${encodeURIComponent(name)}`, { body: change });
}
export interface Token {
  id: number; account: string; role: string; label: string; created_at: string;
  expires_at: string | null; last_used_at: string | null; state: string;
}
export function tokens(): Promise<Token[]> { return request('GET', '/api/v1/tokens'); }
export function createToken(account: string, label: string, expires_days?: number): Promise<Token & { token: string }> {
  return request('POST', '/api/v1/tokens', { body: { account, label, expires_days } });
}
export function revokeToken(id: number): Promise<void> { return request('DELETE', `/api/v1/tokens/${id}`); }

// ODK tokens: a field worker's phone (docs/odk.md); settings is ODK
// Collect's QR payload, shown only when the token is made.
export interface OdkToken { id: number; name: string; created_at: string; last_used_at: string | null; revoked_at: string | null }
export function odkTokens(): Promise<{ tokens: OdkToken[] }> { return request('GET', '/api/v1/odk/tokens'); }
export function createOdkToken(name: string): Promise<OdkToken & { token: string; server_url: string; settings: string }> {
  return request('POST', '/api/v1/odk/tokens', { body: { name } });
}
export function revokeOdkToken(id: number): Promise<void> { return request('DELETE', `/api/v1/odk/tokens/${id}`); }

export interface AuditRow {
  id: number; at: string; actor: string; role: string; action: string;
  object_type: string; object_id: string; reason: string; client_addr: string;
}
export interface AuditFilter { actor?: string; action?: string; entry?: string; since?: string; until?: string; before?: string }
export function audit(f: AuditFilter): Promise<{ items: AuditRow[]; next: string | null }> {
  return request('GET', '/api/v1/audit', { query: { ...f, limit: 50 } as Query });
}
