// Versturen: the story goes up with tus (tus-js-client) in small chunks,
// each one durable on the server before the next. A lost connection is
// retried, and continued when the browser is online again; a closed page
// continues from the stored story (IndexedDB) when it is opened again.
// The receipt comes with the last PATCH (Upload-Receipt); when that
// answer is lost, the page asks for it again with the device secret.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Upload } from 'tus-js-client';
import { api, link, uploadEndpoint } from './api';
import { pending, type Pending } from './store';
import { t } from './i18n';

// One photo, added to the story the same device sent (tus entry_id +
// device), retried like the story.
function sendPhoto(photo: Pending['photos'][number], entry: number, device: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const u = new Upload(photo.blob, {
      endpoint: uploadEndpoint,
      headers: { 'X-Upload-Key': link.key },
      metadata: { filename: photo.name, filetype: photo.type, entry_id: String(entry), device },
      chunkSize: 64 * 1024,
      retryDelays: [0, 1000, 2000, 4000, 8000, 15000, 30000],
      storeFingerprintForResuming: false,
      onError: reject,
      onSuccess: () => resolve(),
    });
    u.start();
  });
}

export function Versturen({ story, resumed, onDone }: {
  story: Pending; resumed: boolean; onDone: (receipt: string) => void;
}) {
  const [pct, setPct] = useState(0);
  const [state, setState] = useState<'busy' | 'offline' | 'failed' | 'receipt'>('busy');
  const up = useRef<Upload | null>(null);
  const done = useRef(false);

  useEffect(() => {
    let receipt: string | null = null;
    let entry = 0;
    let url = story.uploadUrl;
    const u = new Upload(story.blob, {
      endpoint: uploadEndpoint,
      uploadUrl: story.uploadUrl ?? undefined,
      headers: { 'X-Upload-Key': link.key },
      metadata: story.metadata,
      chunkSize: 16 * 1024,
      retryDelays: [0, 1000, 2000, 4000, 8000, 15000, 30000],
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      onUploadUrlAvailable: () => {
        url = u.url;
        void pending.put({ ...story, uploadUrl: u.url });
      },
      onProgress: (sent, total) => { setPct(total ? Math.floor((sent / total) * 100) : 0); setState('busy'); },
      onAfterResponse: (_req, res) => {
        const r = res.getHeader('Upload-Receipt');
        if (r) receipt = r;
        const e = res.getHeader('Upload-Entry');
        if (e) entry = Number(e);
      },
      onError: () => setState(navigator.onLine ? 'failed' : 'offline'),
      onSuccess: async () => {
        setPct(100);
        if (!receipt && url) {
          setState('receipt');
          // The answer carrying the receipt was lost: ask again, as
          // this device, until the server answers.
          for (let i = 0; !receipt && i < 20; i++) {
            try {
              const again = await api.receiptAgain(url, story.metadata.device);
              receipt = again.receipt;
              entry = again.entry;
            } catch {
              await new Promise((r) => setTimeout(r, Math.min(10000, 1000 * (i + 1))));
            }
          }
        }
        if (!receipt) { setState('failed'); return; }
        for (const photo of story.photos ?? []) {
          try { await sendPhoto(photo, entry, story.metadata.device); } catch { /* the story itself is in */ }
        }
        done.current = true;
        await pending.remove(link.slug);
        onDone(receipt);
      },
    });
    up.current = u;
    u.start();
    const online = () => { if (!done.current) { setState('busy'); u.start(); } };
    window.addEventListener('online', online);
    return () => { window.removeEventListener('online', online); if (!done.current) void u.abort(); };
  }, []);

  return (
    <div>
      {resumed && <p class="utrecht-paragraph">{t('send.resumed')}</p>}
      <p class="utrecht-paragraph">{t('send.intro')}</p>
      <label class="utrecht-form-label" for="vh-progress">{t('send.progress')}</label>
      <progress id="vh-progress" class="vh-progress" max={100} value={pct}>{pct}%</progress>
      <p class="utrecht-paragraph" aria-live="polite">
        {state === 'busy' ? `${t('send.busy')} ${pct}%` : state === 'offline' ? t('send.offline')
          : state === 'receipt' ? t('send.receiptLookup') : t('send.failed')}
      </p>
      {state === 'failed' && (
        <button type="button" class="utrecht-button utrecht-button--primary-action" onClick={() => { setState('busy'); up.current?.start(); }}>
          {t('send.retry')}
        </button>
      )}
    </div>
  );
}
