// The recording of an entry with its waveform (peaks.js, from the stored
// peaks.json), on which a moderator marks the ranges to mute: by dragging
// on the waveform, or with the keyboard by playing and pressing "begin
// hier" and "einde hier" at the playhead. Each range can be heard before
// it is saved: the preview plays around it with the sound off inside it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { mediaUrl } from '../shared/api';
import { formatDuration } from '../shared/i18n';
import { audioSource } from './audioSource';
import { st } from './staffI18n';
import './staff.css';

export interface Range { start: number; end: number }	// ms

interface PeaksSegment { id?: string; startTime: number; endTime: number; update?: (o: Partial<PeaksSegment>) => void }
interface PeaksInstance {
  segments: { add: (s: object) => void; getSegments: () => PeaksSegment[]; removeAll: () => void };
  views: { getView: (n: string) => { setWaveformDragMode?: (m: string) => void; setZoom?: (o: object) => void; fitToContainer?: () => void } | null };
  on: (ev: string, fn: (...a: unknown[]) => void) => void;
  destroy: () => void;
}

export function Golfvorm(props: { media: number; ranges: Range[]; onChange: (r: Range[]) => void }) {
  const zoom = useRef<HTMLDivElement>(null), over = useRef<HTMLDivElement>(null), audio = useRef<HTMLAudioElement>(null);
  const peaks = useRef<PeaksInstance | null>(null);
  const observer = useRef<ResizeObserver | null>(null);
  const [failed, setFailed] = useState(false);
  const [mark, setMark] = useState<number | null>(null);
  const [now, setNow] = useState(0);
  const ranges = useRef(props.ranges);
  ranges.current = props.ranges;

  const sync = () => {
    const p = peaks.current;
    if (!p) return;
    const segs = p.segments.getSegments().map((s) => ({ start: Math.round(s.startTime * 1000), end: Math.round(s.endTime * 1000) }))
      .filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
    props.onChange(segs);
  };

  useEffect(() => {
    let live = true;
    (async () => {
      const Peaks = (await import('peaks.js')).default as unknown as { init: (o: object, cb: (e: Error | null, p?: PeaksInstance) => void) => void };
      if (!live || !zoom.current || !over.current || !audio.current) return;
      Peaks.init({
        zoomview: { container: zoom.current, waveformColor: '#4a6fa5', playheadColor: '#000' },
        overview: { container: over.current, waveformColor: '#9bb0cc' },
        mediaElement: audio.current,
        dataUri: { json: mediaUrl.peaks(props.media) },
        keyboard: false,
        segmentOptions: { overlay: true, overlayColor: '#b00020', overlayOpacity: 0.35, markers: true },
        withCredentials: true,
      }, (err, p) => {
        if (err || !p) { setFailed(true); return; }
        if (!live) { p.destroy(); return; }
        peaks.current = p;
        const zv = p.views.getView('zoomview');
        zv?.setZoom?.({ seconds: 'auto' });
        zv?.setWaveformDragMode?.('insert-segment');
        for (const r of ranges.current) p.segments.add({ startTime: r.start / 1000, endTime: r.end / 1000, editable: true, labelText: st('wave.segment') });
        // The waveform follows its box when the window narrows.
        const fit = new ResizeObserver((es) => {
          // A box of no size (hidden, being removed) has nothing to draw.
          if (!peaks.current || es.some((x) => x.contentRect.width < 1 || x.contentRect.height < 1)) return;
          p.views.getView('zoomview')?.fitToContainer?.();
          p.views.getView('overview')?.fitToContainer?.();
        });
        if (zoom.current) fit.observe(zoom.current);
        observer.current = fit;
        for (const ev of ['segments.insert', 'segments.dragend', 'segments.add', 'segments.remove', 'segments.remove_all'])
          p.on(ev, () => setTimeout(sync, 0));
      });
    })().catch(() => setFailed(true));
    return () => { live = false; observer.current?.disconnect(); peaks.current?.destroy(); peaks.current = null; };
  }, [props.media]);

  const at = () => Math.round((audio.current?.currentTime ?? 0) * 1000);
  const begin = () => setMark(at());
  const end = () => {
    const e = at();
    if (mark === null || e <= mark) return;
    peaks.current?.segments.add({ startTime: mark / 1000, endTime: e / 1000, editable: true, labelText: st('wave.segment') });
    setMark(null);
    sync();
  };
  const clear = () => { peaks.current?.segments.removeAll(); sync(); };

  // Preview: from a second before the first range to a second after the
  // last, muted inside every range.
  const preview = () => {
    const a = audio.current, rs = ranges.current;
    if (!a || rs.length === 0) return;
    const from = Math.max(0, rs[0].start / 1000 - 1), to = rs[rs.length - 1].end / 1000 + 1;
    a.currentTime = from;
    a.play().catch(() => undefined);
    const tick = () => {
      const t = a.currentTime * 1000;
      a.muted = ranges.current.some((r) => t >= r.start && t < r.end);
      if (!a.paused && a.currentTime < to) requestAnimationFrame(tick);
      else { a.pause(); a.muted = false; }
    };
    requestAnimationFrame(tick);
  };

  const source = audioSource(mediaUrl.opus(props.media), mediaUrl.m4a(props.media));
  if (failed) return <p class="utrecht-paragraph vh-error" role="alert">{st('wave.failed')}</p>;
  return (
    <div class="vh-wave">
      <div ref={zoom} class="vh-wave__zoom" data-testid="waveform" aria-hidden="true" />
      <div ref={over} class="vh-wave__overview" aria-hidden="true" />
      <audio ref={audio} controls preload="metadata" class="vh-wave__audio" aria-label={st('wave.audio')}
        onTimeUpdate={() => setNow(at())} src={source?.src} data-type={source?.type} />
      <p class="utrecht-paragraph vh-muted">{st('wave.help')}</p>
      <div class="vh-buttons">
        <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={begin}>
          {st('wave.begin', { t: formatDuration(now) })}</button>
        <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={end} disabled={mark === null}>
          {st('wave.end')}</button>
        <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={preview} disabled={props.ranges.length === 0}>
          {st('wave.preview')}</button>
        <button type="button" class="utrecht-button utrecht-button--subtle" onClick={clear} disabled={props.ranges.length === 0}>
          {st('wave.clear')}</button>
      </div>
      {mark !== null && <p class="utrecht-paragraph" aria-live="polite">{st('wave.marked', { t: formatDuration(mark) })}</p>}
      <ul class="vh-ranges" aria-live="polite" aria-label={st('wave.ranges')}>
        {props.ranges.map((r) => (
          <li key={`${r.start}-${r.end}`}>{st('wave.range', { a: formatDuration(r.start), b: formatDuration(r.end), s: ((r.end - r.start) / 1000).toFixed(1).replace('.', ',') })}</li>
        ))}
      </ul>
    </div>
  );
}
