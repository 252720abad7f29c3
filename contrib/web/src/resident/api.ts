// The one module of the resident page that knows the API's routes. The
// upload key comes from the link the page was opened with and is sent
// only to this origin, as X-Upload-Key; receipt codes go in bodies, so
// that no code is ever part of an address.
import { t, spoken } from './i18n';

export interface Consent { id: number; version: string; language: string; text: string }
export interface Collection { slug: string; title: string; description: string | null; consent: Consent | null }
export interface Settings { max_recording_s: number; retention_days: Record<string, number> }
export interface Buurt { code: string; name: string; wijk?: string | null }
export interface StoryState {
  state: 'received' | 'in_review' | 'accepted' | 'published' | 'not_published';
  redacted: boolean; received_on: string;
  withdrawal_removes: { title: boolean; text: boolean; recordings: number; photos: number; files: number };
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly slug: string, message: string) { super(message); }
}

// The link: /api/v1/collections/{slug}/uploads?key=…
export const link = (() => {
  const m = /^\/api\/v1\/collections\/([^/]+)\/uploads$/.exec(location.pathname);
  return { slug: m ? decodeURIComponent(m[1]) : '', key: new URLSearchParams(location.search).get('key') ?? '' };
})();

export const uploadEndpoint = `/api/v1/collections/${encodeURIComponent(link.slug)}/uploads`;

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  let r: Response;
  try {
    r = await fetch(path, { ...init, credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', t('error.unavailable'));
  }
  if (r.ok) return r.json() as Promise<T>;
  const p = await r.json().catch(() => ({})) as { type?: string };
  const slug = (p.type ?? '').replace(/^.*\/problems\//, '');
  const wait = Number(r.headers.get('Retry-After') ?? '60');
  const msg = slug === 'unknown-receipt' ? t('code.unknown')
    : slug === 'rate-limited' ? t('code.wait', { wait: spoken(Math.max(1, wait)) })
    : r.status === 503 ? t('error.unavailable') : t('error.generic');
  throw new ApiError(r.status, slug, msg);
}

const json = (body: unknown): RequestInit => ({
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
});

export const api = {
  collection: (language: string) => call<Collection>(
    `/api/v1/collections/${encodeURIComponent(link.slug)}?language=${encodeURIComponent(language)}`),
  settings: () => call<Settings>('/api/v1/resident/settings'),
  buurten: () => call<Buurt[]>('/api/v1/buurten'),
  // The buurten's boundaries, for the map (BuurtKaart).
  buurtenGeoJSON: () => call<GeoJSON.FeatureCollection>('/api/v1/buurten.geojson'),
  buurtAt: (lat: number, lon: number) => call<Buurt>(`/api/v1/buurten?lat=${lat.toFixed(6)}&lon=${lon.toFixed(6)}`),
  storyState: (receipt: string) => call<StoryState>('/api/v1/receipt', json({ receipt })),
  withdraw: (receipt: string) => call<{ withdrawn: boolean }>('/api/v1/withdraw', json({ receipt })),
  // The receipt again, for this device only, when the answer that
  // carried it was lost.
  receiptAgain: (uploadUrl: string, device: string) => call<{ receipt: string; entry: number }>(
    `${new URL(uploadUrl, location.href).pathname}/receipt`, { headers: { 'Upload-Device': device } }),
};
