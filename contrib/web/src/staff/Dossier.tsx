// Buurt- en wijkdossier: the map of Utrecht's buurten coloured by the
// number of stories or a chosen indicator, and for the area chosen (on
// the map or in the list) its dossier: each indicator series as a chart
// beside the stories per year and theme, the comparison of figures with
// stories in one Dutch sentence each, and the latest stories. Counts the
// API protects ("<5") are shown as it gives them.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, areas, type Area } from '../shared/api';
import { formatCount, formatDate } from '../shared/i18n';
import { Chart } from './Chart';
import { Link } from './Link';
import { navigate } from './router';
import type { PageProps } from './routes';
import { buurtenGeoJSON, dossier, indicators, type BuurtenCollection, type Divergence, type Dossier as DossierData, type IndicatorInfo, type Series } from './staffApi';
import { formatChange, formatValue, st } from './staffI18n';
import { lazy } from './lazy';
import './staff.css';

const KaartLazy = lazy(() => import('./Kaart').then((m) => m.Kaart));
const STORIES = 'entries';

function countValue(c: unknown): number | null {
  if (typeof c === 'number') return c;
  if (typeof c === 'string' && /^<\d+$/.test(c)) return 0;	// shown as the lowest class
  return null;
}

export function Dossier(props: PageProps) {
  const code = props.params.code ?? null;
  const [geo, setGeo] = useState<BuurtenCollection | null>(null);
  const [list, setList] = useState<Area[]>([]);
  const [inds, setInds] = useState<IndicatorInfo[]>([]);
  const [colour, setColour] = useState<string>(STORIES);
  const [data, setData] = useState<DossierData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [mapError, setMapError] = useState<string | null>(null);

  useEffect(() => {
    buurtenGeoJSON().then(setGeo, (e: ApiError) => setMapError(e.message));
    Promise.all([areas('wijk'), areas('buurt')]).then(([w, b]) => setList([...w, ...b]), () => undefined);
    indicators().then(setInds, () => undefined);
  }, []);
  useEffect(() => {
    setData(null);
    setError(null);
    if (code) dossier(code).then(setData, (e: ApiError) => setError(e.message));
  }, [code]);

  // Indicators the map can colour by: those with a value in some buurt.
  const mapInds = useMemo(() => inds.filter((i) => geo?.features.some((f) => typeof f.properties[i.key] === 'number')), [inds, geo]);
  const value = useMemo(() => {
    const by = new Map(geo?.features.map((f) => [f.properties.code, f.properties]) ?? []);
    return (c: string) => {
      const p = by.get(c);
      if (!p) return null;
      return colour === STORIES ? countValue(p.entries) : (typeof p[colour] === 'number' ? p[colour] as number : null);
    };
  }, [geo, colour]);

  const wijken = list.filter((a) => a.level === 'wijk');
  const colourTitle = colour === STORIES ? st('dossier.colour.stories') : inds.find((i) => i.key === colour)?.title ?? colour;

  return (
    <section class="vh-dossier" aria-labelledby="dossier-title">
      <h1 id="dossier-title" class="utrecht-heading-1">{data ? st('dossier.title.area', { name: data.area.name }) : st('dossier.title')}</h1>
      <div class="vh-dossier__controls">
        <div class="utrecht-form-field">
          <label class="utrecht-form-label" for="dossier-area">{st('dossier.area')}</label>
          <select id="dossier-area" class="utrecht-select utrecht-select--html-select" value={code ?? ''}
            onChange={(e) => { const v = (e.target as HTMLSelectElement).value; if (v) navigate(`/dossier/${v}`); }}>
            <option value="">{st('dossier.area.choose')}</option>
            {wijken.map((w) => (
              <optgroup key={w.code} label={w.name}>
                <option value={w.code}>{st('dossier.area.wijk', { name: w.name })}</option>
                {list.filter((b) => b.parent === w.code).map((b) => <option key={b.code} value={b.code}>{b.name}</option>)}
              </optgroup>
            ))}
          </select>
        </div>
        <div class="utrecht-form-field">
          <label class="utrecht-form-label" for="dossier-colour">{st('dossier.colour')}</label>
          <select id="dossier-colour" class="utrecht-select utrecht-select--html-select" value={colour}
            onChange={(e) => setColour((e.target as HTMLSelectElement).value)}>
            <option value={STORIES}>{st('dossier.colour.stories')}</option>
            {mapInds.map((i) => <option key={i.key} value={i.key}>{i.title}</option>)}
          </select>
        </div>
      </div>
      {mapError && <p class="utrecht-paragraph vh-error" role="alert">{mapError}</p>}
      {geo && (
        <KaartLazy data={geo} value={value} selected={code} label={st('map.label', { what: colourTitle })}
          onSelect={(c: string) => navigate(`/dossier/${c}`)} />
      )}
      {error && <p class="utrecht-paragraph vh-error" role="alert">{error}</p>}
      {code && !data && !error && <p class="utrecht-paragraph vh-loading">{st('loading')}</p>}
      {data && <DossierView d={data} />}
    </section>
  );
}

function yearValues(axis: string[], values: { period: string; value: number | null }[]): (number | null)[] {
  return axis.map((y) => values.find((v) => v.period === y)?.value ?? null);
}

function DossierView({ d }: { d: DossierData }) {
  const div: Divergence[] = Array.isArray(d.divergence) ? d.divergence : d.divergence?.items ?? [];
  const shown = d.indicators.filter((s) => yearValues(d.axis, s.values).some((v) => v !== null));
  // First the figures the comparison uses and the residents, then the rest on request.
  const used = new Set(div.map((x) => x.indicator).filter(Boolean) as string[]);
  const lead = (k: string) => used.has(k) || /GeregistreerdeMisdrijven_1\/0\.0\.0$|a_inw$|population$/.test(k);
  const first = [...shown.filter((s) => lead(s.key)), ...shown.filter((s) => !lead(s.key))].slice(0, Math.max(4, shown.filter((s) => lead(s.key)).length));
  const rest = shown.filter((s) => !first.includes(s));
  const [more, setMore] = useState(false);
  return (
    <div class="vh-dossier__body">
      <p class="utrecht-paragraph">{st('dossier.period', { from: String(d.from), to: String(d.to), k: d.k })}</p>
      <div class="vh-dossier__grid">
        <section aria-labelledby="dossier-figures">
          <h2 id="dossier-figures" class="utrecht-heading-2">{st('dossier.figures')}</h2>
          {shown.length === 0 && <p class="utrecht-paragraph">{st('dossier.nofigures')}</p>}
          {first.map((s, i) => <SeriesChart key={s.key} s={s} i={i} axis={d.axis} />)}
          {rest.length > 0 && (
            <details class="vh-more-figures" onToggle={(e) => setMore((e.target as HTMLDetailsElement).open)}>
              <summary>{st('dossier.more', { n: rest.length })}</summary>
              {more && rest.map((s, i) => <SeriesChart key={s.key} s={s} i={first.length + i} axis={d.axis} />)}
            </details>
          )}
        </section>
        <section aria-labelledby="dossier-stories">
          <h2 id="dossier-stories" class="utrecht-heading-2">{st('dossier.stories')}</h2>
          <Chart id="stories" title={st('dossier.stories.total')} axis={d.axis}
            series={[{ label: st('dossier.stories.count'), kind: 'bar', values: d.stories.total }]} />
          <div class="vh-table-scroll" tabIndex={0} role="region" aria-label={st('table.scroll')}>
            <table class="utrecht-table">
              <caption class="utrecht-table__caption">{st('dossier.stories.themes')}</caption>
              <thead class="utrecht-table__header"><tr class="utrecht-table__row">
                <th scope="col" class="utrecht-table__header-cell">{st('dossier.theme')}</th>
                {d.axis.map((y) => <th key={y} scope="col" class="utrecht-table__header-cell">{y}</th>)}
              </tr></thead>
              <tbody class="utrecht-table__body">
                {d.stories.themes.map((t) => (
                  <tr key={t.theme} class="utrecht-table__row">
                    <th scope="row" class="utrecht-table__header-cell">{t.title}</th>
                    {t.counts.map((c, i) => <td key={i} class="utrecht-table__cell utrecht-table__cell--numeric">{formatCount(c)}</td>)}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </div>
      <section aria-labelledby="dossier-compare">
        <h2 id="dossier-compare" class="utrecht-heading-2">{st('dossier.compare')}</h2>
        <ul class="vh-compare">
          {div.map((x) => (
            <li key={x.theme} class={x.diverging ? 'vh-compare__item vh-compare__item--diverging' : 'vh-compare__item'}>
              <strong>{x.title}</strong>{x.diverging && <span class="vh-badge">{st('dossier.diverging')}</span>}
              <p class="utrecht-paragraph">{sentence(x, d)}</p>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="dossier-latest">
        <h2 id="dossier-latest" class="utrecht-heading-2">{st('dossier.latest')}</h2>
        {d.latest.length === 0 ? <p class="utrecht-paragraph">{st('dossier.nolatest')}</p> : (
          <ul class="vh-latest">
            {d.latest.map((e) => (
              <li key={e.id}>
                <Link href={`/${e.kind === 'visit' ? 'werkbezoeken' : 'verhalen'}/${e.id}`}>{e.title || st('dossier.untitled')}</Link>
                {' '}<span class="vh-muted">{formatDate(e.occurred_at ?? e.created_at)}{e.area ? ` · ${e.area.name}` : ''}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function SeriesChart({ s, i, axis }: { s: Series; i: number; axis: string[] }) {
  return <Chart id={`ind-${i}`} title={`${s.title}${s.unit ? ` (${s.unit})` : ''}`} axis={axis}
    series={[{ label: s.title, kind: 'line', values: yearValues(axis, s.values) }]} />;
}

// The comparison of figures with stories in one Dutch sentence.
export function sentence(x: Divergence, d: DossierData): string {
  const ind = x.indicator_title ?? st('dossier.figure');
  const ic = x.indicator_change, sc = x.stories_change;
  if (/too few/.test(x.note)) return st('compare.toofew', { k: d.k });
  if (x.mode === 'figure' || ic === null || ic === undefined || sc === null || sc === undefined)
    return st('compare.nothing');
  const a = formatChange(Math.abs(ic)), b = formatChange(Math.abs(sc));
  const key = x.mode === 'level'
    ? (x.diverging ? 'compare.level.diverging' : 'compare.level.same')
    : (x.diverging ? 'compare.trend.diverging' : 'compare.trend.same');
  return st(key, {
    indicator: ind, theme: x.title.toLowerCase(), a, b, from: String(x.from ?? d.from), to: String(x.to ?? d.to),
    dir: ic < 0 ? st('compare.down') : st('compare.up'),
    sdir: sc < 0 ? st('compare.down') : st('compare.up'),
    lvl: ic < 0 ? st('compare.lower') : st('compare.higher'),
    often: sc < 0 ? st('compare.lessoften') : st('compare.moreoften'),
    parent: x.compared_with ?? '', value: formatValue(ic),
  });
}
