/// <reference lib="webworker" />
/**
 * Service worker: caches the app shell and the hashed assets so the app starts offline;
 * never caches the API (/api/, photos included) or the socket; shows pushes (ids and a
 * generic title only) and opens the right screen when one is clicked.
 * Self-contained on purpose (no imports): it is registered as a classic script.
 */
export {};
declare const self: ServiceWorkerGlobalScope;

// Replaced at build time with the list of built files (vite.config.ts).
const MANIFEST: unknown = '__PRECACHE_MANIFEST__';
const FILES: string[] = Array.isArray(MANIFEST) ? (MANIFEST as string[]) : [];

function hash(text: string): string {
  let h = 5381;
  for (let i = 0; i < text.length; i += 1) h = ((h << 5) + h + text.charCodeAt(i)) | 0;
  return (h >>> 0).toString(36);
}

const CACHE = `care-shell-${hash(FILES.join('|'))}`;
const SHELL = '/';
const PRECACHE = [SHELL, '/manifest.webmanifest', '/icon.svg', '/icon-192.png', ...FILES.filter((f) => f !== '/index.html')];

function neverCache(url: URL): boolean {
  return (
    url.pathname.startsWith('/api/') ||
    url.pathname.startsWith('/ws/') ||
    url.pathname.startsWith('/admin') ||
    url.pathname.startsWith('/media/') ||
    url.pathname === '/sw.js'
  );
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((path) => new Request(path, { cache: 'reload', credentials: 'same-origin' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith('care-shell-') && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

async function networkFirstShell(request: Request): Promise<Response> {
  try {
    const response = await fetch(request);
    if (response.ok && response.headers.get('content-type')?.includes('text/html')) {
      const cache = await caches.open(CACHE);
      await cache.put(SHELL, response.clone());
    }
    return response;
  } catch {
    const cached = await caches.match(SHELL);
    return cached ?? Response.error();
  }
}

async function cacheFirst(request: Request): Promise<Response> {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') {
    const cache = await caches.open(CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || neverCache(url)) return;
  if (request.mode === 'navigate') {
    event.respondWith(networkFirstShell(request));
    return;
  }
  if (url.pathname.startsWith('/assets/') || PRECACHE.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});

// --- push ---------------------------------------------------------------------------------------

type PushPayload = {
  kind?: string;
  title?: string;
  url?: string;
  target?: Record<string, number>;
  notification?: number;
};

/** The screen a notification opens (ids only; the app fetches the details). */
function targetUrl(payload: PushPayload): string {
  if (payload.url && payload.url.startsWith('/') && !payload.url.startsWith('//')) return payload.url;
  const target = payload.target ?? {};
  if (target.measurement) return `/measurements/${target.measurement}/review`;
  if (target.case) return `/cases/${target.case}`;
  if (target.room) return `/rooms/${target.room}`;
  if (target.wound_site) return `/wound-sites/${target.wound_site}/chart`;
  return '/notifications';
}

const GENERIC_TITLE = 'Care coordination';

self.addEventListener('push', (event) => {
  let payload: PushPayload = {};
  try {
    payload = (event.data?.json() ?? {}) as PushPayload;
  } catch {
    payload = {};
  }
  const title = typeof payload.title === 'string' && payload.title ? payload.title : GENERIC_TITLE;
  const options: NotificationOptions = {
    tag: payload.notification ? `notification-${payload.notification}` : undefined,
    icon: '/icon-192.png',
    badge: '/icon-192.png',
    data: { url: targetUrl(payload), notification: payload.notification ?? null },
  };
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = (event.notification.data ?? {}) as { url?: string };
  const url = data.url && data.url.startsWith('/') ? data.url : '/notifications';
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).origin !== self.location.origin) continue;
        const focused = await client.focus();
        try {
          await focused.navigate(url);
        } catch {
          focused.postMessage({ type: 'navigate', url });
        }
        return;
      }
      await self.clients.openWindow(url);
    })(),
  );
});
