/** A small History-API router: match a path, navigate, links that do not reload the page. */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

export type RouteName =
  | 'login'
  | 'inbox'
  | 'room'
  | 'case'
  | 'capture'
  | 'review'
  | 'chart'
  | 'notifications'
  | 'settings'
  | 'patient'
  | 'notFound';

export type Match = { name: RouteName; params: Record<string, string> };

const PATTERNS: [RouteName, RegExp, string[]][] = [
  ['login', /^\/login\/?$/, []],
  ['inbox', /^\/$/, []],
  ['room', /^\/rooms\/(\d+)\/?$/, ['roomId']],
  ['capture', /^\/cases\/(\d+)\/capture\/?$/, ['caseId']],
  ['case', /^\/cases\/(\d+)\/?$/, ['caseId']],
  ['review', /^\/measurements\/(\d+)\/review\/?$/, ['measurementId']],
  ['chart', /^\/wound-sites\/(\d+)\/chart\/?$/, ['siteId']],
  ['notifications', /^\/notifications\/?$/, []],
  ['settings', /^\/settings\/?$/, []],
  ['patient', /^\/p\/([^/]+)\/?$/, ['token']],
];

export function matchPath(pathname: string): Match {
  for (const [name, re, keys] of PATTERNS) {
    const m = re.exec(pathname);
    if (m) {
      const params: Record<string, string> = {};
      keys.forEach((key, i) => {
        params[key] = decodeURIComponent(m[i + 1]);
      });
      return { name, params };
    }
  }
  return { name: 'notFound', params: {} };
}

const listeners = new Set<() => void>();
function emit(): void {
  listeners.forEach((listener) => listener());
}
if (typeof window !== 'undefined') window.addEventListener('popstate', emit);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function snapshot(): string {
  return typeof window === 'undefined' ? '/' : window.location.pathname + window.location.search + window.location.hash;
}

/** Goes to an in-app URL (path, query and hash) without reloading the page. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot() && !options.replace) return;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.scrollTo(0, 0);
  emit();
}

export type Location = { pathname: string; search: string; query: URLSearchParams; href: string };

export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot, snapshot);
  const url = new URL(href, 'http://local');
  return { pathname: url.pathname, search: url.search, query: url.searchParams, href };
}

export function useRoute(): Match & { query: URLSearchParams; href: string } {
  const location = useLocation();
  return { ...matchPath(location.pathname), query: location.query, href: location.href };
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string; replace?: boolean };

/** An `<a>` that navigates in-app on a plain click and keeps the browser's behaviour otherwise. */
export function Link({ to, replace, onClick, ...rest }: LinkProps) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey ||
      (rest.target && rest.target !== '_self')
    ) {
      return;
    }
    event.preventDefault();
    navigate(to, { replace });
  };
  return <a href={to} onClick={handle} {...rest} />;
}
