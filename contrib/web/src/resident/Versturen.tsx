// Versturen: the story goes up with tus (tus-js-client), then its
// photos. Chunks start small and grow (chunking below), each one durable
// on the server before the next. A lost connection is retried, and
// continued when the browser is online again; a closed page continues
// from the stored story (IndexedDB) when it is opened again, with every
// upload's address stored before its first byte is sent, so that no
// story or photo is sent twice.
// The receipt comes with the last PATCH (Upload-Receipt); when that
// answer is lost, the page asks for it again with the device secret.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Upload, type UploadOptions } from 'tus-js-client';
import { api, link, uploadEndpoint } from './api';
import { pending, type Pending, type PendingPhoto } from './store';
import { t } from './i18n';

// The first chunk is small, so a poor connection makes durable progress
// at once; each next one is four times the last, up to 4 MiB (minutes of
// speech or a phone's photo in a few requests, not hundreds). After a
// failure they start small again. verhaald takes any PATCH size up to
// max_upload_size and streams it to disk.
export const FIRST_CHUNK = 16 * 1024;
export const MAX_CHUNK = 4 * 1024 * 1024;

function chunking(get: () => Upload | null): Partial<UploadOptions> {
  return {
    chunkSize: FIRST_CHUNK,
    onChunkComplete: () => {
      const u = get();
      if (u) u.options.chunkSize = Math.min(MAX_CHUNK, (u.options.chunkSize ?? FIRST_CHUNK) * 4);
    },
    // tus-js-client's own rule (server errors, 409 and 423 again, not
    // while offline), with the chunks made small again.
    onShouldRetry: (err) => {
      const u = get();
      if (u) u.options.chunkSize = FIRST_CHUNK;
      const s = err.originalResponse?.getStatus() ?? 0;
      return (s < 400 || s >= 500 || s === 409 || s === 423) && navigator.onLine;
    },
  };
}

const RETRY = [0, 1000, 2000, 4000, 8000, 15000, 30000];

// One photo, added to the story the same device sent (tus entry_id +
// device), retried like the story; resumed at photo.uploadUrl if it has
// one. keep(url) stores the address before any byte goes.
function sendPhoto(photo: PendingPhoto, entry: number, device: string,
  keep: (url: string) => Promise<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    let saving: Promise<unknown> = Promise.resolve();
    let u: Upload | null = null;
    u = new Upload(photo.blob, {
      ...chunking(() => u),
      endpoint: uploadEndpoint,
      uploadUrl: photo.uploadUrl ?? undefined,
      headers: { 'X-Upload-Key': link.key },
      metadata: { filename: photo.name, filetype: photo.type, entry_id: String(entry), device },
      retryDelays: RETRY,
      storeFingerprintForResuming: false,
      onUploadUrlAvailable: () => { if (u?.url && u.url !== photo.uploadUrl) saving = keep(u.url); },
      onBeforeRequest: async () => { await saving.catch(() => undefined); },
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
  const closed = useRef(false);
  // The stored story as it is now; every change is written through.
  const cur = useRef<Pending>(story);
  const save = (p: Partial<Pending>) => {
    cur.current = { ...cur.current, ...p };
    return pending.put(cur.current);
  };

  async function photos(receipt: string, entry: number) {
    const device = cur.current.metadata.device;
    const list = cur.current.photos ?? [];
    for (let i = 0; i < list.length; i++) {
      if (closed.current) return;
      if (cur.current.photos[i].done) continue;
      const setPhoto = (p: Partial<PendingPhoto>) =>
        save({ photos: cur.current.photos.map((x, k) => (k === i ? { ...x, ...p } : x)) });
      try {
        await sendPhoto(cur.current.photos[i], entry, device, (url) => setPhoto({ uploadUrl: url }));
        await setPhoto({ done: true });
      } catch { /* the story itself is in */ }
    }
    if (closed.current) return;
    done.current = true;
    await pending.remove(link.slug);
    onDone(receipt);
  }

  useEffect(() => {
    // Acknowledged before the page was closed: only photos are left.
    if (cur.current.receipt && cur.current.entry) {
      setPct(100);
      void photos(cur.current.receipt, cur.current.entry);
      return () => { closed.current = true; };
    }
    let receipt: string | null = null;
    let entry = 0;
    let url = story.uploadUrl;
    let saving: Promise<unknown> = Promise.resolve();
    let u: Upload | null = null;
    u = new Upload(story.blob, {
      ...chunking(() => u),
      endpoint: uploadEndpoint,
      uploadUrl: story.uploadUrl ?? undefined,
      headers: { 'X-Upload-Key': link.key },
      metadata: story.metadata,
      retryDelays: RETRY,
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      onUploadUrlAvailable: () => {
        url = u!.url;
        if (url !== cur.current.uploadUrl) saving = save({ uploadUrl: url });
      },
      // No byte before the upload's address is stored.
      onBeforeRequest: async () => { await saving.catch(() => undefined); },
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
        setState('busy');
        await save({ receipt, entry });
        await photos(receipt, entry);
      },
    });
    up.current = u;
    u.start();
    const online = () => { if (!done.current && !cur.current.receipt) { setState('busy'); u!.start(); } };
    window.addEventListener('online', online);
    return () => {
      closed.current = true;
      window.removeEventListener('online', online);
      if (!done.current) void u!.abort();
    };
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
