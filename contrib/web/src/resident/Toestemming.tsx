// Toestemming: the collection's consent text, in the language it was
// written in (lang on the element), with its version, and the scope
// choices. Nothing is chosen for the resident; the exact version and
// language shown are what the upload records.
import type { Consent } from './api';
import { t, currentLang } from './i18n';

export const SCOPES = ['analysis_only', 'quote_anonymised', 'audio_to_staff', 'publish'] as const;
export type Scope = typeof SCOPES[number];

export function Toestemming({ consent, scope, onScope, showError }: {
  consent: Consent | null; scope: Scope | null; onScope: (s: Scope) => void; showError: boolean;
}) {
  if (!consent) return <p class="utrecht-paragraph vh-error" role="alert">{t('consent.none')}</p>;
  const other = consent.language.split('-')[0] !== currentLang();
  return (
    <div>
      <p class="utrecht-paragraph">{t('consent.intro')}</p>
      {other && <p class="utrecht-paragraph">{t('consent.otherLanguage')}</p>}
      <section class="vh-consent" aria-label={t('consent.textLabel')} lang={consent.language}
        dir={consent.language.startsWith('ar') ? 'rtl' : 'ltr'} data-testid="consent-text">
        {consent.text.split(/\n{2,}/).map((p) => <p class="utrecht-paragraph">{p}</p>)}
      </section>
      <p class="utrecht-paragraph vh-version" data-testid="consent-version">{t('consent.version', { version: consent.version })}</p>
      <fieldset class="utrecht-form-fieldset vh-fieldset" aria-describedby={showError ? 'vh-scope-error' : undefined}>
        <legend class="utrecht-form-fieldset__legend">{t('consent.legend')}</legend>
        {showError && !scope && <p id="vh-scope-error" class="utrecht-form-field-error-message" role="alert">{t('consent.required')}</p>}
        {SCOPES.map((s) => (
          <div class="utrecht-form-field utrecht-form-field--radio vh-radio">
            <input type="radio" class="utrecht-radio-button" id={`vh-scope-${s}`} name="scope" value={s}
              checked={scope === s} onChange={() => onScope(s)} />
            <label class="utrecht-form-label utrecht-form-label--radio" for={`vh-scope-${s}`}>{t(`consent.${s}`)}</label>
          </div>
        ))}
      </fieldset>
    </div>
  );
}
