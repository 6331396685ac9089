/**
 * The signed-in person's unread notification count, shared by the header and the centre.
 * The socket says when the person's notifications change (a new one, or one read on another
 * device), and the count is read again then; it is also read on focus, when the socket is
 * ready again, and every few minutes as a safety net, and set directly when the centre marks
 * things read.
 */
import { useEffect, useSyncExternalStore } from 'react';
import { api } from '../../api';
import { onNotificationsChanged } from '../../store';
import { onSignOut } from '../auth/session';
import type { NotificationPage } from './targets';

const POLL_MS = 5 * 60_000;

let count = 0;
const listeners = new Set<() => void>();
let users = 0;
let timer: ReturnType<typeof setInterval> | null = null;
let unlisten: (() => void) | null = null;
let inFlight: Promise<void> | null = null;
let again = false;

function emit(): void {
  listeners.forEach((l) => l());
}

export function setUnreadCount(next: number): void {
  if (next === count) return;
  count = Math.max(0, next);
  emit();
}

export function getUnreadCount(): number {
  return count;
}

/**
 * Ask the server now. One request at a time; asked again meanwhile (a notice arrived while a
 * request was under way, whose answer may predate it), it asks once more when that ends.
 */
export function refreshUnread(): Promise<void> {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = api<NotificationPage>('GET', 'notifications?unread=1&limit=1')
    .then((page) => setUnreadCount(page.unread_count))
    .catch(() => undefined)
    .finally(() => {
      inFlight = null;
      if (again) {
        again = false;
        void refreshUnread();
      }
    });
  return inFlight;
}

function onVisible(): void {
  if (document.visibilityState === 'visible') void refreshUnread();
}

function start(): void {
  void refreshUnread();
  unlisten = onNotificationsChanged(() => void refreshUnread());
  timer = setInterval(() => {
    if (document.visibilityState === 'visible') void refreshUnread();
  }, POLL_MS);
  window.addEventListener('focus', onVisible);
  document.addEventListener('visibilitychange', onVisible);
  navigator.serviceWorker?.addEventListener?.('message', onVisible);
}

function stop(): void {
  if (timer) clearInterval(timer);
  timer = null;
  unlisten?.();
  unlisten = null;
  window.removeEventListener('focus', onVisible);
  document.removeEventListener('visibilitychange', onVisible);
  navigator.serviceWorker?.removeEventListener?.('message', onVisible);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The number of unread notifications (kept fresh while a component uses it). */
export function useUnreadNotifications(): number {
  useEffect(() => {
    if (users++ === 0) start();
    return () => {
      if (--users === 0) stop();
    };
  }, []);
  return useSyncExternalStore(subscribe, getUnreadCount, getUnreadCount);
}

/**
 * On sign-out this browser must stop receiving the person's pushes. The session is already
 * closed when sign-out listeners run, so only the browser's subscription is dropped here (the
 * push service then answers 410 and the server forgets it); the settings screen's sign-out
 * also tells the server first.
 */
onSignOut(async () => {
  try {
    const reg = await navigator.serviceWorker?.getRegistration?.();
    const sub = await reg?.pushManager?.getSubscription();
    await sub?.unsubscribe();
  } catch {
    // nothing to undo
  }
  setUnreadCount(0);
});
