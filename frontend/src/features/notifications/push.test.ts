import { describe, expect, it, vi } from 'vitest';
import {
  disablePush,
  enablePush,
  PushError,
  pushAvailability,
  sameKey,
  uint8ArrayToUrlBase64,
  urlBase64ToUint8Array,
  type ApiFn,
  type PushEnv,
} from './push';
import { mergeNotifications, markReadLocally, targetHref, type NotificationItem } from './targets';

const env: PushEnv = {
  isSecureContext: true,
  hasServiceWorker: true,
  hasPushManager: true,
  hasNotification: true,
  permission: 'default',
};

describe('base64url', () => {
  it('round-trips bytes without padding', () => {
    const bytes = new Uint8Array([251, 255, 0, 1, 2, 62, 63]);
    const text = uint8ArrayToUrlBase64(bytes);
    expect(text).not.toMatch(/[+/=]/);
    expect(Array.from(urlBase64ToUint8Array(text))).toEqual(Array.from(bytes));
  });
  it('decodes a 65-byte VAPID key', () => {
    const key = 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U';
    expect(urlBase64ToUint8Array(key).length).toBe(65);
  });
  it('compares keys', () => {
    const k = new Uint8Array([1, 2, 3]);
    expect(sameKey(new Uint8Array([1, 2, 3]).buffer, k)).toBe(true);
    expect(sameKey(new Uint8Array([1, 2]).buffer, k)).toBe(false);
    expect(sameKey(null, k)).toBe(false);
  });
});

describe('pushAvailability', () => {
  it('names why push cannot be used', () => {
    expect(pushAvailability(env)).toBe('ok');
    expect(pushAvailability({ ...env, hasPushManager: false })).toBe('unsupported');
    expect(pushAvailability({ ...env, permission: 'denied' })).toBe('denied');
    expect(pushAvailability({ ...env, isSecureContext: false })).toBe('insecure');
  });
});

function fakeSubscription(endpoint: string, key: Uint8Array) {
  return {
    endpoint,
    options: { applicationServerKey: key.buffer },
    toJSON: () => ({ endpoint, keys: { p256dh: 'P', auth: 'A' } }),
    getKey: () => null,
    unsubscribe: vi.fn(async () => true),
  };
}

describe('enablePush / disablePush', () => {
  const publicKey = 'AQID';
  it('subscribes with the server key and registers the subscription', async () => {
    const calls: [string, string, unknown][] = [];
    const api = (async (method: string, path: string, body?: unknown) => {
      calls.push([method, path, body]);
      return path === 'push/key' ? { public_key: publicKey } : {};
    }) as ApiFn;
    const sub = fakeSubscription('https://push.example/1', new Uint8Array([1, 2, 3]));
    const subscribe = vi.fn(async () => sub);
    const registration = async () =>
      ({ pushManager: { getSubscription: async () => null, subscribe } }) as unknown as ServiceWorkerRegistration;
    const out = await enablePush({ api, registration, requestPermission: async () => 'granted' });
    expect(subscribe).toHaveBeenCalledWith({ userVisibleOnly: true, applicationServerKey: new Uint8Array([1, 2, 3]) });
    expect(out).toEqual({ endpoint: 'https://push.example/1', keys: { p256dh: 'P', auth: 'A' } });
    expect(calls.map((c) => `${c[0]} ${c[1]}`)).toEqual(['GET push/key', 'POST push/subscriptions']);
  });

  it('replaces a subscription made with another key', async () => {
    const api = (async (_m: string, path: string) => (path === 'push/key' ? { public_key: publicKey } : {})) as ApiFn;
    const old = fakeSubscription('https://push.example/old', new Uint8Array([9]));
    const fresh = fakeSubscription('https://push.example/new', new Uint8Array([1, 2, 3]));
    const registration = async () =>
      ({ pushManager: { getSubscription: async () => old, subscribe: async () => fresh } }) as unknown as ServiceWorkerRegistration;
    const out = await enablePush({ api, registration, requestPermission: async () => 'granted' });
    expect(old.unsubscribe).toHaveBeenCalled();
    expect(out.endpoint).toBe('https://push.example/new');
  });

  it('stops when permission is refused', async () => {
    const api = vi.fn() as unknown as ApiFn;
    const registration = vi.fn();
    await expect(enablePush({ api, registration, requestPermission: async () => 'denied' })).rejects.toEqual(
      new PushError('denied'),
    );
    expect(registration).not.toHaveBeenCalled();
  });

  it('unsubscribes on the server and in the browser', async () => {
    const calls: unknown[] = [];
    const api = (async (method: string, path: string, body?: unknown) => {
      calls.push([method, path, body]);
      return undefined;
    }) as ApiFn;
    const sub = fakeSubscription('https://push.example/1', new Uint8Array([1]));
    const registration = async () =>
      ({ pushManager: { getSubscription: async () => sub } }) as unknown as ServiceWorkerRegistration;
    await disablePush({ api, registration });
    expect(calls).toEqual([['DELETE', 'push/subscriptions', { endpoint: 'https://push.example/1' }]]);
    expect(sub.unsubscribe).toHaveBeenCalled();
  });
});

describe('targets', () => {
  it('opens the most specific screen', () => {
    expect(targetHref({ case: 2, room: 3, alert: 5, message: 9 })).toBe('/cases/2#message-9');
    expect(targetHref({ room: 3, message: 9 })).toBe('/rooms/3#message-9');
    expect(targetHref({ room: 3, message: 9, measurement: 4 })).toBe('/measurements/4/review');
    expect(targetHref({ case: 2 })).toBe('/cases/2');
    expect(targetHref({})).toBeNull();
  });
  it('merges pages and marks read', () => {
    const n = (id: number, read: string | null = null): NotificationItem => ({
      id,
      kind: 'alert',
      title: 't',
      target: {},
      created_at: '2026-01-01T00:00:00Z',
      read_at: read,
    });
    const merged = mergeNotifications([n(3), n(1)], [n(4), n(3, 'x')]);
    expect(merged.map((x) => [x.id, x.read_at])).toEqual([
      [4, null],
      [3, 'x'],
      [1, null],
    ]);
    expect(markReadLocally(merged, 4, 'now')[0].read_at).toBe('now');
  });
});
