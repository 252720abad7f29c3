// A map of Utrecht's buurten to choose one by tapping it: drawn by
// Leaflet from the boundaries verhaal serves (/api/v1/buurten.geojson),
// with no tile layer, so no request leaves verhaal. Leaflet and the
// boundaries load only when the resident opens the map, which keeps them
// out of the page's first download. The list next to it stays the way
// to choose by keyboard or screen reader: the map is an alternative for
// the eye and the finger, and the choice made on it shows in the list.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { GeoJSON as LGeoJSON, Map as LMap, Path, PathOptions } from 'leaflet';
import { api } from './api';
import { t } from './i18n';

// Colours from Utrecht's tokens, read from the page's own style.
function token(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function BuurtKaart({ selected, onSelect }: {
  selected: string; onSelect: (code: string, name: string) => void;
}) {
  const el = useRef<HTMLDivElement>(null);
  const layer = useRef<LGeoJSON | null>(null);
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading');
  // The latest props, for Leaflet's callbacks made once.
  const sel = useRef(selected);
  sel.current = selected;
  const pick = useRef(onSelect);
  pick.current = onSelect;

  const style = (code: string): PathOptions => {
    const on = code === sel.current;
    return {
      color: token('--utrecht-color-grey-20', '#333'), weight: on ? 3 : 1,
      fillColor: on ? token('--utrecht-color-red-40', '#c00') : token('--utrecht-color-blue-80', '#cde'),
      fillOpacity: on ? 0.7 : 0.45,
    };
  };

  useEffect(() => {
    let live = true;
    let m: LMap | null = null;
    (async () => {
      try {
        const [L, data] = await Promise.all([
          import('leaflet').then((x) => x.default), api.buurtenGeoJSON(),
          import('leaflet/dist/leaflet.css'),
        ]);
        if (!live || !el.current) return;
        m = L.map(el.current, { attributionControl: false, zoomControl: false, keyboard: false, zoomSnap: 0.25 });
        L.control.zoom({ zoomInTitle: t('map.zoomIn'), zoomOutTitle: t('map.zoomOut') }).addTo(m);
        layer.current = L.geoJSON(data as GeoJSON.GeoJsonObject, {
          style: (f) => ({
            ...style((f?.properties as { code: string }).code),
            className: `vh-map-buurt vh-map-buurt--${(f?.properties as { code: string }).code}`,
          }),
          onEachFeature: (f, l) => {
            const p = f.properties as { code: string; name: string };
            l.on('click', () => pick.current(p.code, p.name));
          },
        }).addTo(m);
        // The name on hover as the SVG's own <title>, not a Leaflet
        // tooltip: that listens for focus, which makes Chromium put
        // every buurt, nameless, in the Tab order.
        layer.current.eachLayer((l) => {
          const el = (l as Path).getElement();
          const p = (l as Path & { feature?: GeoJSON.Feature }).feature?.properties as { name: string } | undefined;
          if (!el || !p) return;
          const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
          title.textContent = p.name;
          el.appendChild(title);
        });
        const b = layer.current.getBounds();
        if (b.isValid()) m.fitBounds(b, { padding: [4, 4] });
        setState('ready');
      } catch {
        if (live) setState('failed');
      }
    })();
    return () => { live = false; m?.remove(); layer.current = null; };
  }, []);

  // The chosen buurt stands out, wherever it was chosen.
  useEffect(() => {
    layer.current?.setStyle((f) => style((f?.properties as { code: string }).code));
  }, [selected]);

  return (
    <div class="vh-buurtmap">
      <p class="utrecht-paragraph" id="vh-map-hint">{t('map.hint')}</p>
      {state === 'loading' && <p class="utrecht-paragraph">{t('map.loading')}</p>}
      {state === 'failed' && <p class="utrecht-paragraph vh-error" role="alert">{t('map.failed')}</p>}
      <div ref={el} id="vh-map" class="vh-map" role="group" aria-label={t('map.label')} aria-describedby="vh-map-hint"
        hidden={state === 'failed'} />
    </div>
  );
}
