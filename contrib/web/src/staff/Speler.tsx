// The audio player: Opus, or AAC for browsers without Ogg Opus (chosen
// by audioSource.ts), with the waveform from the stored peaks.json drawn
// by peaks.js (overview and zoom), both loaded with this module only
// when an entry has a recording. Play, pause, 5 s back and forward and
// the position slider are real controls, so the keyboard does
// everything; the waveform is a picture of the same thing.
import { useEffect, useRef, useState } from 'preact/hooks';
import Peaks, { type PeaksInstance } from 'peaks.js';
import * as api from '../shared/api';
import { formatDuration, t } from '../shared/i18n';
import { audioSource } from './audioSource';

export interface SpelerProps { mediaId: number; label: string }

export function Speler({ mediaId, label }: SpelerProps) {
  const audio = useRef<HTMLAudioElement>(null);
  const zoom = useRef<HTMLDivElement>(null);
  const overview = useRef<HTMLDivElement>(null);
  const [info, setInfo] = useState<api.Media | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [playing, setPlaying] = useState(false);
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(0);

  useEffect(() => {
    api.media(mediaId).then((m) => {
      if (m.status !== 'ready' || !audioSource(m.links['audio.opus'], m.links['audio.m4a'])) setProblem(m.status === 'rejected' ? t('entry.audio.unavailable') : t('entry.audio.processing'));
      setInfo(m);
      if (m.duration_ms) setDuration(m.duration_ms / 1000);
    }, (e) => setProblem(e instanceof api.ApiError ? e.message : t('entry.audio.unavailable')));
  }, [mediaId]);

  useEffect(() => {
    if (!info || problem || !audio.current || !zoom.current || !overview.current || !info.links['peaks.json']) return;
    let peaks: PeaksInstance | null = null;
    let gone = false;
    const el = audio.current, zc = zoom.current, oc = overview.current;
    // peaks.js calls load() on an element that has no metadata yet, and
    // load() cancels a play() already asked for: a quick listener's first
    // press did nothing. So it starts only once the metadata is there.
    const start = () => Peaks.init({
      zoomview: { container: zc, waveformColor: '#5a7ab0', playedWaveformColor: '#24578f' },
      overview: { container: oc, waveformColor: '#9bb0d0', playedWaveformColor: '#24578f' },
      mediaElement: el,
      dataUri: { json: info.links['peaks.json'] },
      keyboard: false,
    }, (err, p) => {
      if (gone) { p?.destroy(); return; }
      if (err) { setProblem(t('entry.audio.unavailable')); return; }
      peaks = p ?? null;
    });
    if (el.readyState >= HTMLMediaElement.HAVE_METADATA) start();
    else el.addEventListener('loadedmetadata', start, { once: true });
    return () => { gone = true; el.removeEventListener('loadedmetadata', start); peaks?.destroy(); };
  }, [info, problem]);

  if (problem) return <p class="utrecht-paragraph" role="status">{problem}</p>;
  if (!info) return <p class="utrecht-paragraph" role="status">{t('entry.audio.loading')}</p>;

  const a = () => audio.current!;
  const toggle = () => { if (a().paused) a().play().catch(() => undefined); else a().pause(); };
  const skip = (s: number) => { a().currentTime = Math.max(0, Math.min(duration || a().duration || 0, a().currentTime + s)); };
  const id = `speler-${mediaId}`;
  const source = audioSource(info.links['audio.opus'], info.links['audio.m4a']);

  return (
    <div class="vh-player" role="group" aria-label={label}>
      <audio ref={audio} preload="metadata" id={`${id}-audio`}
        onPlay={() => setPlaying(true)} onPause={() => setPlaying(false)} onEnded={() => setPlaying(false)}
        onTimeUpdate={(e) => setTime(e.currentTarget.currentTime)}
        onLoadedMetadata={(e) => { if (Number.isFinite(e.currentTarget.duration)) setDuration(e.currentTarget.duration); }}
        onError={() => setProblem(t('entry.audio.unavailable'))}
        src={source?.src} data-type={source?.type} />
      <div class="vh-player__wave" role="img" aria-label={t('entry.audio.waveform')}>
        <div ref={zoom} class="vh-player__zoom" />
        <div ref={overview} class="vh-player__overview" />
      </div>
      <div class="vh-player__controls">
        <button type="button" class="utrecht-button utrecht-button--primary-action" onClick={toggle}>
          {playing ? t('entry.audio.pause') : t('entry.audio.play')}
        </button>
        <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => skip(-5)}>{t('entry.audio.back')}</button>
        <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => skip(5)}>{t('entry.audio.forward')}</button>
        <label class="utrecht-form-label vh-visually-hidden" for={`${id}-pos`}>{t('entry.audio.position')}</label>
        <input id={`${id}-pos`} type="range" class="vh-player__pos" min={0} max={Math.max(duration, 0.1)} step={0.1} value={time}
          aria-valuetext={`${formatDuration(time * 1000)} / ${formatDuration(duration * 1000)}`}
          onInput={(e) => { a().currentTime = Number(e.currentTarget.value); }} />
        <span class="vh-player__time" aria-hidden="true">{formatDuration(time * 1000)} / {formatDuration(duration * 1000)}</span>
      </div>
    </div>
  );
}
