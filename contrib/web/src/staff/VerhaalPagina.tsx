import { t } from '../shared/i18n';
import type { PageProps } from './routes';

export function VerhaalPagina(_: PageProps) {
  return <h1 class="utrecht-heading-1">{t('entry.story')}</h1>;
}
