// Moderatie: the entries waiting for review, oldest first; for the one
// chosen its text, in which the moderator selects what to redact (no
// offsets are typed), its recordings with their waveform for the ranges
// to mute, corrections of title, themes and buurt, the decision (vrijgeven,
// publiceren, afwijzen with a reason) and its history.
import { useEffect, useRef, useState } from 'preact/hooks';
import { entry as getEntry, media as getMedia, search, themes as getThemes, areas as getAreas,
  type Area, type Entry, type SearchItem, type Theme } from '../shared/api';
import { formatDate, formatDateTime } from '../shared/i18n';
import { Dialog } from './Dialog';
import { Geschiedenis } from './Geschiedenis';
import { lazy } from './lazy';
import type { PageProps } from './routes';
import { approve, editEntry, history as getHistory, job as getJob, publish, redact, reject, type HistoryItem, type RedactJob, type Span } from './staffApi';
import { problem } from './staffErrors';
import './staff.css';
import { st, type StaffKey } from './staffI18n';
import type { Range } from './Golfvorm';

const GolfvormLazy = lazy(() => import('./Golfvorm').then((m) => m.Golfvorm));
const REPLACEMENTS = ['[…]', '[naam]', '[adres]'];

// A span of the text as UTF-16 indices (as the DOM counts), with its
// replacement; sent to the API in code points.
interface Pending { start: number; end: number; replacement: string }

function codePoints(s: string, utf16: number): number { return Array.from(s.slice(0, utf16)).length; }

// The offset within root's text of a DOM position: the length of the
// text from root's start to there.
function textOffset(root: Node, node: Node, offset: number): number {
  const r = document.createRange();
  r.setStart(root, 0);
  r.setEnd(node, offset);
  return r.toString().length;
}

export function Moderatie(_props: PageProps) {
  const [queue, setQueue] = useState<SearchItem[] | null>(null);
  const [queueError, setQueueError] = useState<string | null>(null);
  const [selected, setSelected] = useState<number | null>(null);

  const load = async () => {
    setQueueError(null);
    try {
      const items: SearchItem[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const r = await search({ status: 'pending_review', sort: 'recent', limit: 200, facets: false, cursor });
        items.push(...r.items);
        if (!r.next_cursor) break;
        cursor = r.next_cursor;
      }
      items.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id);
      setQueue(items);
    } catch (e) { setQueueError(problem(e)); }
  };
  useEffect(() => { load(); }, []);

  return (
    <section class="vh-moderation" aria-labelledby="mod-title">
      <h1 id="mod-title" class="utrecht-heading-1">{st('mod.title')}</h1>
      <div class="vh-moderation__grid">
        <nav aria-labelledby="mod-queue" class="vh-queue">
          <h2 id="mod-queue" class="utrecht-heading-2">{st('mod.queue', { n: queue?.length ?? 0 })}</h2>
          {queueError && <p class="utrecht-paragraph vh-error" role="alert">{queueError}</p>}
          {queue && queue.length === 0 && <p class="utrecht-paragraph">{st('mod.queue.empty')}</p>}
          <ol class="vh-queue__list">
            {queue?.map((e) => (
              <li key={e.id}>
                <button type="button" class="vh-queue__item" aria-current={selected === e.id ? 'true' : undefined}
                  onClick={() => setSelected(e.id)}>
                  <span class="vh-queue__title">{e.title || st('mod.untitled', { id: e.id })}</span>
                  <span class="vh-muted">{st('mod.arrived', { date: formatDateTime(e.created_at) })}{e.has_audio ? ` · ${st('mod.audio')}` : ''}</span>
                </button>
              </li>
            ))}
          </ol>
        </nav>
        <div class="vh-moderation__entry">
          {selected === null ? <p class="utrecht-paragraph">{st('mod.choose')}</p>
            : <Review key={selected} id={selected} onDecided={load} />}
        </div>
      </div>
    </section>
  );
}

function Review(props: { id: number; onDecided: () => void }) {
  const [e, setE] = useState<Entry | null>(null);
  const [hist, setHist] = useState<HistoryItem[]>([]);
  const [audio, setAudio] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending[]>([]);
  const [replacement, setReplacement] = useState(REPLACEMENTS[1]);
  const [mutes, setMutes] = useState<Record<number, Range[]>>({});
  const [saveMsg, setSaveMsg] = useState<{ ok: boolean; text: string } | null>(null);
  // Audio redaction jobs still running: publishing waits for them, so that
  // the unredacted recording is never what gets published.
  const [muting, setMuting] = useState(false);
  const alive = useRef(true);
  useEffect(() => () => { alive.current = false; }, []);
  const [decision, setDecision] = useState<{ ok: boolean; text: string } | null>(null);
  const [selNote, setSelNote] = useState<string | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const textRef = useRef<HTMLParagraphElement>(null);
  const [redraw, setRedraw] = useState(0);
  const refuse = (ev: Event) => ev.preventDefault();

  const load = async () => {
    try {
      const x = await getEntry(props.id);
      setE(x);
      getHistory(props.id).then((h) => setHist(h.items), () => undefined);
      const ms = await Promise.all(x.media.map((m) => getMedia(m.id).catch(() => null)));
      setAudio(ms.filter((m) => m && m.family === 'audio' && m.status === 'ready' && m.links['peaks.json']).map((m) => m!.id));
    } catch (err) { setError(problem(err)); }
  };
  useEffect(() => { load(); }, [props.id]);

  const addSelection = () => {
    const sel = window.getSelection();
    const root = textRef.current;
    setSelNote(null);
    setSaveMsg(null);
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed || !root || !e?.text) { setSelNote(st('mod.select.none')); return; }
    const r = sel.getRangeAt(0);
    if (!root.contains(r.startContainer) || !root.contains(r.endContainer)) { setSelNote(st('mod.select.outside')); return; }
    let a = textOffset(root, r.startContainer, r.startOffset), b = textOffset(root, r.endContainer, r.endOffset);
    if (a > b) [a, b] = [b, a];
    // A double-click selects the word with the space after it: keep the space.
    while (b > a && /\s/.test(e.text[b - 1])) b--;
    while (a < b && /\s/.test(e.text[a])) a++;
    if (a === b) { setSelNote(st('mod.select.none')); return; }
    if (pending.some((p) => a < p.end && b > p.start)) { setSelNote(st('mod.select.overlap')); return; }
    setPending([...pending, { start: a, end: b, replacement }].sort((x, y) => x.start - y.start));
    sel.removeAllRanges();
  };

  const save = async () => {
    if (!e) return;
    setSaveMsg(null);
    const text: Span[] = pending.map((p) => ({ start: codePoints(e.text ?? '', p.start), end: codePoints(e.text ?? '', p.end), replacement: p.replacement }));
    const aud = Object.entries(mutes).filter(([, rs]) => rs.length > 0)
      .map(([m, rs]) => ({ media: Number(m), mute: rs.map((r) => [r.start, r.end] as [number, number]) }));
    if (text.length === 0 && aud.length === 0) { setSaveMsg({ ok: false, text: st('mod.save.nothing') }); return; }
    try {
      const r = await redact(e.id, { ...(text.length ? { text } : {}), ...(aud.length ? { audio: aud } : {}) });
      setPending([]);
      setMutes({});
      if (r.audio?.length) {
        setMuting(true);
        setSaveMsg({ ok: true, text: st('mod.save.audio.busy') });
        await load();
        const ok = await follow(r.audio);
        if (!alive.current) return;
        setMuting(false);
        if (!ok) { setSaveMsg({ ok: false, text: st('mod.save.audio.failed') }); await load(); return; }
      }
      await load();
      setSaveMsg({ ok: true, text: st('mod.save.done', { spans: text.length, ranges: aud.reduce((n, a) => n + a.mute.length, 0) }) });
    } catch (err) { setMuting(false); setSaveMsg({ ok: false, text: problem(err) }); }
  };

  // Polls the redaction jobs until each is done (true) or one failed
  // (false); every second at first, then every three.
  const follow = async (jobs: RedactJob[]): Promise<boolean> => {
    let open = jobs.map((j) => j.job);
    for (let i = 0; open.length > 0 && alive.current; i++) {
      await new Promise((res) => setTimeout(res, i < 10 ? 1000 : 3000));
      const states = await Promise.all(open.map((id) => getJob(id)));
      if (states.some((j) => j.state === 'failed')) return false;
      open = states.filter((j) => j.state !== 'done').map((j) => j.id);
    }
    return true;
  };

  const decide = async (what: 'approve' | 'publish' | 'reject', reason = '') => {
    if (!e) return;
    setDecision(null);
    if (what === 'publish' && muting) { setDecision({ ok: false, text: st('mod.publish.wait') }); return; }
    try {
      const r = what === 'approve' ? await approve(e.id) : what === 'publish' ? await publish(e.id) : await reject(e.id, reason);
      setDecision({ ok: true, text: st(`mod.decided.${r.status}` as StaffKey) });
      setRejecting(false);
      await load();
      props.onDecided();
    } catch (err) {
      if (what === 'reject') throw err;
      setDecision({ ok: false, text: problem(err) });
    }
  };

  if (error) return <p class="utrecht-paragraph vh-error" role="alert">{error}</p>;
  if (!e) return <p class="utrecht-paragraph vh-loading">{st('loading')}</p>;

  // The text with the spans still to be redacted marked.
  const parts: preact.JSX.Element[] = [];
  let at = 0;
  const text = e.text ?? '';
  for (const p of pending) {
    if (p.start > at) parts.push(<span key={`t${at}`}>{text.slice(at, p.start)}</span>);
    parts.push(<mark key={`m${p.start}`} class="vh-pending" title={st('mod.pending.title', { r: p.replacement })}>{text.slice(p.start, p.end)}</mark>);
    at = p.end;
  }
  if (at < text.length) parts.push(<span key={`t${at}`}>{text.slice(at)}</span>);

  return (
    <article aria-labelledby="review-title">
      <h2 id="review-title" class="utrecht-heading-2">{e.title || st('mod.untitled', { id: e.id })}</h2>
      <p class="utrecht-paragraph vh-muted">
        {st('mod.meta', { status: st(`status.${e.status}` as StaffKey), date: formatDate(e.occurred_at ?? e.created_at), scope: e.consent ? st(`scope.${e.consent.scope}` as StaffKey) : st('scope.none') })}
      </p>

      <section aria-labelledby="review-text">
        <h3 id="review-text" class="utrecht-heading-3">{st('mod.text')}</h3>
        <p class="utrecht-paragraph vh-muted" id="review-text-help">{st('mod.text.help')}</p>
        {/* Editable only so that the keyboard has a caret to select
            with (Shift and the arrow keys); every change is refused, and
            should one slip through (an input method), the text is drawn
            anew from the entry. */}
        <p ref={textRef} key={`text-${redraw}`} class="utrecht-paragraph vh-redact-text" data-testid="entry-text"
          contentEditable role="textbox" aria-readonly="true" aria-multiline="true" spellcheck={false}
          aria-labelledby="review-text" aria-describedby="review-text-help"
          onBeforeInput={refuse} onPaste={refuse} onDrop={refuse} onCut={refuse}
          onInput={() => setRedraw((n) => n + 1)}>{parts}</p>
        <div class="vh-buttons">
          <div class="utrecht-form-field vh-inline">
            <label class="utrecht-form-label" for="mod-repl">{st('mod.replacement')}</label>
            <select id="mod-repl" class="utrecht-select utrecht-select--html-select" value={replacement}
              onChange={(ev) => setReplacement((ev.target as HTMLSelectElement).value)}>
              {REPLACEMENTS.map((r) => <option key={r} value={r}>{r}</option>)}
            </select>
          </div>
          <button type="button" class="utrecht-button utrecht-button--secondary-action" onMouseDown={(ev) => ev.preventDefault()} onClick={addSelection}>
            {st('mod.select.add')}</button>
        </div>
        {selNote && <p class="utrecht-paragraph vh-error" role="alert">{selNote}</p>}
        {pending.length > 0 && (
          <ul class="vh-pending-list" aria-label={st('mod.pending')}>
            {pending.map((p, i) => (
              <li key={p.start}>
                {st('mod.pending.item', { text: text.slice(p.start, p.end), r: p.replacement })}{' '}
                <button type="button" class="utrecht-button utrecht-button--subtle"
                  onClick={() => setPending(pending.filter((_, j) => j !== i))}>{st('mod.pending.remove')}</button>
              </li>
            ))}
          </ul>
        )}
      </section>

      {audio.map((m) => (
        <section key={m} aria-labelledby={`review-audio-${m}`}>
          <h3 id={`review-audio-${m}`} class="utrecht-heading-3">{st('mod.recording')}</h3>
          <GolfvormLazy media={m} ranges={mutes[m] ?? []} onChange={(rs: Range[]) => { setSaveMsg(null); setMutes((x) => ({ ...x, [m]: rs })); }} />
        </section>
      ))}

      <div class="vh-buttons">
        <button type="button" class="utrecht-button utrecht-button--primary-action" onClick={save}>{st('mod.save')}</button>
      </div>
      {saveMsg && <p class={`utrecht-paragraph ${saveMsg.ok ? 'vh-ok' : 'vh-error'}`} role={saveMsg.ok ? 'status' : 'alert'}>{saveMsg.text}</p>}

      <Correct e={e} onSaved={load} />

      <section aria-labelledby="review-decide">
        <h3 id="review-decide" class="utrecht-heading-3">{st('mod.decide')}</h3>
        <div class="vh-buttons">
          <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => decide('approve')}>{st('mod.approve')}</button>
          <button type="button" class="utrecht-button utrecht-button--primary-action" onClick={() => decide('publish')}>{st('mod.publish')}</button>
          <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => setRejecting(true)}>{st('mod.reject')}</button>
        </div>
        {decision && <p class={`utrecht-paragraph ${decision.ok ? 'vh-ok' : 'vh-error'}`} role={decision.ok ? 'status' : 'alert'}>{decision.text}</p>}
      </section>
      <RejectDialog open={rejecting} onClose={() => setRejecting(false)} onReject={(r) => decide('reject', r)} />

      <section aria-labelledby="review-history">
        <h3 id="review-history" class="utrecht-heading-3">{st('mod.history')}</h3>
        <Geschiedenis items={hist} />
      </section>
    </article>
  );
}

function RejectDialog(props: { open: boolean; onClose: () => void; onReject: (reason: string) => Promise<void> }) {
  const [reason, setReason] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    setErr(null);
    if (!reason.trim()) { setErr(st('mod.reject.required')); return; }
    try { await props.onReject(reason.trim()); setReason(''); } catch (e) { setErr(problem(e)); }
  };
  return (
    <Dialog open={props.open} title={st('mod.reject.title')} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <div class={`utrecht-form-field${err ? ' utrecht-form-field--invalid' : ''}`}>
          <label class="utrecht-form-label" for="reject-reason">{st('mod.reject.reason')}</label>
          <textarea id="reject-reason" class="utrecht-textarea" rows={4} value={reason} maxLength={2000}
            aria-invalid={err ? 'true' : undefined} aria-describedby={err ? 'reject-error' : undefined}
            onInput={(ev) => setReason((ev.target as HTMLTextAreaElement).value)} />
          {err && <p id="reject-error" class="utrecht-form-field-error-message" role="alert">{err}</p>}
        </div>
        <div class="vh-buttons">
          <button type="submit" class="utrecht-button utrecht-button--primary-action">{st('mod.reject.confirm')}</button>
          <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={props.onClose}>{st('cancel')}</button>
        </div>
      </form>
    </Dialog>
  );
}

// Title, themes and buurt, corrected by the moderator (audited as edit).
function Correct(props: { e: Entry; onSaved: () => void }) {
  const [open, setOpen] = useState(false);
  const [title, setTitle] = useState(props.e.title ?? '');
  const [th, setTh] = useState<string[]>(props.e.themes);
  const [area, setArea] = useState(props.e.area?.code ?? '');
  const [all, setAll] = useState<Theme[]>([]);
  const [buurten, setBuurten] = useState<Area[]>([]);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    if (!open) return;
    getThemes().then(setAll, () => undefined);
    getAreas('buurt').then(setBuurten, () => undefined);
  }, [open]);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    setMsg(null);
    try {
      await editEntry(props.e.id, { title, themes: th, area: area || null });
      setMsg({ ok: true, text: st('mod.correct.done') });
      props.onSaved();
    } catch (e) { setMsg({ ok: false, text: problem(e) }); }
  };
  return (
    <details class="vh-correct" onToggle={(ev) => setOpen((ev.target as HTMLDetailsElement).open)}>
      <summary>{st('mod.correct')}</summary>
      <form onSubmit={submit}>
        <div class="utrecht-form-field">
          <label class="utrecht-form-label" for="corr-title">{st('field.title')}</label>
          <input id="corr-title" class="utrecht-textbox" value={title} maxLength={500} onInput={(ev) => setTitle((ev.target as HTMLInputElement).value)} />
        </div>
        <fieldset class="utrecht-form-fieldset">
          <legend class="utrecht-form-fieldset__legend">{st('field.themes')}</legend>
          {all.map((t) => (
            <div key={t.slug} class="utrecht-form-field utrecht-form-field--checkbox">
              <input type="checkbox" id={`corr-th-${t.slug}`} class="utrecht-checkbox utrecht-checkbox--html-input" checked={th.includes(t.slug)}
                onChange={(ev) => setTh((ev.target as HTMLInputElement).checked ? [...th, t.slug] : th.filter((x) => x !== t.slug))} />
              <label class="utrecht-form-label utrecht-form-label--checkbox" for={`corr-th-${t.slug}`}>{t.title}</label>
            </div>
          ))}
        </fieldset>
        <div class="utrecht-form-field">
          <label class="utrecht-form-label" for="corr-area">{st('field.area')}</label>
          <select id="corr-area" class="utrecht-select utrecht-select--html-select" value={area} onChange={(ev) => setArea((ev.target as HTMLSelectElement).value)}>
            <option value="">{st('mod.correct.noarea')}</option>
            {props.e.area && !buurten.some((b) => b.code === props.e.area!.code) && <option value={props.e.area.code}>{props.e.area.name}</option>}
            {buurten.map((b) => <option key={b.code} value={b.code}>{b.name}</option>)}
          </select>
        </div>
        <button type="submit" class="utrecht-button utrecht-button--secondary-action">{st('mod.correct.save')}</button>
        {msg && <p class={`utrecht-paragraph ${msg.ok ? 'vh-ok' : 'vh-error'}`} role={msg.ok ? 'status' : 'alert'}>{msg.text}</p>}
      </form>
    </details>
  );
}
