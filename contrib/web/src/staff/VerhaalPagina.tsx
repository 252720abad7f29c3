// One story or werkbezoek: text with its redactions marked, the facts,
// the consent in plain words, the photos (a gallery for keyboard and
// pointer), the recording with its waveform (Speler, loaded when the
// entry has one) and its history from the audit trail.
import type { ComponentType } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../shared/api';
import { formatDate, formatDateTime, t, type MessageKey } from '../shared/i18n';
import { themes as loadThemes } from '../shared/lists';
import { Redacted } from '../shared/snippet';
import { FotoGalerij } from './FotoGalerij';
import { Geschiedenis } from './Geschiedenis';
import { Link } from './Link';
import { previous } from './router';
import type { PageProps } from './routes';
import type { SpelerProps } from './Speler';
import { history as loadHistory, type HistoryItem } from './staffApi';
import { problem } from './staffErrors';
import { st } from './staffI18n';

const isAudio = (m: api.MediaRef) => /^audio\/|^video\/(mp4|webm|ogg|3gpp)/.test(m.declared_type ?? '') ||
  /\.(wav|flac|mp3|ogg|opus|oga|webm|m4a|mp4|3gp|amr|spx)$/i.test(m.filename ?? '');
const isPhoto = (m: api.MediaRef) => /^image\//.test(m.declared_type ?? '') ||
  /\.(jpe?g|png|webp|heic|heif)$/i.test(m.filename ?? '');

function Paragraphs({ text }: { text: string }) {
  return <>{text.split(/\n{2,}/).map((para, i) => (
    <p key={i} class="utrecht-paragraph vh-text"><Redacted text={para} /></p>
  ))}</>;
}

export function VerhaalPagina({ params }: PageProps) {
  const [e, setE] = useState<api.Entry | null>(null);
  const [error, setError] = useState<api.ApiError | null>(null);
  const [themeList, setThemeList] = useState<api.Theme[]>([]);
  const [Speler, setSpeler] = useState<ComponentType<SpelerProps> | null>(null);
  const [hist, setHist] = useState<HistoryItem[] | null>(null);
  const [histError, setHistError] = useState<string | null>(null);
  const h1 = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    setE(null);
    setError(null);
    setHist(null);
    setHistError(null);
    api.entry(params.id).then((x) => {
      setE(x);
      loadHistory(x.id).then((h) => setHist(h.items), (err) => setHistError(problem(err)));
      // The player and its waveform library load only for a recording.
      if (x.media.some(isAudio))
        import('./Speler').then((m) => setSpeler(() => m.Speler), () => undefined);
    }, (err) => setError(err instanceof api.ApiError ? err : null));
    loadThemes().then(setThemeList, () => undefined);
  }, [params.id]);

  useEffect(() => { if (e) h1.current?.focus(); }, [e?.id]);

  const back = (ev: MouseEvent) => {
    // Back to the search as it was (its URL, its scroll position).
    if (previous?.startsWith('/zoeken')) {
      ev.preventDefault();
      history.back();
    }
  };

  if (error) return (
    <div>
      <h1 class="utrecht-heading-1">{t('entry.story')}</h1>
      <div class="utrecht-alert utrecht-alert--error vh-alert" role="alert"><p class="utrecht-paragraph">{error.message}</p></div>
      <Link href="/zoeken">{t('entry.back')}</Link>
    </div>
  );
  if (!e) return <p class="utrecht-paragraph vh-loading" role="status">{t('app.loading')}</p>;

  const kind = e.kind === 'visit' ? t('entry.visit') : t('entry.story');
  const wijk = typeof e.wijk === 'string' ? { code: e.wijk, name: e.wijk } : e.wijk;
  const audio = e.media.filter(isAudio);
  const photos = e.media.filter(isPhoto);
  const themeTitle = (slug: string) => themeList.find((x) => x.slug === slug)?.title ?? slug;
  const hasRedaction = /\[[^\[\]\n]{1,64}\]/.test(`${e.title ?? ''} ${e.text ?? ''} ${e.transcript ?? ''}`);

  return (
    <article class="vh-entry" aria-labelledby="verhaal-titel">
      <p class="utrecht-paragraph"><Link href="/zoeken" onClick={back}>{t('entry.back')}</Link></p>
      <p class="utrecht-pre-heading vh-kind">{kind}</p>
      <h1 id="verhaal-titel" class="utrecht-heading-1" tabIndex={-1} ref={h1}>
        {e.title ? <Redacted text={e.title} /> : t('search.untitled')}
      </h1>

      <div class="vh-entry__layout">
        <div class="vh-entry__main">
          <section aria-labelledby="verhaal-tekst">
            <h2 id="verhaal-tekst" class="utrecht-heading-2">{t('entry.text')}</h2>
            {hasRedaction && <p class="utrecht-paragraph vh-muted">{t('entry.redacted.legend')}</p>}
            {e.text ? <Paragraphs text={e.text} /> : <p class="utrecht-paragraph vh-muted">{e.verbatim === false ? t('entry.notext') : '—'}</p>}
          </section>

          {audio.length > 0 && (
            <section aria-labelledby="verhaal-audio">
              <h2 id="verhaal-audio" class="utrecht-heading-2">{t('entry.audio')}</h2>
              {Speler ? audio.map((m) => <Speler key={m.id} mediaId={m.id} label={m.filename ?? t('entry.audio')} />)
                : <p class="utrecht-paragraph" role="status">{t('entry.audio.loading')}</p>}
            </section>
          )}

          {e.transcript && (
            <section aria-labelledby="verhaal-transcript">
              <h2 id="verhaal-transcript" class="utrecht-heading-2">{t('entry.transcript')}</h2>
              <Paragraphs text={e.transcript} />
            </section>
          )}

          {photos.length > 0 && (
            <section aria-labelledby="verhaal-fotos">
              <h2 id="verhaal-fotos" class="utrecht-heading-2">{t('entry.photos')}</h2>
              <FotoGalerij media={photos} />
            </section>
          )}
        </div>

        <aside class="vh-entry__side" aria-labelledby="verhaal-gegevens">
          <h2 id="verhaal-gegevens" class="utrecht-heading-2">{t('entry.facts')}</h2>
          <dl class="vh-facts">
            {e.area && <><dt>{t('entry.area')}</dt><dd>{e.area.name}</dd></>}
            {wijk && wijk.code !== e.area?.code && <><dt>{t('entry.wijk')}</dt><dd>{wijk.name}</dd></>}
            {e.occurred_at && <><dt>{t('entry.occurred')}</dt><dd>{formatDate(e.occurred_at)}</dd></>}
            <dt>{t('entry.received')}</dt><dd>{formatDateTime(e.created_at)}</dd>
            <dt>{t('entry.status')}</dt><dd>{t(`status.${e.status}` as MessageKey)}</dd>
            {e.collection && <><dt>{t('entry.collection')}</dt><dd>{e.collection}</dd></>}
            <dt>{t('entry.themes')}</dt>
            <dd>{e.themes.length ? (
              <ul class="vh-badges">{e.themes.map((th) => <li key={th} class="utrecht-badge-status vh-badge vh-badge--theme">{themeTitle(th)}</li>)}</ul>
            ) : '—'}</dd>
          </dl>
          <h3 class="utrecht-heading-3">{t('entry.consent')}</h3>
          <Consent consent={e.consent} />
          <section aria-labelledby="verhaal-geschiedenis">
            <h3 id="verhaal-geschiedenis" class="utrecht-heading-3">{st('hist.title')}</h3>
            {histError ? <p class="utrecht-paragraph vh-error" role="alert">{st('hist.failed')} {histError}</p>
              : hist ? <Geschiedenis items={hist} />
              : <p class="utrecht-paragraph vh-loading" role="status">{t('app.loading')}</p>}
          </section>
        </aside>
      </div>
    </article>
  );
}

function Consent({ consent }: { consent: api.Entry['consent'] }) {
  if (!consent) return <p class="utrecht-paragraph">{t('entry.consent.none')}</p>;
  const key = `entry.consent.${consent.scope}` as MessageKey;
  const when = consent.given_at ?? consent.created_at;
  return (
    <>
      <p class="utrecht-paragraph vh-consent">{t(key)}</p>
      <p class="utrecht-paragraph vh-muted">{when
        ? t('entry.consent.version', { version: String(consent.version), language: consent.language, date: formatDate(when) })
        : t('entry.consent.version.nodate', { version: String(consent.version), language: consent.language })}</p>
    </>
  );
}
