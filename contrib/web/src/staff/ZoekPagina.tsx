// Zoeken in verhalen en werkbezoeken: one search box, filters with facet
// counts, results with highlighted snippets, "meer laden" with the keyset
// cursor. The query and filters live in the URL (/zoeken?q=…&area=…), so
// the back button and a shared link give the same search.
import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../shared/api';
import { formatCount, formatDate, t, type MessageKey } from '../shared/i18n';
import { areas as loadAreas, collections as loadCollections, themes as loadThemes, tree, type WijkTree } from '../shared/lists';
import { Snippet } from '../shared/snippet';
import { Link } from './Link';
import { navigate, useLocation } from './router';
import type { PageProps } from './routes';

// The URL's parameters, in the API's names.
const KEYS = ['q', 'area', 'theme', 'kind', 'collection', 'status', 'from', 'to', 'has_audio', 'has_photo', 'sort'] as const;
type Key = typeof KEYS[number];
type Params = Partial<Record<Key, string>>;

const STATUSES = ['received', 'processing', 'pending_review', 'approved', 'published', 'rejected', 'withdrawn'];

function fromQuery(q: URLSearchParams): Params {
  const p: Params = {};
  for (const k of KEYS) { const v = q.get(k); if (v) p[k] = v; }
  return p;
}

export function searchUrl(p: Params): string {
  const q = new URLSearchParams();
  for (const k of KEYS) if (p[k]) q.set(k, p[k]!);
  const s = q.toString();
  return s ? `/zoeken?${s}` : '/zoeken';
}

function countOf(facets: api.Facet[] | undefined, value: string): string {
  const f = facets?.find((x) => x.value === value);
  return f ? ` (${formatCount(f.count)})` : '';
}

export function ZoekPagina({ session }: PageProps) {
  const loc = useLocation();
  const params = fromQuery(loc.query);
  const key = searchUrl(params);
  const moderator = session.role === 'moderator' || session.role === 'admin';

  const [draft, setDraft] = useState<Params>(params);
  const [result, setResult] = useState<api.SearchResult | null>(null);
  const [items, setItems] = useState<api.SearchItem[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<api.ApiError | null>(null);
  const [more, setMore] = useState(false);
  const [open, setOpen] = useState(() => window.matchMedia('(min-width: 48em)').matches);
  const [wijken, setWijken] = useState<WijkTree[]>([]);
  const [themeList, setThemeList] = useState<api.Theme[]>([]);
  const [collectionList, setCollectionList] = useState<api.Collection[]>([]);
  const firstNew = useRef<number | null>(null);
  const errorRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    loadAreas().then((a) => setWijken(tree(a)), () => undefined);
    loadThemes().then(setThemeList, () => undefined);
    loadCollections().then(setCollectionList, () => undefined);
  }, []);

  // Each new URL is a new search from the first page.
  useEffect(() => {
    setDraft(params);
    let live = true;
    setBusy(true);
    setError(null);
    api.search({ ...params, limit: 20 }).then((r) => {
      if (!live) return;
      setResult(r);
      setItems(r.items);
    }, (e) => {
      if (!live) return;
      setResult(null);
      setItems([]);
      setError(e instanceof api.ApiError ? e : null);
    }).finally(() => { if (live) setBusy(false); });
    return () => { live = false; };
  }, [key]);

  useEffect(() => { if (error) errorRef.current?.focus(); }, [error]);

  // The results of this search are on the screen (effects run after the
  // frame is drawn): the mark the search benchmark measures to
  // (tests/bench/websearch.sh).
  useEffect(() => {
    if (result && !busy) performance.mark('vh:search-rendered', { detail: params.q ?? '' });
  }, [result, busy]);

  useEffect(() => {
    if (firstNew.current === null) return;
    document.getElementById(`resultaat-${firstNew.current}`)?.focus();
    firstNew.current = null;
  }, [items]);

  const apply = (p: Params) => navigate(searchUrl(p));
  const set = (k: Key, v: string) => setDraft((d) => ({ ...d, [k]: v || undefined }));
  // Selects and boxes apply at once; text fields on Enter or the button.
  const setNow = (k: Key, v: string) => { const p = { ...draft, [k]: v || undefined }; setDraft(p); apply(p); };

  const loadMore = async () => {
    if (!result?.next_cursor) return;
    setMore(true);
    try {
      const r = await api.search({ ...params, cursor: result.next_cursor, limit: 20, facets: false });
      firstNew.current = r.items[0]?.id ?? null;
      setResult({ ...result, next_cursor: r.next_cursor });
      setItems((old) => [...old, ...r.items]);
    } catch (e) {
      setError(e instanceof api.ApiError ? e : null);
    } finally {
      setMore(false);
    }
  };

  const facets = result?.facets;
  const themeTitle = (slug: string) => themeList.find((x) => x.slug === slug)?.title ?? slug;
  const wijkName = (code: string | null) => wijken.find((w) => w.wijk.code === code)?.wijk.name ?? code ?? '';
  const fieldError = (k: Key) => (error?.field === k ? error.message : null);
  const invalid = (k: Key) => (error?.field === k ? { 'aria-invalid': 'true' as const, 'aria-describedby': `fout-${k}` } : {});
  const FieldError = ({ k }: { k: Key }) => fieldError(k) ? (
    <p id={`fout-${k}`} class="utrecht-form-field-error-message">{fieldError(k)}</p>
  ) : null;

  return (
    <div class="vh-search">
      <h1 class="utrecht-heading-1">{t('search.title')}</h1>
      <form role="search" class="vh-search__form" onSubmit={(e) => { e.preventDefault(); apply(draft); }}>
        <div class="vh-search__box">
          <div class="utrecht-form-field utrecht-form-field--text vh-search__q">
            <div class="utrecht-form-field__label">
              <label class="utrecht-form-label" for="zoek-q">{t('search.label')}</label>
            </div>
            <p class="utrecht-form-field-description" id="zoek-q-hint">{t('search.hint')}</p>
            <div class="utrecht-form-field__input vh-search__row">
              <input id="zoek-q" type="search" class="utrecht-textbox utrecht-textbox--html-input" value={draft.q ?? ''}
                aria-describedby={`zoek-q-hint${error?.field === 'q' ? ' fout-q' : ''}`}
                aria-invalid={error?.field === 'q' ? 'true' : undefined}
                onInput={(e) => set('q', e.currentTarget.value)} />
              <button type="submit" class="utrecht-button utrecht-button--primary-action">{t('search.submit')}</button>
            </div>
            <FieldError k="q" />
          </div>
        </div>

        <div class="vh-search__layout">
          <div class="vh-search__filters">
            <button type="button" class="utrecht-button utrecht-button--secondary-action vh-search__toggle"
              aria-expanded={open ? 'true' : 'false'} aria-controls="zoek-filters" onClick={() => setOpen(!open)}>
              {open ? t('search.filters.hide') : t('search.filters.show')}
            </button>
            <div id="zoek-filters" hidden={!open}>
              <h2 class="utrecht-heading-2 vh-visually-hidden">{t('search.filters')}</h2>
              <div class="utrecht-form-field">
                <div class="utrecht-form-field__label">
                  <label class="utrecht-form-label" for="zoek-area">{t('search.area')}</label>
                </div>
                <select id="zoek-area" class="utrecht-select utrecht-select--html-select" value={draft.area ?? ''}
                  {...invalid('area')} onChange={(e) => setNow('area', e.currentTarget.value)}>
                  <option value="">{t('search.area.all')}</option>
                  {wijken.map((w) => (
                    <optgroup key={w.wijk.code} label={w.wijk.name}>
                      <option value={w.wijk.code}>{`${w.wijk.name} (hele wijk)${countOf(facets?.wijk, w.wijk.code)}`}</option>
                      {w.buurten.map((b) => <option key={b.code} value={b.code}>{`\u00a0\u00a0${b.name}`}</option>)}
                    </optgroup>
                  ))}
                </select>
                <FieldError k="area" />
              </div>

              <div class="utrecht-form-field">
                <div class="utrecht-form-field__label">
                  <label class="utrecht-form-label" for="zoek-theme">{t('search.theme')}</label>
                </div>
                <select id="zoek-theme" class="utrecht-select utrecht-select--html-select" value={draft.theme ?? ''}
                  {...invalid('theme')} onChange={(e) => setNow('theme', e.currentTarget.value)}>
                  <option value="">{t('search.any')}</option>
                  {themeList.map((th) => <option key={th.slug} value={th.slug}>{`${th.title}${countOf(facets?.theme, th.slug)}`}</option>)}
                </select>
                <FieldError k="theme" />
              </div>

              <fieldset class="utrecht-form-fieldset vh-fieldset">
                <legend class="utrecht-form-fieldset__legend utrecht-form-label">{t('search.kind')}</legend>
                {[['', 'search.any'], ['story', 'search.kind.story'], ['visit', 'search.kind.visit']].map(([v, label]) => (
                  <div class="utrecht-form-field utrecht-form-field--radio vh-choice" key={v}>
                    <input type="radio" class="utrecht-radio-button utrecht-radio-button--html-input" id={`zoek-kind-${v || 'alle'}`}
                      name="kind" value={v} checked={(draft.kind ?? '') === v} onChange={() => setNow('kind', v)} />
                    <label class="utrecht-form-label utrecht-form-label--radio" for={`zoek-kind-${v || 'alle'}`}>
                      {t(label as MessageKey)}{v ? countOf(facets?.kind, v) : ''}
                    </label>
                  </div>
                ))}
              </fieldset>

              <div class="utrecht-form-field">
                <div class="utrecht-form-field__label">
                  <label class="utrecht-form-label" for="zoek-collection">{t('search.collection')}</label>
                </div>
                <select id="zoek-collection" class="utrecht-select utrecht-select--html-select" value={draft.collection ?? ''}
                  {...invalid('collection')} onChange={(e) => setNow('collection', e.currentTarget.value)}>
                  <option value="">{t('search.any')}</option>
                  {collectionList.map((c) => <option key={c.slug} value={c.slug}>{c.title}</option>)}
                </select>
                <FieldError k="collection" />
              </div>

              <fieldset class="utrecht-form-fieldset vh-fieldset">
                <legend class="utrecht-form-fieldset__legend utrecht-form-label">{t('search.period')}</legend>
                <p class="utrecht-form-field-description" id="zoek-period-hint">{t('search.period.hint')}</p>
                {(['from', 'to'] as const).map((k) => (
                  <div class="utrecht-form-field utrecht-form-field--text" key={k}>
                    <div class="utrecht-form-field__label">
                      <label class="utrecht-form-label" for={`zoek-${k}`}>{t(k === 'from' ? 'search.from' : 'search.to')}</label>
                    </div>
                    <input id={`zoek-${k}`} class="utrecht-textbox utrecht-textbox--html-input vh-short" inputMode="numeric"
                      value={draft[k] ?? ''} onInput={(e) => set(k, e.currentTarget.value)}
                      aria-invalid={error?.field === k ? 'true' : undefined}
                      aria-describedby={`zoek-period-hint${error?.field === k ? ` fout-${k}` : ''}`} />
                    <FieldError k={k} />
                  </div>
                ))}
              </fieldset>

              <fieldset class="utrecht-form-fieldset vh-fieldset">
                <legend class="utrecht-form-fieldset__legend utrecht-form-label">{t('search.media')}</legend>
                {(['has_audio', 'has_photo'] as const).map((k) => (
                  <div class="utrecht-form-field utrecht-form-field--checkbox vh-choice" key={k}>
                    <input type="checkbox" class="utrecht-checkbox utrecht-checkbox--html-input" id={`zoek-${k}`}
                      checked={draft[k] === 'true'} onChange={(e) => setNow(k, e.currentTarget.checked ? 'true' : '')} />
                    <label class="utrecht-form-label utrecht-form-label--checkbox" for={`zoek-${k}`}>{t(`search.${k}`)}</label>
                  </div>
                ))}
              </fieldset>

              {moderator && (
                <div class="utrecht-form-field">
                  <div class="utrecht-form-field__label">
                    <label class="utrecht-form-label" for="zoek-status">{t('search.status')}</label>
                  </div>
                  <select id="zoek-status" class="utrecht-select utrecht-select--html-select" value={draft.status ?? ''}
                    {...invalid('status')} onChange={(e) => setNow('status', e.currentTarget.value)}>
                    <option value="">{t('search.any')}</option>
                    {STATUSES.map((s) => <option key={s} value={s}>{t(`status.${s}` as MessageKey)}</option>)}
                  </select>
                  <FieldError k="status" />
                </div>
              )}

              <div class="vh-search__actions">
                <button type="submit" class="utrecht-button utrecht-button--secondary-action">{t('search.apply')}</button>
                <button type="button" class="utrecht-button utrecht-button--subtle" onClick={() => apply(draft.q ? { q: draft.q } : {})}>
                  {t('search.filters.clear')}
                </button>
              </div>
            </div>
          </div>

          <section class="vh-search__results" aria-labelledby="zoek-resultaten" aria-busy={busy ? 'true' : 'false'}>
            <div class="vh-search__head">
              <h2 id="zoek-resultaten" class="utrecht-heading-2">{t('search.results')}</h2>
              <div class="vh-search__sort">
                <label class="utrecht-form-label" for="zoek-sort">{t('search.sort')}</label>
                <select id="zoek-sort" class="utrecht-select utrecht-select--html-select" value={draft.sort ?? (draft.q ? 'relevance' : 'recent')}
                  onChange={(e) => setNow('sort', e.currentTarget.value)}>
                  <option value="relevance">{t('search.sort.relevance')}</option>
                  <option value="recent">{t('search.sort.recent')}</option>
                </select>
              </div>
            </div>
            {error && (
              <div class="utrecht-alert utrecht-alert--error vh-alert" role="alert" tabIndex={-1} ref={errorRef}>
                <p class="utrecht-paragraph">{error.message}</p>
              </div>
            )}
            <p class="utrecht-paragraph vh-search__total" role="status">
              {busy ? t('search.busy') : result ? totalText(result) : ''}
            </p>
            {result && !busy && items.length === 0 && <p class="utrecht-paragraph">{t('search.none')}</p>}
            <ol class="vh-results">
              {items.map((it) => (
                <li key={it.id} class="vh-result">
                  <article aria-labelledby={`resultaat-titel-${it.id}`}>
                    <h3 class="utrecht-heading-3 vh-result__title" id={`resultaat-titel-${it.id}`}>
                      <Link id={`resultaat-${it.id}`} href={`/${it.kind === 'visit' ? 'werkbezoeken' : 'verhalen'}/${it.id}`}>
                        {it.title || t('search.untitled')}
                      </Link>
                    </h3>
                    <p class="utrecht-paragraph vh-result__meta">
                      <span>{t(it.kind === 'visit' ? 'search.kind.visit' : 'search.kind.story')}</span>
                      {it.area && <span>{it.area.name}</span>}
                      {it.wijk && it.area?.code !== it.wijk && <span>{wijkName(it.wijk)}</span>}
                      <span>{formatDate(it.occurred_at ?? it.created_at)}</span>
                      {moderator && <span>{t(`status.${it.status}` as MessageKey)}</span>}
                    </p>
                    {it.snippet ? (
                      <p class="utrecht-paragraph vh-result__snippet"><Snippet html={it.snippet} /></p>
                    ) : it.snippet === null && (
                      <p class="utrecht-paragraph vh-result__snippet vh-muted">{t('search.notext')}</p>
                    )}
                    <div class="vh-result__media">
                      {it.thumb && <img class="vh-result__thumb" src={it.thumb} width={96} height={96} loading="lazy"
                        alt={t('search.thumb', { title: it.title || t('search.untitled') })} />}
                      <ul class="vh-badges">
                        {it.has_audio && <li class="utrecht-badge-status vh-badge vh-badge--audio">{t('search.audio')}</li>}
                        {it.has_photo && <li class="utrecht-badge-status vh-badge">{t('search.photo')}</li>}
                        {it.themes.map((th) => <li key={th} class="utrecht-badge-status vh-badge vh-badge--theme">{themeTitle(th)}</li>)}
                      </ul>
                    </div>
                  </article>
                </li>
              ))}
            </ol>
            {result?.next_cursor && (
              <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={loadMore}
                aria-disabled={more ? 'true' : undefined} disabled={more}>
                {more ? t('search.busy') : t('search.more')}
              </button>
            )}
          </section>
        </div>
      </form>
    </div>
  );
}

function totalText(r: api.SearchResult): string {
  if (typeof r.total === 'string') return t('search.total.small', { k: r.total.replace(/^</, '') });
  if (r.approximate) return t('search.total.approx', { n: r.total });
  return r.total === 1 ? t('search.total.one') : t('search.total', { n: r.total });
}
