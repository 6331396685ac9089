/**
 * The live store: rooms and timelines kept current by the socket (resume from the last seq),
 * with an HTTP catch-up (GET /api/events?after=) when the socket cannot be used.
 */
import { useSyncExternalStore } from 'react';
import { api, ApiError } from '../api';
import { Socket, type ConnectionState, type EphemeralNotice } from '../ws';
import { applyEvent, applyPage, initialState, setRooms, upsertRoom, type State, type Timeline } from './reducer';
import type { EventsPage, Me, Message, MessagesPage, Room, ServerEvent } from './types';

export type CaseSummary = {
  id: number;
  title: string;
  status: string;
  room: number;
  open_alerts: number;
  unread: number;
  last_activity: string;
  patient: { id: number; display_name: string; [key: string]: unknown };
};

export type Typist = { id: number; name: string; until: number };

type Store = {
  data: State;
  connection: ConnectionState;
  casesByRoom: Record<number, CaseSummary>;
  typing: Record<number, Typist[]>;
  roomsError: string | null;
};

let store: Store = { data: initialState(), connection: 'offline', casesByRoom: {}, typing: {}, roomsError: null };
const listeners = new Set<() => void>();
const eventListeners = new Set<(event: ServerEvent) => void>();

function emit(): void {
  listeners.forEach((listener) => listener());
}

function update(change: (s: Store) => Store): void {
  const next = change(store);
  if (next !== store) {
    store = next;
    emit();
  }
}

function setData(change: (data: State) => State): void {
  update((s) => {
    const data = change(s.data);
    return data === s.data ? s : { ...s, data };
  });
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function getStore(): Store {
  return store;
}

export function useStore<T>(select: (s: Store) => T): T {
  return useSyncExternalStore(
    subscribe,
    () => select(store),
    () => select(store),
  );
}

const noticeListeners = new Set<() => void>();

/**
 * The server says the person's notifications changed (new ones, or some read on another
 * device); also called when the socket is ready again, as notices may have been missed.
 */
export function onNotificationsChanged(listener: () => void): () => void {
  noticeListeners.add(listener);
  return () => noticeListeners.delete(listener);
}

/** Every event as it is applied (features may listen, e.g. to refresh a case panel). */
export function onEvent(listener: (event: ServerEvent) => void): () => void {
  eventListeners.add(listener);
  return () => eventListeners.delete(listener);
}

export const useConnection = () => useStore((s) => s.connection);
export const useRoomsMap = () => useStore((s) => s.data.rooms);
export const useRoomsLoaded = () => useStore((s) => s.data.roomsLoaded);
export const useCasesByRoom = () => useStore((s) => s.casesByRoom);
export const useRoom = (roomId: number): Room | undefined => useStore((s) => s.data.rooms[roomId]);
export const useTimeline = (roomId: number): Timeline | undefined => useStore((s) => s.data.timelines[roomId]);
const NO_TYPISTS: Typist[] = [];
export const useTyping = (roomId: number): Typist[] => useStore((s) => s.typing[roomId] ?? NO_TYPISTS);

// --- the socket -------------------------------------------------------------------------------

let socket: Socket | null = null;
let started = false;
let pollTimer: ReturnType<typeof setInterval> | null = null;
let offlineSince: number | null = null;

export function handleEvent(event: ServerEvent): void {
  const before = store.data.lastSeq;
  setData((data) => applyEvent(data, event));
  if (event.seq > before) {
    eventListeners.forEach((listener) => listener(event));
    if (event.event === 'case.updated' || event.event === 'message.updated' || event.event === 'message.posted') {
      scheduleCasesRefresh();
    }
  }
  fetchMissingRooms();
}

export function handleEphemeral(notice: EphemeralNotice): void {
  const data = notice.data as { kind?: string; user?: { id: number; full_name: string }; active?: boolean };
  if (data.kind === 'notifications') {
    noticeListeners.forEach((listener) => listener());
    return;
  }
  const room = notice.room;
  if (data.kind !== 'typing' || !data.user || room === undefined) return;
  const user = data.user;
  update((s) => {
    const others = (s.typing[room] ?? []).filter((t) => t.id !== user.id);
    const list = data.active === false ? others : [...others, { id: user.id, name: user.full_name, until: Date.now() + 6000 }];
    return { ...s, typing: { ...s.typing, [room]: list } };
  });
}

function expireTyping(): void {
  const now = Date.now();
  let changed = false;
  const typing: Record<number, Typist[]> = {};
  for (const [room, list] of Object.entries(store.typing)) {
    const alive = list.filter((t) => t.until > now);
    if (alive.length !== list.length) changed = true;
    typing[Number(room)] = alive;
  }
  if (changed) update((s) => ({ ...s, typing }));
}

function setConnection(connection: ConnectionState): void {
  if (connection === 'online') offlineSince = null;
  else if (offlineSince === null) offlineSince = Date.now();
  update((s) => (s.connection === connection ? s : { ...s, connection }));
}

let missingInFlight = new Set<number>();
function fetchMissingRooms(): void {
  for (const roomId of store.data.missingRooms) {
    if (missingInFlight.has(roomId)) continue;
    missingInFlight.add(roomId);
    api<Room>('GET', `rooms/${roomId}`)
      .then((room) => {
        setData((data) => upsertRoom(data, room));
        // A new case's room: the inbox needs its patient and alerts.
        if (room.kind === 'case') void loadCases();
      })
      .catch(() => undefined)
      .finally(() => missingInFlight.delete(roomId));
  }
}

/** HTTP catch-up: the events after the last seq, page by page. */
export async function catchUp(): Promise<void> {
  for (let i = 0; i < 20; i += 1) {
    let page: EventsPage;
    try {
      page = await api<EventsPage>('GET', `events?after=${store.data.lastSeq}`);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'resync_required') await resync();
      return;
    }
    (page.events ?? []).forEach(handleEvent);
    // Nothing of mine between the last event and last_seq: follow on from there.
    setData((data) => (page.last_seq > data.lastSeq ? { ...data, lastSeq: page.last_seq } : data));
    if (!page.has_more) return;
  }
}

let casesTimer: ReturnType<typeof setTimeout> | null = null;
function scheduleCasesRefresh(): void {
  if (casesTimer) return;
  casesTimer = setTimeout(() => {
    casesTimer = null;
    void loadCases();
  }, 1500);
}

export async function loadCases(): Promise<void> {
  try {
    const answer = await api<CaseSummary[] | { results: CaseSummary[] }>('GET', 'cases?status=open');
    const list = Array.isArray(answer) ? answer : answer.results;
    const casesByRoom: Record<number, CaseSummary> = {};
    for (const c of list) casesByRoom[c.room] = c;
    update((s) => ({ ...s, casesByRoom }));
  } catch {
    // a person without cases access, or offline: the inbox still lists rooms
  }
}

export async function loadRooms(): Promise<void> {
  try {
    const answer = await api<{ seq: number; results: Room[] }>('GET', 'rooms');
    setData((data) => setRooms(data, answer.results, answer.seq));
    update((s) => ({ ...s, roomsError: null }));
  } catch (error) {
    update((s) => ({ ...s, roomsError: error instanceof ApiError ? error.code : 'network_error' }));
    throw error;
  }
}

/** Too far behind: reload everything over HTTP, then follow from the new seq. */
async function resync(): Promise<void> {
  try {
    await loadRooms();
  } catch {
    return;
  }
  const open = Object.keys(store.data.timelines).map(Number);
  setData((data) => ({ ...data, timelines: {} }));
  await Promise.all(open.map((roomId) => loadTimeline(roomId).catch(() => undefined)));
  socket?.nudge();
}

function onBrowserOffline(): void {
  socket?.drop();
}

let wakeRoomsRetry: (() => void) | null = null;

function onBrowserOnline(): void {
  wakeRoomsRetry?.();
  socket?.nudge();
  void catchUp();
}

function onVisible(): void {
  if (document.visibilityState === 'visible') socket?.nudge();
}

export async function startStore(me: Me): Promise<void> {
  if (started) return;
  started = true;
  const online = typeof navigator === 'undefined' || navigator.onLine !== false;
  store = { data: initialState(me.id), connection: online ? 'reconnecting' : 'offline', casesByRoom: {}, typing: {}, roomsError: null };
  offlineSince = Date.now();
  emit();
  socket = new Socket({
    lastSeq: () => (store.data.roomsLoaded ? store.data.lastSeq : null),
    onEvent: handleEvent,
    onReady: () => noticeListeners.forEach((listener) => listener()),
    onEphemeral: handleEphemeral,
    onState: setConnection,
    onUnauthenticated: () => {
      void import('../features/auth/session').then((m) => m.sessionExpired());
    },
    onResyncRequired: () => {
      void resync();
    },
  });
  window.addEventListener('online', onBrowserOnline);
  window.addEventListener('offline', onBrowserOffline);
  document.addEventListener('visibilitychange', onVisible);
  pollTimer = setInterval(() => {
    expireTyping();
    // The socket has been down a while but HTTP may work: catch up over HTTP.
    if (store.connection !== 'online' && offlineSince !== null && Date.now() - offlineSince > 8000 && store.data.roomsLoaded) {
      void catchUp();
    }
  }, 5000);
  void loadCases();
  for (let attempt = 0; started; attempt += 1) {
    try {
      await loadRooms();
      break;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      // Wait for the backoff, or less when the browser says it is back online.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(30000, 1000 * 2 ** attempt));
        wakeRoomsRetry = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeRoomsRetry = null;
    }
  }
  if (started) socket.start();
}

export function stopStore(): void {
  started = false;
  socket?.stop();
  socket = null;
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = null;
  window.removeEventListener('online', onBrowserOnline);
  window.removeEventListener('offline', onBrowserOffline);
  document.removeEventListener('visibilitychange', onVisible);
  store = { data: initialState(), connection: 'offline', casesByRoom: {}, typing: {}, roomsError: null };
  missingInFlight = new Set();
  emit();
}

/** The room of a case, when the inbox knows it. */
export function roomOfCase(caseId: number): number | undefined {
  for (const c of Object.values(store.casesByRoom)) if (c.id === caseId) return c.room;
  return undefined;
}

// --- reads and commands --------------------------------------------------------------------------

export async function loadTimeline(roomId: number): Promise<void> {
  const page = await api<MessagesPage>('GET', `rooms/${roomId}/messages?limit=50`);
  setData((data) => applyPage(data, roomId, page, false));
}

export async function loadOlder(roomId: number): Promise<boolean> {
  const timeline = store.data.timelines[roomId];
  const first = timeline?.messages[0];
  if (!timeline || !first || !timeline.hasMoreBefore) return false;
  const page = await api<MessagesPage>('GET', `rooms/${roomId}/messages?limit=50&before=${first.seq}`);
  setData((data) => applyPage(data, roomId, page, true));
  return page.has_more_before;
}

export async function refreshRoom(roomId: number): Promise<Room> {
  const room = await api<Room>('GET', `rooms/${roomId}`);
  setData((data) => upsertRoom(data, room));
  return room;
}

/** Moves my read marker forward (never back). */
export async function markRead(roomId: number, seq: number): Promise<void> {
  const room = store.data.rooms[roomId];
  if (room && room.last_read_seq >= seq && room.unread_count === 0) return;
  // Optimistic: the inbox clears the count at once; read.updated confirms.
  setData((data) =>
    data.rooms[roomId]
      ? {
          ...data,
          rooms: {
            ...data.rooms,
            [roomId]: { ...data.rooms[roomId], last_read_seq: Math.max(seq, data.rooms[roomId].last_read_seq), unread_count: 0, mention_count: 0 },
          },
        }
      : data,
  );
  try {
    if (socket?.isOpen) await socket.command('read', { room: roomId, seq });
    else await api('POST', `rooms/${roomId}/read`, { seq });
  } catch {
    // read markers are best effort; the next one catches up
  }
}

function applyMessage(message: Message): void {
  setData((data) => {
    const timeline = data.timelines[message.room];
    if (!timeline) return data;
    const messages = timeline.messages.map((m) => (m.id === message.id ? message : m));
    return { ...data, timelines: { ...data.timelines, [message.room]: { ...timeline, messages } } };
  });
}

export async function editMessage(messageId: number, body: string): Promise<void> {
  const message = socket?.isOpen
    ? (await socket.command<{ message: Message }>('edit', { message: messageId, body })).message
    : await api<Message>('PATCH', `messages/${messageId}`, { body });
  applyMessage(message);
}

export async function deleteMessage(messageId: number): Promise<void> {
  const message = socket?.isOpen
    ? (await socket.command<{ message: Message }>('delete', { message: messageId })).message
    : await api<Message>('DELETE', `messages/${messageId}`);
  applyMessage(message);
}

/** Adds a message the server has just answered with (before its event arrives). */
export function addSentMessage(message: Message): void {
  setData((data) => {
    const timeline = data.timelines[message.room];
    if (!timeline) return data;
    return applyPage(data, message.room, { results: [message], has_more_before: timeline.hasMoreBefore, has_more_after: false }, false);
  });
}

export function sendTyping(roomId: number, active: boolean): void {
  socket?.notify('typing', { room: roomId, active });
}
