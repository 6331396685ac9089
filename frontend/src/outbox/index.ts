/**
 * The offline outbox: messages and photos written while offline (or before the server
 * answered) are kept in IndexedDB with their client UUIDs and sent in order, each once.
 * The server is idempotent on the client UUID, so a retry after an unknown outcome is safe.
 */
import { useMemo, useSyncExternalStore } from 'react';
import { api, ApiError, upload } from '../api';
import type { Message } from '../store/types';
import { roomOfCase } from '../store';
import { allItems, deleteItem, getItem, putItem, type OutboxItem } from './db';

export type { OutboxItem, OutboxState } from './db';

export type Transport = {
  sendMessage: (item: OutboxItem) => Promise<Message>;
  sendPhoto: (item: OutboxItem, onProgress: (fraction: number) => void) => Promise<{ message: Message }>;
};

export const httpTransport: Transport = {
  sendMessage: (item) =>
    api<Message>('POST', `rooms/${item.roomId}/messages`, {
      client_uuid: item.clientUuid,
      body: item.text ?? '',
      ...(item.replyTo ? { reply_to: item.replyTo } : {}),
    }),
  sendPhoto: (item, onProgress) => {
    const form = new FormData();
    form.append('file', item.blob as Blob, item.filename || 'photo.jpg');
    form.append('client_uuid', item.clientUuid);
    if (item.woundSiteId) form.append('wound_site', String(item.woundSiteId));
    form.append('captured_at', item.createdAt);
    return upload<{ message: Message }>(`cases/${item.caseId}/photos`, form, onProgress);
  },
};

type Snapshot = { items: OutboxItem[]; progress: Record<string, number>; loaded: boolean };

let snapshot: Snapshot = { items: [], progress: {}, loaded: false };
const listeners = new Set<() => void>();
let transport: Transport = httpTransport;
let sentListener: (message: Message) => void = () => undefined;
let orderCounter = 0;
let currentUser: number | null = null;

function ownItems(items: OutboxItem[]): OutboxItem[] {
  return items.filter((item) => (item.userId ?? null) === currentUser);
}

function emit(next: Partial<Snapshot>): void {
  snapshot = { ...snapshot, ...next };
  listeners.forEach((listener) => listener());
}

async function refresh(): Promise<void> {
  const items = ownItems(await allItems());
  emit({ items, loaded: true });
}

export function subscribeOutbox(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function getOutbox(): Snapshot {
  return snapshot;
}

/** Tests and the app set how items are sent and who hears about sent messages. */
export function configureOutbox(options: { transport?: Transport; onSent?: (message: Message) => void }): void {
  if (options.transport) transport = options.transport;
  if (options.onSent) sentListener = options.onSent;
}

export function newClientUuid(): string {
  const c: Crypto = globalThis.crypto;
  // randomUUID needs a secure context; getRandomValues does not.
  if (typeof (c as Partial<Crypto>).randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function nextOrder(): number {
  const now = Date.now() * 1000;
  orderCounter = Math.max(orderCounter + 1, now);
  return orderCounter;
}

export async function addMessage(input: { roomId: number; clientUuid: string; text: string; replyTo?: number | null }): Promise<void> {
  const existing = await getItem(input.clientUuid);
  if (!existing) {
    await putItem({
      clientUuid: input.clientUuid,
      kind: 'message',
      order: nextOrder(),
      createdAt: new Date().toISOString(),
      state: 'queued',
      attempts: 0,
      userId: currentUser,
      roomId: input.roomId,
      text: input.text,
      replyTo: input.replyTo ?? null,
    });
  }
  await refresh();
  void flush();
}

export async function addPhoto(input: {
  caseId: number;
  woundSiteId?: number | null;
  clientUuid: string;
  blob: Blob;
  filename: string;
  note?: string;
  /** The case's room, when the caller knows it (shows the photo as queued in the room). */
  roomId?: number;
}): Promise<void> {
  const existing = await getItem(input.clientUuid);
  if (!existing) {
    await putItem({
      clientUuid: input.clientUuid,
      kind: 'photo',
      order: nextOrder(),
      createdAt: new Date().toISOString(),
      state: 'queued',
      attempts: 0,
      userId: currentUser,
      caseId: input.caseId,
      woundSiteId: input.woundSiteId ?? null,
      blob: input.blob,
      filename: input.filename,
      note: input.note?.trim() || undefined,
      noteUuid: input.note?.trim() ? newClientUuid() : undefined,
      roomId: input.roomId ?? roomOfCase(input.caseId),
    });
  }
  await refresh();
  void flush();
}

/** A refusal that retrying will not change (the item is marked failed and skipped). */
export function isPermanent(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  if (error.status === 0 || error.status >= 500 || error.status === 429 || error.status === 408) return false;
  if (error.code === 'not_authenticated' || error.code === 'csrf_failed') return false;
  return true;
}

let running: Promise<void> | null = null;
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let retryAttempt = 0;

function scheduleRetry(): void {
  if (retryTimer) return;
  const delay = Math.min(60000, 2000 * 2 ** retryAttempt);
  retryAttempt += 1;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    void flush();
  }, delay);
}

async function sendOne(item: OutboxItem): Promise<void> {
  if (item.kind === 'message') {
    const message = await transport.sendMessage(item);
    sentListener(message);
    return;
  }
  let roomId = item.roomId;
  if (!item.photoSent) {
    const answer = await transport.sendPhoto(item, (fraction) => emit({ progress: { ...snapshot.progress, [item.clientUuid]: fraction } }));
    sentListener(answer.message);
    roomId = answer.message.room;
    if (item.note && item.noteUuid) {
      // Remember the photo went through, so a failure of the note does not send it again.
      await putItem({ ...item, photoSent: true, roomId, blob: undefined });
    }
  }
  if (item.note && item.noteUuid && roomId) {
    const note = await transport.sendMessage({ ...item, kind: 'message', clientUuid: item.noteUuid, roomId, text: item.note, replyTo: null });
    sentListener(note);
  }
}

async function run(): Promise<void> {
  const online = typeof navigator === 'undefined' || navigator.onLine !== false;
  if (!online) return;
  for (;;) {
    const items = ownItems(await allItems()).filter((item) => item.state !== 'failed');
    const item = items[0];
    if (!item) {
      retryAttempt = 0;
      return;
    }
    await putItem({ ...item, state: 'sending', attempts: item.attempts + 1 });
    await refresh();
    try {
      await sendOne(item);
      await deleteItem(item.clientUuid);
      const progress = { ...snapshot.progress };
      delete progress[item.clientUuid];
      emit({ progress });
      await refresh();
    } catch (error) {
      const code = error instanceof ApiError ? error.code : 'network_error';
      const current = (await getItem(item.clientUuid)) ?? item;
      if (isPermanent(error)) {
        await putItem({ ...current, state: 'failed', error: code });
        await refresh();
        continue;
      }
      await putItem({ ...current, state: 'queued', error: code });
      await refresh();
      scheduleRetry();
      return;
    }
  }
}

async function locked(work: () => Promise<void>): Promise<void> {
  // One sender across tabs, so an item is never in flight twice at once.
  const locks = typeof navigator !== 'undefined' ? (navigator as Navigator & { locks?: LockManager }).locks : undefined;
  if (locks) {
    await locks.request('care-outbox', work);
    return;
  }
  await work();
}

/** Sends what is queued, in order; concurrent calls share one run (plus one follow-up). */
export function flush(): Promise<void> {
  if (running) {
    return running.then(() => (running ? running : flush()));
  }
  running = locked(run)
    .catch(() => scheduleRetry())
    .finally(() => {
      running = null;
    });
  return running;
}

export async function retryItem(clientUuid: string): Promise<void> {
  const item = await getItem(clientUuid);
  if (!item) return;
  await putItem({ ...item, state: 'queued', error: undefined });
  await refresh();
  retryAttempt = 0;
  void flush();
}

export async function discardItem(clientUuid: string): Promise<void> {
  const item = await getItem(clientUuid);
  if (!item || item.state === 'sending') return;
  await deleteItem(clientUuid);
  await refresh();
}

let started = false;

/** Forgets everything queued (signing out on a shared device: photos of patients stay nowhere). */
export async function clearOutbox(): Promise<void> {
  try {
    for (const item of await allItems()) await deleteItem(item.clientUuid);
  } catch {
    // no IndexedDB: nothing stored
  }
  emit({ items: [], progress: {} });
}

/**
 * Loads the queue of the signed-in person, re-queues what was in flight when the page
 * closed, and sends when online.
 */
export async function startOutbox(onSent?: (message: Message) => void, userId: number | null = null): Promise<void> {
  if (onSent) sentListener = onSent;
  const userChanged = userId !== currentUser;
  currentUser = userId;
  if (started && !userChanged) return;
  if (started) {
    await refresh().catch(() => undefined);
    void flush();
    return;
  }
  started = true;
  try {
    for (const item of await allItems()) {
      if (item.state === 'sending') await putItem({ ...item, state: 'queued' });
    }
    await refresh();
  } catch {
    emit({ loaded: true });
    return;
  }
  if (typeof window !== 'undefined') {
    window.addEventListener('online', () => {
      retryAttempt = 0;
      void flush();
    });
  }
  void flush();
}

export function useOutboxSnapshot(): Snapshot {
  return useSyncExternalStore(subscribeOutbox, getOutbox, getOutbox);
}

/** The queued items of a room (messages, and photos whose room is known), in order. */
export function useOutbox(roomId: number): OutboxItem[] {
  const { items } = useOutboxSnapshot();
  return useMemo(() => items.filter((item) => item.roomId === roomId), [items, roomId]);
}

/** The upload progress (0..1) of a queued photo. */
export function useOutboxProgress(clientUuid: string): number | undefined {
  return useOutboxSnapshot().progress[clientUuid];
}

export function useOutboxCount(): number {
  return useOutboxSnapshot().items.length;
}
