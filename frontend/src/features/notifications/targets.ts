/** Where a notification leads: its `target` holds ids only (docs/notifications.md). */

export type NotificationKind = 'mention' | 'alert' | 'assignment' | 'measurement';

export interface NotificationItem {
  id: number;
  kind: NotificationKind | string;
  title: string;
  target: Record<string, number>;
  created_at: string;
  read_at: string | null;
}

export interface NotificationPage {
  results: NotificationItem[];
  unread_count: number;
  next: number | null;
}

export const PUSH_KINDS: NotificationKind[] = ['mention', 'alert', 'assignment', 'measurement'];

/** The app address to open for a notification (the most specific screen first). */
export function targetHref(target: Record<string, number> | undefined): string | null {
  if (!target) return null;
  const { room, case: caseId, message, measurement, wound_site: site } = target;
  if (measurement) return `/measurements/${measurement}/review`;
  if (caseId) return message ? `/cases/${caseId}#message-${message}` : `/cases/${caseId}`;
  if (room) return message ? `/rooms/${room}#message-${message}` : `/rooms/${room}`;
  if (site) return `/wound-sites/${site}/chart`;
  return null;
}

/** Merge a newer page into what is shown (by id, newest first). */
export function mergeNotifications(
  shown: NotificationItem[],
  incoming: NotificationItem[],
): NotificationItem[] {
  const byId = new Map<number, NotificationItem>();
  for (const n of shown) byId.set(n.id, n);
  for (const n of incoming) byId.set(n.id, n);
  return [...byId.values()].sort((a, b) => b.id - a.id);
}

export function markReadLocally(items: NotificationItem[], id: number, at: string): NotificationItem[] {
  return items.map((n) => (n.id === id && !n.read_at ? { ...n, read_at: at } : n));
}
