// The map of Utrecht's buurten, drawn by Leaflet from the GeoJSON verhaal
// serves, with no tile layer (no request leaves verhaal). Each buurt is
// coloured by the chosen value in five classes; the legend says which.
// Leaflet itself is loaded when the map is first shown. The map is for
// the eye: the select next to it opens the same dossiers by keyboard.
import { useEffect, useRef } from 'preact/hooks';
import type { BuurtenCollection } from './staffApi';
import { formatValue, st } from './staffI18n';

// Light to dark: five steps of one hue, readable in greyscale too.
export const CLASSES = ['#eef4fb', '#bcd3ee', '#7ea9dc', '#3f78c2', '#1b4a8a'];

export function classify(values: (number | null)[]): number[] {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return [];
  // Equal breaks (many zeros) collapse into one: no "0 tot 0" classes.
  return [...new Set([1, 2, 3, 4].map((q) => v[Math.min(v.length - 1, Math.floor((q * v.length) / 5))]))];
}
export function classOf(x: number | null, breaks: number[]): number {
  if (x === null) return -1;
  let c = 0;
  while (c < breaks.length && x > breaks[c]) c++;
  return c;
}

// The colour of a value: its class, spread over the five steps.
function colourOf(x: number | null, breaks: number[]): string | null {
  const c = classOf(x, breaks);
  return c < 0 ? null : CLASSES[Math.round((c * (CLASSES.length - 1)) / Math.max(1, breaks.length))];
}

export function Kaart(props: {
  data: BuurtenCollection; value: (code: string) => number | null; selected: string | null;
  onSelect: (code: string) => void; label: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const map = useRef<{ remove: () => void } | null>(null);
  const { data, value, selected } = props;
  const breaks = classify(data.features.map((f) => value(f.properties.code)));

  useEffect(() => {
    let live = true;
    (async () => {
      const L = (await import('leaflet')).default;
      await import('leaflet/dist/leaflet.css');
      if (!live || !el.current) return;
      map.current?.remove();
      const m = L.map(el.current, { attributionControl: false, zoomSnap: 0.25, keyboard: false });
      const layer = L.geoJSON(data as unknown as GeoJSON.GeoJsonObject, {
        style: (f) => {
          const code = (f?.properties as { code: string }).code;
          const c = colourOf(value(code), breaks);
          return {
            color: code === selected ? '#000' : '#555', weight: code === selected ? 3 : 0.6,
            fillColor: c ?? '#ffffff', fillOpacity: c === null ? 0.4 : 0.85,
          };
        },
        onEachFeature: (f, l) => {
          const p = f.properties as { code: string; name: string };
          l.bindTooltip(`${p.name}: ${formatValue(value(p.code))}`, { sticky: true });
          l.on('click', () => props.onSelect(p.code));
        },
      }).addTo(m);
      const b = layer.getBounds();
      if (b.isValid()) m.fitBounds(b, { padding: [8, 8] });
      map.current = m;
    })();
    return () => { live = false; };
  }, [data, selected, value]);
  useEffect(() => () => map.current?.remove(), []);

  return (
    <div class="vh-map-wrap">
      <div ref={el} class="vh-map" role="group" aria-label={props.label} />
      <ul class="vh-legend" aria-label={st('map.legend')}>
        {[...breaks, null].map((b, i) => {
          const c = CLASSES[Math.round((i * (CLASSES.length - 1)) / Math.max(1, breaks.length))];
          return (
            <li key={i}><span class="vh-legend__swatch" style={{ background: c }} aria-hidden="true" />
              {i === 0 ? st('map.upto', { v: formatValue(breaks[0] ?? 0) })
                : b === null ? st('map.above', { v: formatValue(breaks[i - 1]) })
                : st('map.between', { a: formatValue(breaks[i - 1]), b: formatValue(b) })}
            </li>
          );
        })}
        <li><span class="vh-legend__swatch vh-legend__swatch--none" aria-hidden="true" />{st('map.none')}</li>
      </ul>
    </div>
  );
}
