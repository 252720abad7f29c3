// Withdrawal: the receipt code, a preview of what will be erased, then
// confirmation, then that it is done.
import { useState } from 'preact/hooks';
import { api, type StoryState } from './api';
import { CodeForm } from './CodeForm';
import { t } from './i18n';

export function IntrekkenPagina() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [code, setCode] = useState('');
  const [preview, setPreview] = useState<StoryState | null>(null);
  const [done, setDone] = useState(false);
  const w = preview?.withdrawal_removes;
  return (
    <section aria-labelledby="vh-withdraw-title">
      <h1 class="utrecht-heading-1" id="vh-withdraw-title">{t('withdraw.title')}</h1>
      {!done && !preview && <>
        <p class="utrecht-paragraph">{t('withdraw.intro')}</p>
        <CodeForm id="vh-withdraw-code" submit={t('withdraw.check')} busy={busy} onSubmit={async (c) => {
          setBusy(true); setError('');
          try { setPreview(await api.storyState(c)); setCode(c); } catch (e) { setError((e as Error).message); }
          setBusy(false);
        }} />
      </>}
      {preview && w && !done && (
        <div class="vh-result">
          <h2 class="utrecht-heading-2">{t('withdraw.willRemove')}</h2>
          <ul class="utrecht-unordered-list">
            {w.recordings > 0 && <li>{t('withdraw.recordings', { n: w.recordings })}</li>}
            {w.photos > 0 && <li>{t('withdraw.photos', { n: w.photos })}</li>}
            {w.files > w.recordings + w.photos && <li>{t('withdraw.files', { n: w.files - w.recordings - w.photos })}</li>}
            {w.title && <li>{t('withdraw.titleField')}</li>}
            {w.text && <li>{t('withdraw.text')}</li>}
            <li>{t('withdraw.consent')}</li>
          </ul>
          <p class="utrecht-paragraph"><strong>{t('withdraw.final')}</strong></p>
          <div class="vh-buttons">
            <button type="button" class="utrecht-button utrecht-button--primary-action" disabled={busy} onClick={async () => {
              setBusy(true); setError('');
              try { await api.withdraw(code); setDone(true); } catch (e) { setError((e as Error).message); }
              setBusy(false);
            }}>{t('withdraw.confirm')}</button>
            <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => { setPreview(null); setCode(''); }}>
              {t('withdraw.cancel')}</button>
          </div>
        </div>
      )}
      <div aria-live="polite">
        {error && <p class="utrecht-paragraph vh-error" role="alert">{error}</p>}
        {done && <p class="utrecht-paragraph" data-testid="withdrawn"><strong>{t('withdraw.done')}</strong></p>}
      </div>
    </section>
  );
}
