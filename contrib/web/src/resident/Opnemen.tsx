// Opnemen: the microphone is asked for only after a tap. Record, pause,
// resume, stop, listen back, record again; a timer and a level meter; the
// longest recording (from the config) is said before the start and again
// before the end (a minute, or a third of a short limit), and the
// recording stops there. The browser's
// own format is chosen (MediaRecorder.isTypeSupported) and its real
// mimeType goes with the upload.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t, spoken, clock } from './i18n';

export interface Recording { blob: Blob; type: string; durationMs: number }

const TYPES = ['audio/webm;codecs=opus', 'audio/mp4', 'audio/ogg;codecs=opus', 'audio/webm'];

export function chooseType(): string | null {
  if (typeof MediaRecorder === 'undefined') return null;
  return TYPES.find((x) => MediaRecorder.isTypeSupported(x)) ?? '';
}

type Phase = 'idle' | 'ready' | 'recording' | 'paused' | 'done';

export function Opnemen({ maxS, value, onChange }: {
  maxS: number; value: Recording | null; onChange: (r: Recording | null) => void;
}) {
  const [phase, setPhase] = useState<Phase>(value ? 'done' : 'idle');
  const [error, setError] = useState('');
  const [elapsed, setElapsed] = useState(value?.durationMs ?? 0);
  const [level, setLevel] = useState(0);
  const [notice, setNotice] = useState('');
  const stream = useRef<MediaStream | null>(null);
  const rec = useRef<MediaRecorder | null>(null);
  const chunks = useRef<Blob[]>([]);
  // Time recorded so far, pauses left out.
  const acc = useRef(0);
  const since = useRef(0);
  const warned = useRef(false);
  const audioUrl = useRef<string | null>(null);
  const ctx = useRef<AudioContext | null>(null);

  const now = () => acc.current + (since.current ? performance.now() - since.current : 0);

  useEffect(() => () => {
    stream.current?.getTracks().forEach((tr) => tr.stop());
    void ctx.current?.close();
    if (audioUrl.current) URL.revokeObjectURL(audioUrl.current);
  }, []);

  useEffect(() => {
    if (phase !== 'recording') return;
    const id = setInterval(() => {
      const ms = now();
      setElapsed(ms);
      // Said before the end: a minute before, or a third of a short limit.
      const ahead = Math.min(60, Math.ceil(maxS / 3));
      if (!warned.current && ms >= (maxS - ahead) * 1000) {
        warned.current = true;
        setNotice(t('record.almost', { time: spoken(ahead) }));
      }
      if (ms >= maxS * 1000) {
        stop();
        setNotice(t('record.maxReached'));
      }
    }, 200);
    return () => clearInterval(id);
  }, [phase]);

  async function enable() {
    setError('');
    const type = chooseType();
    if (type === null || !navigator.mediaDevices?.getUserMedia) { setError(t('record.unsupported')); return; }
    try {
      stream.current = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      setError(t('record.micDenied'));
      return;
    }
    // The level meter: the loudness of the last few milliseconds.
    ctx.current = new AudioContext();
    const an = ctx.current.createAnalyser();
    an.fftSize = 512;
    ctx.current.createMediaStreamSource(stream.current).connect(an);
    const buf = new Uint8Array(an.fftSize);
    const tick = () => {
      if (!ctx.current) return;
      an.getByteTimeDomainData(buf);
      let peak = 0;
      for (const v of buf) peak = Math.max(peak, Math.abs(v - 128));
      setLevel(Math.min(100, Math.round((peak / 128) * 100)));
      if (rec.current?.state === 'recording') requestAnimationFrame(tick);
      else setTimeout(() => requestAnimationFrame(tick), 250);
    };
    tick();
    setPhase('ready');
  }

  function start() {
    if (!stream.current) return;
    const type = chooseType() ?? '';
    const r = new MediaRecorder(stream.current, type ? { mimeType: type } : undefined);
    chunks.current = [];
    acc.current = 0;
    warned.current = false;
    setNotice('');
    r.ondataavailable = (e) => { if (e.data.size > 0) chunks.current.push(e.data); };
    r.onstop = () => {
      const blob = new Blob(chunks.current, { type: r.mimeType || type });
      if (audioUrl.current) URL.revokeObjectURL(audioUrl.current);
      audioUrl.current = URL.createObjectURL(blob);
      onChange({ blob, type: r.mimeType || type, durationMs: Math.round(acc.current) });
      setPhase('done');
    };
    rec.current = r;
    r.start(1000);
    since.current = performance.now();
    onChange(null);
    setPhase('recording');
  }

  function pause() {
    rec.current?.pause();
    acc.current = now();
    since.current = 0;
    setPhase('paused');
  }

  function resume() {
    rec.current?.resume();
    since.current = performance.now();
    setPhase('recording');
  }

  function stop() {
    acc.current = now();
    since.current = 0;
    setElapsed(acc.current);
    if (rec.current && rec.current.state !== 'inactive') rec.current.stop();
  }

  function again() {
    onChange(null);
    setElapsed(0);
    setPhase(stream.current ? 'ready' : 'idle');
  }

  if (value && !audioUrl.current) audioUrl.current = URL.createObjectURL(value.blob);

  return (
    <div class="vh-recorder">
      <p class="utrecht-paragraph">{t('record.intro')}</p>
      <p class="utrecht-paragraph">{t('record.max', { time: spoken(maxS) })}</p>
      {error && <p class="utrecht-paragraph vh-error" role="alert">{error}</p>}
      {phase === 'idle' && (
        <button type="button" class="utrecht-button utrecht-button--primary-action" onClick={enable}>{t('record.mic')}</button>
      )}
      {phase !== 'idle' && phase !== 'done' && (
        <div class="vh-recorder__live">
          <p class="vh-timer" aria-label={t('record.timer')} role="timer">{clock(elapsed)}</p>
          <label class="utrecht-form-label" for="vh-level">{t('record.level')}</label>
          <meter id="vh-level" class="vh-level" min={0} max={100} value={level} />
          <p class="utrecht-paragraph" aria-live="polite">
            {phase === 'recording' ? t('record.recording') : phase === 'paused' ? t('record.paused') : ''}
          </p>
          <div class="vh-buttons">
            {phase === 'ready' && <button type="button" class="utrecht-button utrecht-button--primary-action" onClick={start}>{t('record.start')}</button>}
            {phase === 'recording' && <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={pause}>{t('record.pause')}</button>}
            {phase === 'paused' && <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={resume}>{t('record.resume')}</button>}
            {(phase === 'recording' || phase === 'paused') && <button type="button" class="utrecht-button utrecht-button--primary-action" onClick={stop}>{t('record.stop')}</button>}
          </div>
        </div>
      )}
      {phase === 'done' && value && (
        <div class="vh-recorder__done" data-duration-ms={value.durationMs}>
          <p class="utrecht-paragraph">{t('record.done', { time: clock(value.durationMs) })}</p>
          <label class="utrecht-form-label" for="vh-listen">{t('record.listen')}</label>
          <audio id="vh-listen" controls src={audioUrl.current ?? undefined} preload="metadata" />
          <div class="vh-buttons">
            <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={again}>{t('record.again')}</button>
          </div>
        </div>
      )}
      <p class="utrecht-paragraph" aria-live="assertive">{notice}</p>
    </div>
  );
}
