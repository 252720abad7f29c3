// Bedankt: the receipt code, large, to copy or save as an image, and how
// to use it to withdraw.
import { useState } from 'preact/hooks';
import { t } from './i18n';

function saveImage(code: string) {
  const c = document.createElement('canvas');
  c.width = 1200;
  c.height = 360;
  const g = c.getContext('2d');
  if (!g) return;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, c.width, c.height);
  g.fillStyle = '#000';
  g.font = 'bold 40px sans-serif';
  g.fillText(t('thanks.code'), 40, 80);
  g.font = '36px monospace';
  g.fillText(code, 40, 180);
  g.font = '28px sans-serif';
  g.fillText(location.host, 40, 280);
  const a = document.createElement('a');
  a.href = c.toDataURL('image/png');
  a.download = 'ontvangstcode.png';
  a.click();
}

export function Bedankt({ receipt, onAnother }: { receipt: string; onAnother: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div>
      <p class="utrecht-paragraph">{t('thanks.p1')}</p>
      <h2 class="utrecht-heading-2" id="vh-code-label">{t('thanks.code')}</h2>
      <p class="vh-receipt" aria-labelledby="vh-code-label" data-testid="receipt">{receipt}</p>
      <p class="utrecht-paragraph">{t('thanks.keep')}</p>
      <div class="vh-buttons">
        <button type="button" class="utrecht-button utrecht-button--primary-action"
          onClick={() => { void navigator.clipboard?.writeText(receipt).then(() => setCopied(true)); }}>{t('thanks.copy')}</button>
        <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => saveImage(receipt)}>{t('thanks.image')}</button>
      </div>
      <p class="utrecht-paragraph" aria-live="polite">{copied ? t('thanks.copied') : ''}</p>
      <p class="utrecht-paragraph">{t('thanks.withdraw')}</p>
      <button type="button" class="utrecht-button utrecht-button--subtle" onClick={onAnother}>{t('thanks.another')}</button>
    </div>
  );
}
