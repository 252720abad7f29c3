// The photos of an entry: one shown at display size, thumbnails as
// buttons to choose another; the arrow keys, Home and End move through
// them when the gallery has focus, and the counter is announced.
import { useState } from 'preact/hooks';
import { mediaUrl, type MediaRef } from '../shared/api';
import { t } from '../shared/i18n';

export function FotoGalerij({ media }: { media: MediaRef[] }) {
  const [i, setI] = useState(0);
  const n = media.length;
  const go = (k: number) => setI(((k % n) + n) % n);
  const onKey = (e: KeyboardEvent) => {
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: n - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    go(to);
    document.getElementById(`foto-knop-${media[((to % n) + n) % n].id}`)?.focus();
  };
  const cur = media[i];
  return (
    <div class="vh-gallery">
      <figure class="utrecht-figure vh-gallery__figure">
        <img class="utrecht-img vh-gallery__img" src={mediaUrl.display(cur.id)} alt={t('entry.photo', { n: i + 1, total: n })} />
        <figcaption class="utrecht-figure__caption" aria-live="polite">{t('entry.photo', { n: i + 1, total: n })}</figcaption>
      </figure>
      {n > 1 && (
        <div class="vh-gallery__nav">
          <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => go(i - 1)}>{t('entry.photo.prev')}</button>
          <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => go(i + 1)}>{t('entry.photo.next')}</button>
        </div>
      )}
      {n > 1 && (
        <ul class="vh-gallery__thumbs" onKeyDown={onKey}>
          {media.map((m, k) => (
            <li key={m.id}>
              <button type="button" id={`foto-knop-${m.id}`} class="vh-gallery__thumb" aria-pressed={k === i ? 'true' : 'false'}
                tabIndex={k === i ? 0 : -1} onClick={() => setI(k)}>
                <img src={mediaUrl.thumb(m.id)} alt={t('entry.photo.open', { n: k + 1 })} width={80} height={80} loading="lazy" />
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
