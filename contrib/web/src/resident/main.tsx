// The resident's page: the steps from "why" to the receipt, and the
// status and withdrawal pages (#status, #intrekken), linked from every
// step. Opened from a collection's upload link; it talks to this origin
// only. A story still waiting in IndexedDB is sent on first.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import '../shared/theme';
import './resident.css';
import { api, link, type Collection, type Settings } from './api';
import { LANGS, currentLang, setLang, spoken, t, type Lang } from './i18n';
import { deviceSecret, pending, type Pending } from './store';
import { Waarom } from './Waarom';
import { Toestemming, type Scope } from './Toestemming';
import { Opnemen, type Recording } from './Opnemen';
import { MeerVertellen, type More } from './MeerVertellen';
import { Versturen } from './Versturen';
import { Bedankt } from './Bedankt';
import { StatusPagina } from './StatusPagina';
import { IntrekkenPagina } from './IntrekkenPagina';
import type { MessageKey } from './messages.nl';

const STEPS: MessageKey[] = ['step.why', 'step.consent', 'step.record', 'step.more', 'step.send', 'step.thanks'];
type View = 'steps' | 'status' | 'withdraw';
// An address refused for guessing links (429, vh_api_resident_refused):
// the server put the wait, in seconds, in a meta element of this page.
const refusedFor = (() => {
  const v = document.querySelector('meta[name="verhaal-refused"]')?.getAttribute('content');
  return v == null ? null : Math.max(1, Number(v) || 60);
})();
const viewOf = (): View => (location.hash === '#status' ? 'status' : location.hash === '#intrekken' ? 'withdraw' : 'steps');

function App() {
  const [lang, setL] = useState<Lang>(currentLang());
  const [view, setView] = useState<View>(viewOf());
  const [step, setStep] = useState(0);
  const [collection, setCollection] = useState<Collection | null>(null);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [scope, setScope] = useState<Scope | null>(null);
  const [recording, setRecording] = useState<Recording | null>(null);
  const [more, setMore] = useState<More>({ text: '', area: '', photos: [] });
  const [story, setStory] = useState<Pending | null>(null);
  const [resumed, setResumed] = useState(false);
  const [receipt, setReceipt] = useState('');
  const [error, setError] = useState('');

  useEffect(() => {
    const f = () => setView(viewOf());
    window.addEventListener('hashchange', f);
    api.settings().then(setSettings).catch(() => setSettings(null));
    // A story that was not acknowledged yet: continue sending it
    // (once this address may send again).
    if (refusedFor === null) pending.get(link.slug).then((p) => {
      if (p) { setStory(p); setResumed(true); setStep(4); }
    }).catch(() => {});
    return () => window.removeEventListener('hashchange', f);
  }, []);

  useEffect(() => {
    setLang(lang);
    api.collection(lang).then(async (c) => {
      // No text in this language: the text in the language it was written in.
      setCollection(c.consent ? c : await api.collection('nl'));
    }).catch((e: Error) => setError(e.message));
  }, [lang]);

  useEffect(() => {
    document.getElementById('vh-step-title')?.focus();
  }, [step, view]);

  const [tried, setTried] = useState(false);
  async function next() {
    setTried(true);
    if (step === 1 && !scope) return;
    if (step === 3 && !recording && more.text.trim() === '') return;
    setTried(false);
    if (step === 3) {
      const consent = collection!.consent!;
      const meta: Record<string, string> = {
        kind: 'story',
        consent: JSON.stringify({ scope, version: consent.version, language: consent.language }),
        device: deviceSecret(),
      };
      if (more.area) meta.area = more.area;
      let blob: Blob, filename: string, type: string;
      if (recording) {
        blob = recording.blob;
        type = recording.type;
        filename = `verhaal.${/mp4/.test(type) ? 'm4a' : /ogg/.test(type) ? 'ogg' : 'webm'}`;
        if (more.text.trim()) meta.text = more.text.trim();
      } else {
        blob = new Blob([more.text.trim() + '\n'], { type: 'text/plain' });
        type = 'text/plain';
        filename = 'verhaal.txt';
      }
      meta.filename = filename;
      meta.filetype = type;
      const photos = more.photos.map((f) => ({ blob: f as Blob, name: f.name, type: f.type || 'image/jpeg' }));
      const p: Pending = { slug: link.slug, blob, filename, type, metadata: meta, uploadUrl: null, photos, createdAt: Date.now() };
      // Kept before a byte is sent, until the server acknowledges it.
      await pending.put(p);
      setStory(p);
      setResumed(false);
    }
    setStep(step + 1);
  }

  const nav = (
    <nav class="vh-links" aria-label={t('nav.label')}>
      <ul class="vh-links__list">
        {view !== 'steps' && <li><a class="utrecht-link" href="#">{t('nav.back')}</a></li>}
        <li><a class="utrecht-link" href="#status" aria-current={view === 'status' ? 'page' : undefined}>{t('nav.status')}</a></li>
        <li><a class="utrecht-link" href="#intrekken" aria-current={view === 'withdraw' ? 'page' : undefined}>{t('nav.withdraw')}</a></li>
      </ul>
    </nav>
  );

  return (
    <>
      <a class="vh-skip utrecht-link" href="#inhoud">{t('page.skip')}</a>
      <header class="vh-header">
        <div class="vh-header__inner">
          <p class="vh-brand">{collection?.title ?? t('page.title')}</p>
          <div class="vh-lang">
            <label class="utrecht-form-label" for="vh-lang">{t('page.language')}</label>
            <select id="vh-lang" class="utrecht-select utrecht-select--html-select" value={lang}
              onChange={(e) => {
                // Before the render, so that every text of it is in the new language.
                const l = (e.target as HTMLSelectElement).value as Lang;
                setLang(l);
                setL(l);
              }}>
              {LANGS.map((l) => <option value={l.code} lang={l.code}>{l.name}</option>)}
            </select>
          </div>
        </div>
      </header>
      <main id="inhoud" class="vh-main" tabIndex={-1}>
        {error && <p class="utrecht-paragraph vh-error" role="alert">{error}</p>}
        {view === 'status' && <StatusPagina />}
        {view === 'withdraw' && <IntrekkenPagina />}
        {view === 'steps' && refusedFor !== null && (
          <>
            <h1 class="utrecht-heading-1" id="vh-step-title" tabIndex={-1}>{t('refused.title')}</h1>
            <p class="utrecht-paragraph">{t('refused.why')}</p>
            <p class="utrecht-paragraph" data-testid="refused-wait">{t('refused.wait', { wait: spoken(refusedFor) })}</p>
            <p class="utrecht-paragraph">{t('refused.safe')}</p>
            <div class="vh-buttons">
              <button type="button" class="utrecht-button utrecht-button--primary-action" onClick={() => location.reload()}>{t('refused.again')}</button>
            </div>
          </>
        )}
        {view === 'steps' && refusedFor === null && (
          <>
            <p class="vh-stepcount">{t('steps.of', { n: step + 1, total: STEPS.length })}</p>
            <ol class="vh-steps" aria-label={t('steps.label')}>
              {STEPS.map((s, i) => <li class={i === step ? 'vh-steps__current' : ''} aria-current={i === step ? 'step' : undefined}>{t(s)}</li>)}
            </ol>
            <h1 class="utrecht-heading-1" id="vh-step-title" tabIndex={-1}>{t(STEPS[step])}</h1>
            {step === 0 && <Waarom settings={settings} />}
            {step === 1 && <Toestemming consent={collection?.consent ?? null} scope={scope} onScope={setScope} showError={tried} />}
            {step === 2 && <Opnemen maxS={settings?.max_recording_s ?? 600} value={recording} onChange={setRecording} />}
            {step === 3 && <MeerVertellen value={more} onChange={setMore} />}
            {step === 3 && tried && !recording && !more.text.trim() &&
              <p class="utrecht-form-field-error-message" role="alert">{t('more.needSomething')}</p>}
            {step === 4 && story && <Versturen story={story} resumed={resumed} onDone={(r) => { setReceipt(r); setStep(5); }} />}
            {step === 5 && <Bedankt receipt={receipt} onAnother={() => {
              setRecording(null); setMore({ text: '', area: '', photos: [] }); setStory(null); setScope(null); setStep(0);
            }} />}
            {step < 4 && (
              <div class="vh-buttons vh-stepnav">
                {step > 0 && <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => setStep(step - 1)}>{t('button.back')}</button>}
                <button type="button" class="utrecht-button utrecht-button--primary-action"
                  disabled={step === 1 && !collection?.consent} onClick={next}>{step === 3 ? t('send.button') : t('button.next')}</button>
              </div>
            )}
          </>
        )}
        {nav}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
