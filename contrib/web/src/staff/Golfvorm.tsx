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

const DRAFT = 'vh-draft';
const STEP = 100;	// ms: an arrow key moves a slider a tenth of a second

// 0:02,3 — minutes, seconds and tenths, as the sliders move.
function clock(ms: number): string {
  const tenths = Math.round(ms / 100), s = Math.floor(tenths / 10), m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')},${tenths % 10}`;
}
function seconds(ms: number): string { return st('wave.pick.seconds', { s: (ms / 1000).toFixed(1).replace('.', ',') }); }

interface PeaksSegment { id?: string; startTime: number; endTime: number; update?: (o: Partial<PeaksSegment>) => void }
interface PeaksInstance {
  segments: {
    add: (s: object) => void; getSegments: () => PeaksSegment[]; removeAll: () => void;
    getSegment: (id: string) => PeaksSegment | null; removeById: (id: string) => void;
  };
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
  const ids = `golf-${props.media}`;
  const ranges = useRef(props.ranges);
  ranges.current = props.ranges;

  // The range chosen with the two sliders (ms), drawn on the waveform
  // as a segment of its own until it is added.
  const [dur, setDur] = useState(0);
  const [pick, setPick] = useState<Range>({ start: 0, end: 0 });
  const [pickNote, setPickNote] = useState<string | null>(null);

  const sync = () => {
    const p = peaks.current;
    if (!p) return;
    const segs = p.segments.getSegments().filter((s) => s.id !== DRAFT).map((s) => ({ start: Math.round(s.startTime * 1000), end: Math.round(s.endTime * 1000) }))
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
          // "auto" is the whole recording at the width of the moment.
          p.views.getView('zoomview')?.setZoom?.({ seconds: 'auto' });
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

  // The draft segment follows the sliders.
  useEffect(() => {
    const p = peaks.current;
    if (!p) return;
    const d = p.segments.getSegment(DRAFT);
    if (pick.end <= pick.start) { if (d) p.segments.removeById(DRAFT); return; }
    if (d?.update) d.update({ startTime: pick.start / 1000, endTime: pick.end / 1000 });
    else p.segments.add({ id: DRAFT, startTime: pick.start / 1000, endTime: pick.end / 1000, editable: false, color: '#1b4a8a', labelText: st('wave.pick.draft') });
  }, [pick.start, pick.end]);

  const setPickAt = (which: 'start' | 'end', ms: number) => {
    const v = Math.max(0, Math.min(dur, Math.round(ms / STEP) * STEP));
    setPick((r) => ({ ...r, [which]: v }));
    // The playhead goes there too, so that playing starts at the edge.
    if (audio.current && audio.current.paused) audio.current.currentTime = v / 1000;
  };
  // Page Up/Down move a whole second (the arrows a tenth).
  const pageKeys = (which: 'start' | 'end') => (ev: KeyboardEvent) => {
    const by = ev.key === 'PageUp' ? 1000 : ev.key === 'PageDown' ? -1000 : 0;
    if (!by) return;
    ev.preventDefault();
    setPickAt(which, pick[which] + by);
  };
  const addPick = () => {
    if (pick.end <= pick.start) return;
    const p = peaks.current;
    p?.segments.removeById(DRAFT);
    const overlap = props.ranges.some((r) => pick.start < r.end && pick.end > r.start);
    if (overlap) { setPickNote(st('wave.pick.overlap')); return; }
    setPickNote(null);
    p?.segments.add({ startTime: pick.start / 1000, endTime: pick.end / 1000, editable: true, labelText: st('wave.segment') });
    setPick({ start: pick.end, end: pick.end });
    sync();
  };

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
        onTimeUpdate={() => setNow(at())} src={source?.src} data-type={source?.type}
        onLoadedMetadata={(ev) => { const d = ev.currentTarget.duration; if (Number.isFinite(d)) setDur(Math.round(d * 1000)); }} />
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
      <fieldset class="utrecht-form-fieldset vh-fieldset vh-wave__pick">
        <legend class="utrecht-form-fieldset__legend utrecht-form-label">{st('wave.pick')}</legend>
        <p class="utrecht-paragraph vh-muted" id={`${ids}-hint`}>{st('wave.pick.help')}</p>
        {(['start', 'end'] as const).map((k) => (
          <div class="utrecht-form-field vh-wave__slider" key={k}>
            <label class="utrecht-form-label" for={`${ids}-${k}`}>{st(k === 'start' ? 'wave.pick.start' : 'wave.pick.end')}</label>
            <input id={`${ids}-${k}`} type="range" min={0} max={Math.max(dur, STEP)} step={STEP} value={pick[k]}
              disabled={dur === 0} aria-describedby={`${ids}-hint`} aria-valuetext={seconds(pick[k])}
              onInput={(ev) => setPickAt(k, Number(ev.currentTarget.value))} onKeyDown={pageKeys(k)} />
            <output for={`${ids}-${k}`} class="vh-wave__value">{clock(pick[k])}</output>
          </div>
        ))}
        <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={addPick}
          disabled={pick.end <= pick.start}>{st('wave.pick.add', { a: clock(pick.start), b: clock(pick.end) })}</button>
        {pickNote && <p class="utrecht-paragraph vh-error" role="alert">{pickNote}</p>}
      </fieldset>
      <ul class="vh-ranges" aria-live="polite" aria-label={st('wave.ranges')}>
        {props.ranges.map((r) => (
          <li key={`${r.start}-${r.end}`}>{st('wave.range', { a: formatDuration(r.start), b: formatDuration(r.end), s: ((r.end - r.start) / 1000).toFixed(1).replace('.', ',') })}</li>
        ))}
      </ul>
    </div>
  );
}
