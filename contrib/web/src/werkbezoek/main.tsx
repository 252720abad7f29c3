// Werkbezoek invullen: the werkbezoek XForm in the browser, through ODK
// Web Forms, for a field worker who is signed in (the session cookie
// carries the request to /odk/…, as ODK Collect's token does).
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import '../shared/theme';
import { t } from '../shared/i18n';
import type { OpenRosaAnswer } from '../shared/api';

function WerkbezoekInvullen() {
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<'laden' | 'klaar' | 'fout'>('laden');
  const [answer, setAnswer] = useState<OpenRosaAnswer | null>(null);
  // Send was pressed while a photo was still being scaled down: it goes
  // as soon as the form holds the photo.
  const [waiting, setWaiting] = useState(false);

  useEffect(() => {
    let mounted: { unmount(): void } | null = null;
    import('./OdkFormulier')
      .then((m) => m.mountOdkFormulier(host.current!, setAnswer, setWaiting))
      .then((m) => { mounted = m; setState('klaar'); })
      .catch(() => setState('fout'));
    return () => mounted?.unmount();
  }, []);

  return (
    <main id="inhoud" class="vh-main">
      <h1 class="utrecht-heading-1">{t('werkbezoek.title')}</h1>
      <p class="utrecht-paragraph">{t('werkbezoek.intro')}</p>
      {state === 'laden' && <p class="utrecht-paragraph" role="status">{t('werkbezoek.loading')}</p>}
      {state === 'fout' && <p class="utrecht-paragraph" role="alert">{t('werkbezoek.load-failed')}</p>}
      <div ref={host} />
      <p class="utrecht-paragraph" role="status" aria-live="polite">
        {waiting && !answer && t('werkbezoek.waiting-attachments')}
        {answer && (answer.status === 201 ?
          t('werkbezoek.sent', { message: answer.message }) :
          t('werkbezoek.failed', { status: String(answer.status), message: answer.message }))}
      </p>
    </main>
  );
}

render(<WerkbezoekInvullen />, document.getElementById('app')!);
