// The receipt code field of the status and withdrawal pages.
import { useState } from 'preact/hooks';
import { t } from './i18n';

export function CodeForm({ id, submit, onSubmit, busy }: {
  id: string; submit: string; busy: boolean; onSubmit: (code: string) => void;
}) {
  const [code, setCode] = useState('');
  const [missing, setMissing] = useState(false);
  return (
    <form class="vh-form" noValidate onSubmit={(e) => {
      e.preventDefault();
      const c = code.trim();
      setMissing(c === '');
      if (c) onSubmit(c);
    }}>
      <div class="utrecht-form-field">
        <label class="utrecht-form-label" for={id}>{t('code.label')}</label>
        <p class="utrecht-form-field-description" id={`${id}-hint`}>{t('code.hint')}</p>
        <input id={id} class="utrecht-textbox utrecht-textbox--html-input vh-code-input" type="text" autoComplete="off"
          spellcheck={false} autoCapitalize="none" aria-describedby={`${id}-hint`} aria-invalid={missing}
          value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
        {missing && <p class="utrecht-form-field-error-message" role="alert">{t('code.required')}</p>}
      </div>
      <button type="submit" class="utrecht-button utrecht-button--primary-action" disabled={busy}>{submit}</button>
    </form>
  );
}
