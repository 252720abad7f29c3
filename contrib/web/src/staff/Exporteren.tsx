// Exporteren: the current search (its filters come in the URL from the
// search page) as CSV or GeoJSON, with a line saying what small-number
// suppression did to the counts.
import { useEffect, useState } from 'preact/hooks';
import { search, type SearchParams, type SearchResult } from '../shared/api';
import { formatCount } from '../shared/i18n';
import { Link } from './Link';
import { useLocation } from './router';
import type { PageProps } from './routes';
import { exportUrl } from './staffApi';
import { problem } from './staffErrors';
import './staff.css';
import { st } from './staffI18n';

const FILTERS = ['q', 'area', 'theme', 'kind', 'collection', 'status', 'from', 'to', 'has_audio', 'has_photo'] as const;

export function Exporteren(_props: PageProps) {
  const loc = useLocation();
  const p: SearchParams = {};
  for (const f of FILTERS) { const v = loc.query.get(f); if (v) (p as Record<string, string>)[f] = v; }
  const [res, setRes] = useState<SearchResult | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [semicolon, setSemicolon] = useState(true);
  useEffect(() => { search({ ...p, limit: 1 }).then(setRes, (e) => setErr(problem(e))); }, [loc.query.toString()]);

  const hidden = res ? Object.values(res.facets ?? {}).flat().filter((f) => typeof f.count === 'string').length : 0;
  const k = res ? Object.values(res.facets ?? {}).flat().map((f) => f.count).find((c) => typeof c === 'string') : undefined;
  const active = FILTERS.filter((f) => p[f]);
  return (
    <section aria-labelledby="exp-title">
      <h1 id="exp-title" class="utrecht-heading-1">{st('exp.title')}</h1>
      <p class="utrecht-paragraph">
        {active.length === 0 ? st('exp.all') : st('exp.filters', { list: active.map((f) => `${st(`filter.${f}` as never)}: ${p[f]}`).join(', ') })}{' '}
        <Link href={`/zoeken${loc.query.toString() ? `?${loc.query}` : ''}`}>{st('exp.change')}</Link>
      </p>
      {err && <p class="utrecht-paragraph vh-error" role="alert">{err}</p>}
      {res && (
        <>
          <p class="utrecht-paragraph" data-testid="export-total">{st('exp.total', { n: formatCount(res.total) })}</p>
          <p class="utrecht-paragraph" data-testid="export-suppression">
            {typeof res.total === 'string' ? st('exp.supp.total', { k: res.total.replace('<', '') })
              : hidden > 0 ? st('exp.supp.some', { n: hidden, k: String(k).replace('<', '') })
              : st('exp.supp.none')}
          </p>
        </>
      )}
      <div class="utrecht-form-field utrecht-form-field--checkbox">
        <input type="checkbox" id="exp-semi" class="utrecht-checkbox utrecht-checkbox--html-input" checked={semicolon}
          onChange={(e) => setSemicolon((e.target as HTMLInputElement).checked)} />
        <label class="utrecht-form-label utrecht-form-label--checkbox" for="exp-semi">{st('exp.semicolon')}</label>
      </div>
      <ul class="vh-exports">
        <li><a class="utrecht-button-link utrecht-button-link--html-a utrecht-button-link--primary-action" href={exportUrl.csv(p, semicolon)} download>{st('exp.csv')}</a>
          <p class="utrecht-paragraph vh-muted">{st('exp.csv.what')}</p></li>
        <li><a class="utrecht-button-link utrecht-button-link--html-a utrecht-button-link--secondary-action" href={exportUrl.geojson(p)} download="buurten.geojson">{st('exp.geojson')}</a>
          <p class="utrecht-paragraph vh-muted">{st('exp.geojson.what')}</p></li>
      </ul>
    </section>
  );
}
