// Meer vertellen (optional): a text, up to three photos, and the buurt,
// from a list, from a map (BuurtKaart, opened on request) or from the
// phone's position. The position only finds the
// buurt code: it is sent once, for that, and kept nowhere.
import { useEffect, useState } from 'preact/hooks';
import { api, type Buurt } from './api';
import { BuurtKaart } from './BuurtKaart';
import { t } from './i18n';

export interface More { text: string; area: string; photos: File[] }

export function MeerVertellen({ value, onChange }: { value: More; onChange: (m: More) => void }) {
  const [buurten, setBuurten] = useState<Buurt[]>([]);
  const [where, setWhere] = useState('');
  const [photoError, setPhotoError] = useState('');
  const [map, setMap] = useState(false);

  useEffect(() => { api.buurten().then(setBuurten).catch(() => setBuurten([])); }, []);

  function locate() {
    if (!navigator.geolocation) { setWhere(t('more.locateFailed')); return; }
    setWhere(t('more.locating'));
    navigator.geolocation.getCurrentPosition(async (pos) => {
      try {
        const b = await api.buurtAt(pos.coords.latitude, pos.coords.longitude);
        if (!buurten.some((x) => x.code === b.code)) setBuurten([...buurten, b]);
        onChange({ ...value, area: b.code });
        setWhere(t('more.located', { name: b.name }));
      } catch {
        setWhere(t('more.locateFailed'));
      }
    }, () => setWhere(t('more.locateFailed')), { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 });
  }

  return (
    <div>
      <p class="utrecht-paragraph">{t('more.intro')}</p>
      <div class="utrecht-form-field">
        <label class="utrecht-form-label" for="vh-text">{t('more.text')}</label>
        <p class="utrecht-form-field-description" id="vh-text-hint">{t('more.textHint')}</p>
        <textarea id="vh-text" class="utrecht-textarea utrecht-textarea--html-textarea" rows={6} aria-describedby="vh-text-hint"
          value={value.text} onInput={(e) => onChange({ ...value, text: (e.target as HTMLTextAreaElement).value })} />
      </div>
      <div class="utrecht-form-field">
        <label class="utrecht-form-label" for="vh-photos">{t('more.photos')}</label>
        <input id="vh-photos" type="file" accept="image/*" multiple class="vh-file"
          onChange={(e) => {
            const files = [...((e.target as HTMLInputElement).files ?? [])];
            setPhotoError(files.length > 3 ? t('more.photosTooMany') : '');
            onChange({ ...value, photos: files.slice(0, 3) });
          }} />
        {photoError && <p class="utrecht-form-field-error-message" role="alert">{photoError}</p>}
      </div>
      <div class="utrecht-form-field">
        <label class="utrecht-form-label" for="vh-buurt">{t('more.buurt')}</label>
        <select id="vh-buurt" class="utrecht-select utrecht-select--html-select" value={value.area}
          onChange={(e) => onChange({ ...value, area: (e.target as HTMLSelectElement).value })}>
          <option value="">{t('more.buurtNone')}</option>
          {buurten.map((b) => <option value={b.code}>{b.wijk ? `${b.name} (${b.wijk})` : b.name}</option>)}
        </select>
      </div>
      <div class="vh-buttons">
        <button type="button" class="utrecht-button utrecht-button--secondary-action" aria-expanded={map}
          aria-controls="vh-map-panel" onClick={() => setMap(!map)}>{map ? t('map.hide') : t('map.show')}</button>
        <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={locate}>{t('more.locate')}</button>
      </div>
      <div id="vh-map-panel">
        {map && <BuurtKaart selected={value.area} onSelect={(code, name) => {
          if (!buurten.some((x) => x.code === code)) setBuurten([...buurten, { code, name }]);
          onChange({ ...value, area: code });
          setWhere(t('map.chosen', { name }));
        }} />}
      </div>
      <p class="utrecht-paragraph" aria-live="polite" data-testid="buurt-chosen">{where}</p>
    </div>
  );
}
