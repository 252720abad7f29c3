// Sign-in: name and password, with the throttling and lock-out answers
// of POST /api/v1/session in plain Dutch beside the form.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, signIn, type Session } from '../shared/api';
import { t, type MessageKey } from '../shared/i18n';

export function Inloggen({ notice, onSignedIn }: { notice: MessageKey | null; onSignedIn: (s: Session) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const errorRef = useRef<HTMLDivElement>(null);

  useEffect(() => { if (error) errorRef.current?.focus(); }, [error]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name.trim() || !password) {
      setError(t('signin.missing'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(name.trim(), password));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t('error.network'));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="vh-signin" aria-labelledby="signin-title">
      <h1 id="signin-title" class="utrecht-heading-1">{t('signin.title')}</h1>
      <p class="utrecht-paragraph">{t('signin.intro')}</p>
      {notice && !error && (
        <div class="utrecht-alert utrecht-alert--info vh-alert" role="status">
          <p class="utrecht-paragraph">{t(notice)}</p>
        </div>
      )}
      {error && (
        <div class="utrecht-alert utrecht-alert--error vh-alert" role="alert" tabIndex={-1} ref={errorRef} id="signin-error">
          <p class="utrecht-paragraph">{error}</p>
        </div>
      )}
      <form class="utrecht-form" onSubmit={submit} noValidate>
        <div class="utrecht-form-field utrecht-form-field--text">
          <div class="utrecht-form-field__label">
            <label class="utrecht-form-label" for="signin-name">{t('signin.name')}</label>
          </div>
          <div class="utrecht-form-field__input">
            <input id="signin-name" name="username" class="utrecht-textbox utrecht-textbox--html-input" autoComplete="username"
              value={name} onInput={(e) => setName(e.currentTarget.value)} aria-describedby={error ? 'signin-error' : undefined}
              aria-invalid={error ? 'true' : undefined} required />
          </div>
        </div>
        <div class="utrecht-form-field utrecht-form-field--text">
          <div class="utrecht-form-field__label">
            <label class="utrecht-form-label" for="signin-password">{t('signin.password')}</label>
          </div>
          <div class="utrecht-form-field__input">
            <input id="signin-password" name="password" type="password" class="utrecht-textbox utrecht-textbox--html-input"
              autoComplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)}
              aria-invalid={error ? 'true' : undefined} required />
          </div>
        </div>
        <button type="submit" class="utrecht-button utrecht-button--primary-action" aria-disabled={busy ? 'true' : undefined}
          disabled={busy}>{busy ? t('signin.busy') : t('signin.submit')}</button>
      </form>
    </section>
  );
}
