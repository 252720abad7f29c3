// The one module that knows the API's routes. It sends the session's
// CSRF token with every state-changing request, turns problem+json into
// an ApiError with a Dutch message, and tells the app when the session
// has ended (401) so that it can return to the sign-in page and back.
// Pages never build a URL by hand: they call the functions below.
import { formatWait, t } from './i18n';
import type { MessageKey as MessageKeyLike } from './messages.nl';

const CSRF_KEY = 'verhaal.csrf';

export interface Problem {
  type: string;
  title?: string;
  status: number;
  detail?: string;
  request_id?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly slug: string;
  readonly detail: string;
  readonly retryAfter: number | null;
  // The query parameter or body field the server named, if any.
  readonly field: string | null;

  constructor(status: number, problem: Partial<Problem>, retryAfter: number | null) {
    const slug = (problem.type ?? '').replace(/^.*\/problems\//, '');
    super(dutchMessage(status, slug, problem.detail ?? '', retryAfter));
    this.status = status;
    this.slug = slug;
    this.detail = problem.detail ?? '';
    this.retryAfter = retryAfter;
    const m = /^'([a-z_]+)'/.exec(this.detail);
    this.field = m ? m[1] : null;
  }
}

function dutchMessage(status: number, slug: string, detail: string, retry: number | null): string {
  const wait = formatWait(retry ?? 30);
  switch (slug) {
    case 'login-failed': return t('signin.failed');
    case 'too-many-logins': return t('signin.throttled', { wait });
    case 'database-unavailable': return t('error.database-unavailable', { wait });
    case 'unavailable': return t('error.unavailable');
    case 'forbidden': return t('error.forbidden');
    case 'not-found': return t('error.not-found');
    case 'csrf-token-invalid': return t('error.csrf-token-invalid');
    case 'unauthorized': return t('error.unauthorized');
    case 'rate-limited': return t('error.rate-limited', { wait });
    case 'bad-request':
    case 'bad-filter': {
      const m = /^'([a-z_]+)'/.exec(detail);
      if (m) return t('error.bad-filter.field', { field: fieldLabel(m[1]) });
      return slug === 'bad-filter' ? t('error.bad-filter') : t('error.generic', { status });
    }
    default: return t('error.generic', { status });
  }
}

const fieldKeys: Record<string, MessageKeyLike> = {
  q: 'search.label', area: 'search.area', theme: 'search.theme', kind: 'search.kind',
  collection: 'search.collection', status: 'search.status', from: 'search.from',
  to: 'search.to', has_audio: 'search.has_audio', has_photo: 'search.has_photo',
  sort: 'search.sort',
};
export function fieldLabel(name: string): string {
  const k = fieldKeys[name];
  return k ? t(k) : name;
}

type Listener = () => void;
const expiredListeners = new Set<Listener>();
// fn runs whenever a request finds the session ended.
export function onSessionExpired(fn: Listener): () => void {
  expiredListeners.add(fn);
  return () => expiredListeners.delete(fn);
}

export type Query = Record<string, string | number | boolean | null | undefined>;

function url(path: string, query?: Query): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

interface Options { query?: Query; body?: unknown; quiet401?: boolean }

// Exported for the staff pages' own module (src/staff/staffApi.ts).
export async function request<T>(method: string, path: string, opts: Options = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = localStorage.getItem(CSRF_KEY);
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(url(path, opts.query), { method, headers, body, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, { type: '/problems/network' }, null);
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('Content-Type') ?? '';
  const data: unknown = type.includes('json') ? await res.json().catch(() => null) : null;
  if (res.ok) return data as T;
  const ra = Number(res.headers.get('Retry-After'));
  const err = new ApiError(res.status, (data ?? {}) as Partial<Problem>,
    Number.isFinite(ra) && ra > 0 ? ra : null);
  if (res.status === 0) throw new ApiError(0, { type: '/problems/network' }, null);
  if (res.status === 401 && !opts.quiet401) {
    localStorage.removeItem(CSRF_KEY);
    for (const fn of expiredListeners) fn();
  }
  throw err;
}

// ---- sessions ------------------------------------------------------------

export type Role = 'admin' | 'moderator' | 'analyst' | 'fieldworker';
export interface Session { name: string; role: Role; expires_at?: string }

export async function signIn(name: string, password: string): Promise<Session> {
  const s = await request<Session & { csrf_token: string }>('POST', '/api/v1/session', {
    body: { name, password }, quiet401: true,
  });
  localStorage.setItem(CSRF_KEY, s.csrf_token);
  return { name: s.name, role: s.role };
}

// The current session, or null when there is none (no event fired).
// The cookie is the session; the CSRF token, given out only at login, is
// kept where every tab of this origin finds it.
export async function currentSession(): Promise<Session | null> {
  try {
    return await request<Session>('GET', '/api/v1/session', { quiet401: true });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      localStorage.removeItem(CSRF_KEY);
      return null;
    }
    throw e;
  }
}

export async function signOut(): Promise<void> {
  try {
    await request<void>('DELETE', '/api/v1/session', { quiet401: true });
  } finally {
    localStorage.removeItem(CSRF_KEY);
  }
}

// ---- search and entries ----------------------------------------------------

export type Count = number | string;
export interface Facet { value: string; title?: string; name?: string; count: Count }
export interface SearchItem {
  id: number; kind: 'story' | 'visit'; status: string; title: string | null;
  snippet: string | null; occurred_at: string | null; created_at: string;
  area: { code: string; name: string } | null; wijk: string | null;
  themes: string[]; collection: string | null; has_audio: boolean; has_photo: boolean;
  thumb?: string | null;
}
export interface SearchResult {
  items: SearchItem[]; next_cursor: string | null; sort: string;
  total: Count; approximate: boolean;
  facets?: Record<string, Facet[]>;
}
export interface SearchParams {
  q?: string; area?: string; theme?: string; kind?: string; collection?: string;
  status?: string; from?: string; to?: string; has_audio?: string; has_photo?: string;
  sort?: string; cursor?: string; limit?: number; facets?: boolean;
}

export function search(p: SearchParams): Promise<SearchResult> {
  return request('GET', '/api/v1/entries', { query: p as Query });
}

export interface MediaRef {
  id: number; filename: string | null; declared_type: string | null; size: number;
  status: string; href: string;
}
export interface Entry {
  id: number; kind: 'story' | 'visit'; status: string; title: string | null;
  text: string | null; transcript: string | null;
  occurred_at: string | null; created_at: string;
  area: { code: string; name: string } | null;
  wijk: { code: string; name: string } | string | null;
  themes: string[]; collection: string | null;
  consent: { scope: string; version: string; language: string; given_at?: string; created_at?: string } | null;
  media: MediaRef[]; verbatim?: boolean; allowed?: string[];
  redactions?: { field: string; start: number; end: number }[];
}
export function entry(id: number | string): Promise<Entry> {
  return request('GET', `/api/v1/entries/${encodeURIComponent(String(id))}`);
}

export interface Media {
  id: number; entry_id: number; status: string; family: string | null;
  duration_ms: number | null; width: number | null; height: number | null;
  links: Record<string, string>;
}
export function media(id: number): Promise<Media> {
  return request('GET', `/api/v1/media/${id}`);
}
export const mediaUrl = {
  opus: (id: number) => `/api/v1/media/${id}/audio.opus`,
  m4a: (id: number) => `/api/v1/media/${id}/audio.m4a`,
  peaks: (id: number) => `/api/v1/media/${id}/peaks.json`,
  display: (id: number) => `/api/v1/media/${id}/display.jpg`,
  thumb: (id: number) => `/api/v1/media/${id}/thumb.jpg`,
};
export function peaks(id: number): Promise<unknown> {
  return request('GET', mediaUrl.peaks(id));
}

// ---- reference lists -----------------------------------------------------

export interface Theme { slug: string; title: string }
export function themes(): Promise<Theme[]> { return request('GET', '/api/v1/themes'); }

export interface Collection { slug: string; title: string; entries: Count }
export function collections(): Promise<Collection[]> {
  return request('GET', '/api/v1/collections');
}

export interface Area { code: string; level: string; name: string; parent: string | null }
export function areas(level?: string, parent?: string): Promise<Area[]> {
  return request('GET', '/api/v1/areas', { query: { level, parent } });
}

// The werkbezoek XForm (OpenRosa, docs/odk.md): the same form ODK Collect
// downloads, and the same submission handler, under /api/ where the
// session cookie reaches.
export async function werkbezoekFormulier(): Promise<string> {
  const res = await fetch('/api/v1/odk/forms/werkbezoek.xml', { credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, {}, null);
  return res.text();
}

export interface OpenRosaAnswer { status: number; message: string }

// Sends the instance the form engine prepared (its FormData holds
// xml_submission_file and the attachments by their file names).
export async function werkbezoekVersturen(data: FormData): Promise<OpenRosaAnswer> {
  const headers: Record<string, string> = { 'X-OpenRosa-Version': '1.0' };
  const csrf = sessionStorage.getItem(CSRF_KEY);
  if (csrf) headers['X-CSRF-Token'] = csrf;
  let res: Response;
  try {
    res = await fetch('/api/v1/odk/submission', { method: 'POST', body: data, headers, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, { type: '/problems/network' }, null);
  }
  const text = await res.text();
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const message = doc.getElementsByTagNameNS('http://openrosa.org/http/response', 'message')[0]?.textContent ?? '';
  return { status: res.status, message };
}
