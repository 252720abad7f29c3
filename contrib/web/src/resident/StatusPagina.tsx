// "Wat is er met mijn verhaal gebeurd?": the story's state by its receipt
// code, in plain words; never a moderator's reason.
import { useState } from 'preact/hooks';
import { api, type StoryState } from './api';
import { CodeForm } from './CodeForm';
import { t, formatDate } from './i18n';

export function StatusPagina() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [state, setState] = useState<StoryState | null>(null);
  return (
    <section aria-labelledby="vh-status-title">
      <h1 class="utrecht-heading-1" id="vh-status-title">{t('status.title')}</h1>
      <p class="utrecht-paragraph">{t('status.intro')}</p>
      <CodeForm id="vh-status-code" submit={t('status.submit')} busy={busy} onSubmit={async (code) => {
        setBusy(true); setError(''); setState(null);
        try { setState(await api.storyState(code)); } catch (e) { setError((e as Error).message); }
        setBusy(false);
      }} />
      <div aria-live="polite">
        {error && <p class="utrecht-paragraph vh-error" role="alert">{error}</p>}
        {state && (
          <div class="vh-result" data-testid="story-state" data-state={state.state}>
            <p class="utrecht-paragraph"><strong>{t(`status.${state.state}`)}</strong></p>
            {state.redacted && <p class="utrecht-paragraph">{t('status.redacted')}</p>}
            <p class="utrecht-paragraph">{t('status.receivedOn', { date: formatDate(state.received_on) })}</p>
          </div>
        )}
      </div>
    </section>
  );
}
