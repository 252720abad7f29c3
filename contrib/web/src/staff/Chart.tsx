// A small SVG chart of one or two series over the same axis (indicator
// figures as a line, story counts as bars), with the same numbers as a
// table beside it for people who do not see the chart. Counts the API
// hides ("<5") are drawn as an empty bar and shown as the API says them.
import { formatCount } from '../shared/i18n';
import { formatValue, st } from './staffI18n';

export interface ChartSeries { label: string; kind: 'line' | 'bar'; values: (number | string | null)[] }

const W = 560, H = 220, PAD = { l: 48, r: 12, t: 12, b: 28 };

function num(v: number | string | null): number | null { return typeof v === 'number' ? v : null; }

export function Chart(props: { title: string; axis: string[]; series: ChartSeries[]; id: string }) {
  const { axis, series } = props;
  const all = series.flatMap((s) => s.values.map(num)).filter((v): v is number => v !== null);
  const max = Math.max(1, ...all);
  const x = (i: number) => PAD.l + (axis.length <= 1 ? (W - PAD.l - PAD.r) / 2 : (i * (W - PAD.l - PAD.r)) / (axis.length - 1));
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  const bw = Math.max(4, (W - PAD.l - PAD.r) / Math.max(1, axis.length) / 2);
  const ticks = [0, max / 2, max];
  return (
    <figure class="vh-chart" aria-labelledby={`${props.id}-cap`}>
      <figcaption id={`${props.id}-cap`} class="utrecht-heading-4">{props.title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={st('chart.alt', { title: props.title })} class="vh-chart__svg">
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(t)} y2={y(t)} class="vh-chart__grid" />
            <text x={PAD.l - 6} y={y(t) + 4} text-anchor="end" class="vh-chart__tick">{formatValue(Math.round(t * 10) / 10)}</text>
          </g>
        ))}
        {axis.map((a, i) => (axis.length <= 12 || i % 2 === 0) && (
          <text key={a} x={x(i)} y={H - 8} text-anchor="middle" class="vh-chart__tick">{a}</text>
        ))}
        {series.map((s, si) => s.kind === 'bar'
          ? s.values.map((v, i) => num(v) !== null && (
            <rect key={`${si}-${i}`} x={x(i) - bw / 2} y={y(num(v)!)} width={bw} height={H - PAD.b - y(num(v)!)} class="vh-chart__bar" />))
          : <polyline key={si} class="vh-chart__line" fill="none"
              points={s.values.map((v, i) => (num(v) === null ? '' : `${x(i)},${y(num(v)!)}`)).filter(Boolean).join(' ')} />)}
        {series.filter((s) => s.kind === 'line').map((s, si) => s.values.map((v, i) => num(v) !== null && (
          <circle key={`p${si}-${i}`} cx={x(i)} cy={y(num(v)!)} r={3.5} class="vh-chart__dot" />)))}
      </svg>
      <details class="vh-chart__table">
        <summary>{st('chart.table', { title: props.title })}</summary>
        <div class="vh-table-scroll" tabIndex={0} role="region" aria-label={st('table.scroll')}>
          <table class="utrecht-table">
            <caption class="utrecht-table__caption">{props.title}</caption>
            <thead class="utrecht-table__header">
              <tr class="utrecht-table__row">
                <th scope="col" class="utrecht-table__header-cell">{st('chart.period')}</th>
                {series.map((s) => <th key={s.label} scope="col" class="utrecht-table__header-cell">{s.label}</th>)}
              </tr>
            </thead>
            <tbody class="utrecht-table__body">
              {axis.map((a, i) => (
                <tr key={a} class="utrecht-table__row">
                  <th scope="row" class="utrecht-table__header-cell">{a}</th>
                  {series.map((s) => {
                    const v = s.values[i];
                    return <td key={s.label} class="utrecht-table__cell utrecht-table__cell--numeric">
                      {v === null || v === undefined ? '–' : typeof v === 'string' ? formatCount(v) : s.kind === 'bar' ? formatCount(v) : formatValue(v)}
                    </td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
