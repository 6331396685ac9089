/**
 * Web push on this browser: what the browser supports, subscribing with the server's VAPID key
 * and unsubscribing. The API calls are passed in (`ApiFn`), so this stays testable.
 *
 * A push carries only a generic title and ids (docs/notifications.md); the service worker
 * shows the title and the app fetches the details after sign-in.
 */

export type ApiFn = <T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) => Promise<T>;

/** Where push stands on this browser. */
export type PushState =
  | 'unsupported' // no service worker, PushManager or Notification API
  | 'insecure' // not a secure context (http other than localhost)
  | 'denied' // the person blocked notifications for this site
  | 'off' // supported, not subscribed
  | 'on'; // subscribed

export interface PushEnv {
  isSecureContext: boolean;
  hasServiceWorker: boolean;
  hasPushManager: boolean;
  hasNotification: boolean;
  permission: NotificationPermission | 'unknown';
}

export function readPushEnv(): PushEnv {
  const w = typeof window !== 'undefined' ? window : undefined;
  const hasNotification = !!w && 'Notification' in w;
  return {
    isSecureContext: !!w && w.isSecureContext !== false,
    hasServiceWorker: typeof navigator !== 'undefined' && 'serviceWorker' in navigator,
    hasPushManager: !!w && 'PushManager' in w,
    hasNotification,
    permission: hasNotification ? Notification.permission : 'unknown',
  };
}

/** What can be done before looking at an existing subscription. */
export function pushAvailability(env: PushEnv): 'unsupported' | 'insecure' | 'denied' | 'ok' {
  if (!env.isSecureContext) return 'insecure';
  if (!env.hasServiceWorker || !env.hasPushManager || !env.hasNotification) return 'unsupported';
  if (env.permission === 'denied') return 'denied';
  return 'ok';
}

/** base64url (padding optional) → bytes, for `applicationServerKey`. */
export function urlBase64ToUint8Array(base64String: string): Uint8Array<ArrayBuffer> {
  const padding = '='.repeat((4 - (base64String.length % 4)) % 4);
  const base64 = (base64String + padding).replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(base64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** bytes → base64url without padding (what the server expects for keys). */
export function uint8ArrayToUrlBase64(bytes: ArrayBuffer | Uint8Array | null): string {
  if (!bytes) return '';
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = '';
  for (let i = 0; i < view.length; i++) s += String.fromCharCode(view[i]);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export interface SubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** `PushSubscription.toJSON()`, filled in from `getKey` where a browser leaves keys out. */
export function subscriptionJson(sub: PushSubscription): SubscriptionJson {
  const json = sub.toJSON() as { endpoint?: string; keys?: Record<string, string> };
  const p256dh = json.keys?.p256dh ?? uint8ArrayToUrlBase64(sub.getKey('p256dh'));
  const auth = json.keys?.auth ?? uint8ArrayToUrlBase64(sub.getKey('auth'));
  return { endpoint: json.endpoint ?? sub.endpoint, keys: { p256dh, auth } };
}

/** Whether two application server keys are the same bytes. */
export function sameKey(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a) return false;
  const view = new Uint8Array(a);
  if (view.length !== b.length) return false;
  return view.every((v, i) => v === b[i]);
}

export interface PushDeps {
  api: ApiFn;
  registration: () => Promise<ServiceWorkerRegistration>;
  requestPermission: () => Promise<NotificationPermission>;
}

export class PushError extends Error {
  constructor(public readonly reason: 'denied' | 'dismissed' | 'failed', message?: string) {
    super(message ?? reason);
  }
}

/**
 * Subscribe this browser: ask permission, subscribe with the VAPID key (re-subscribing if an
 * old subscription used another key), register it with the server.
 */
export async function enablePush(deps: PushDeps): Promise<SubscriptionJson> {
  const permission = await deps.requestPermission();
  if (permission === 'denied') throw new PushError('denied');
  if (permission !== 'granted') throw new PushError('dismissed');
  const { public_key } = await deps.api<{ public_key: string }>('GET', 'push/key');
  const key = urlBase64ToUint8Array(public_key);
  const registration = await deps.registration();
  let sub = await registration.pushManager.getSubscription();
  if (sub && !sameKey(sub.options?.applicationServerKey, key)) {
    await sub.unsubscribe().catch(() => false);
    sub = null;
  }
  if (!sub) {
    sub = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  }
  const body = subscriptionJson(sub);
  await deps.api('POST', 'push/subscriptions', body);
  return body;
}

/** Stop pushes to this browser: tell the server, then drop the browser's subscription. */
export async function disablePush(deps: Pick<PushDeps, 'api' | 'registration'>): Promise<void> {
  const registration = await deps.registration();
  const sub = await registration.pushManager.getSubscription();
  if (!sub) return;
  await deps.api('DELETE', 'push/subscriptions', { endpoint: sub.endpoint });
  await sub.unsubscribe().catch(() => false);
}

/** Whether this browser is subscribed now (without asking anything). */
export async function currentSubscription(
  registration: () => Promise<ServiceWorkerRegistration | undefined>,
): Promise<PushSubscription | null> {
  const reg = await registration();
  if (!reg) return null;
  return reg.pushManager.getSubscription();
}
