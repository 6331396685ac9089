/** A tiny promise wrapper over one IndexedDB object store. */

export type OutboxKind = 'message' | 'photo';
export type OutboxState = 'queued' | 'sending' | 'failed';

export type OutboxItem = {
  clientUuid: string;
  kind: OutboxKind;
  /** Order of sending. */
  order: number;
  createdAt: string;
  state: OutboxState;
  /** The error code of a refusal (state failed), or of the last failed try. */
  error?: string;
  attempts: number;
  /** Who queued it: only that person's session sends it. */
  userId?: number | null;
  roomId?: number;
  text?: string;
  replyTo?: number | null;
  caseId?: number;
  woundSiteId?: number | null;
  blob?: Blob;
  filename?: string;
  note?: string;
  /** Photos: the note's own client UUID, and whether the photo itself is already sent. */
  noteUuid?: string;
  photoSent?: boolean;
};

const DB_NAME = 'care-outbox';
const STORE = 'items';

let dbPromise: Promise<IDBDatabase> | null = null;

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export function openDb(): Promise<IDBDatabase> {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'clientUuid' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => {
        dbPromise = null;
        reject(req.error);
      };
    });
  }
  return dbPromise;
}

/** For tests: forget the open connection. */
export function resetDbConnection(): void {
  dbPromise = null;
}

async function tx<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  const transaction = db.transaction(STORE, mode);
  const result = request(run(transaction.objectStore(STORE)));
  await new Promise<void>((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
  return result;
}

export async function allItems(): Promise<OutboxItem[]> {
  const items = await tx('readonly', (store) => store.getAll() as IDBRequest<OutboxItem[]>);
  return items.sort((a, b) => a.order - b.order);
}

export function putItem(item: OutboxItem): Promise<IDBValidKey> {
  return tx('readwrite', (store) => store.put(item));
}

export function getItem(clientUuid: string): Promise<OutboxItem | undefined> {
  return tx('readonly', (store) => store.get(clientUuid) as IDBRequest<OutboxItem | undefined>);
}

export function deleteItem(clientUuid: string): Promise<undefined> {
  return tx('readwrite', (store) => store.delete(clientUuid));
}
