// Waarom en wie leest het: what the story is for, who reads it, how long
// it is kept (from the retention config), how to withdraw.
import type { Settings } from './api';
import { t } from './i18n';

export function Waarom({ settings }: { settings: Settings | null }) {
  const days = settings ? Math.max(...Object.values(settings.retention_days)) : 0;
  const never = settings ? Object.values(settings.retention_days).some((d) => d === 0) : false;
  return (
    <div>
      <p class="utrecht-paragraph">{t('why.p1')}</p>
      <p class="utrecht-paragraph">{t('why.p2')}</p>
      {settings && <p class="utrecht-paragraph" data-testid="retention">{never || days === 0 ? t('why.keepForever') : t('why.keep', { days })}</p>}
      <p class="utrecht-paragraph">{t('why.withdraw')}</p>
      <p class="utrecht-paragraph">{t('why.noAccount')}</p>
    </div>
  );
}
