// The story waiting to be sent, kept in IndexedDB until the server has
// acknowledged it (then deleted), so that closing the page, losing the
// connection or a flat battery loses nothing. One story per collection.
// The device secret lives in localStorage: it fetches a lost receipt.
export interface Pending {
  slug: string;
  blob: Blob;
  filename: string;
  type: string;			// the recorder's own mimeType
  metadata: Record<string, string>;
  uploadUrl: string | null;
  // Up to three photos, added to the story once it exists. Each keeps
  // its own tus upload's address as soon as the server gave it, and is
  // marked done when the server has it: a page closed and opened again
  // continues that upload, never starts a second one.
  photos: PendingPhoto[];
  // The story's receipt and entry, once the server acknowledged it
  // (photos may still be on their way).
  receipt?: string;
  entry?: number;
  createdAt: number;
}

export interface PendingPhoto {
  blob: Blob;
  name: string;
  type: string;
  uploadUrl?: string | null;
  done?: boolean;
}

const DB = 'verhaal-resident';
const STORE = 'pending';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'slug' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = f(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result as T);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export const pending = {
  get: (slug: string) => run<Pending | undefined>('readonly', (s) => s.get(slug)),
  put: (p: Pending) => run<unknown>('readwrite', (s) => s.put(p)),
  remove: (slug: string) => run<unknown>('readwrite', (s) => s.delete(slug)),
};

export function deviceSecret(): string {
  let s = localStorage.getItem('verhaal.device');
  if (!s) {
    const b = crypto.getRandomValues(new Uint8Array(32));
    s = btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    localStorage.setItem('verhaal.device', s);
  }
  return s;
}
