// Placeholder: the werkbezoek page is built on branch h/odk.
import { render } from 'preact';
import '../shared/theme';
import { t } from '../shared/i18n';

function Page() {
  return (
    <main id="inhoud" class="vh-main">
      <h1 class="utrecht-heading-1">{t('werkbezoek.title')}</h1>
      <p class="utrecht-paragraph">{t('werkbezoek.soon')}</p>
    </main>
  );
}

render(<Page />, document.getElementById('app')!);
