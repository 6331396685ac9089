/** Who is signed in: loaded once from /api/me, kept in a tiny store; sign-in and sign-out. */
import { useSyncExternalStore } from 'react';
import { api, ApiError, onUnauthorized } from '../../api';
import { isLang, setLang, type Lang } from '../../i18n';
import type { Me } from '../../store/types';

/** undefined: not known yet; null: signed out. */
type State = { me: Me | null | undefined; expired: boolean };

let state: State = { me: undefined, expired: false };
const listeners = new Set<() => void>();

function set(next: Partial<State>): void {
  state = { ...state, ...next };
  listeners.forEach((listener) => listener());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function getMe(): Me | null | undefined {
  return state.me;
}

export function useSession(): State {
  return useSyncExternalStore(subscribe, () => state, () => state);
}

/** The signed-in person (null while unknown or signed out). */
export function useMe(): Me | null {
  return useSession().me ?? null;
}

export function hasPermission(me: Me | null | undefined, permission: string): boolean {
  return !!me && me.permissions.includes(permission);
}

/** Set by the settings screen while a language picked here is not saved to the profile yet
 * (offline): until then it wins over the profile's on this device. */
export const LANG_CHOSEN_KEY = 'care.lang.chosen';

/** Save the person's language to their profile (every device follows it). */
export async function saveLanguage(lang: Lang): Promise<void> {
  const me = await api<Me>('PATCH', 'me', { language: lang });
  try {
    localStorage.removeItem(LANG_CHOSEN_KEY);
  } catch {
    // private mode: nothing was kept
  }
  adopt(me);
}

function chosenOnDevice(): boolean {
  try {
    return localStorage.getItem(LANG_CHOSEN_KEY) === '1';
  } catch {
    return false;
  }
}

function adopt(me: Me): void {
  // The profile's language, unless one picked on this device could not be saved yet.
  if (isLang(me.language) && !chosenOnDevice()) setLang(me.language);
  set({ me, expired: false });
}

export async function loadMe(): Promise<Me | null> {
  try {
    const me = await api<Me>('GET', 'me');
    adopt(me);
    return me;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      set({ me: null });
      return null;
    }
    // Offline start: keep the last known person so the cached app can open.
    const cached = readCachedMe();
    set({ me: cached });
    return cached;
  }
}

const CACHE_KEY = 'care.me';

function readCachedMe(): Me | null {
  try {
    const raw = localStorage.getItem(CACHE_KEY);
    return raw ? (JSON.parse(raw) as Me) : null;
  } catch {
    return null;
  }
}

function writeCachedMe(me: Me | null): void {
  try {
    if (me) localStorage.setItem(CACHE_KEY, JSON.stringify(me));
    else localStorage.removeItem(CACHE_KEY);
  } catch {
    // ignore
  }
}

subscribe(() => {
  if (state.me !== undefined) writeCachedMe(state.me);
});

export async function signIn(email: string, password: string): Promise<Me> {
  const me = await api<Me>('POST', 'auth/login', { email, password });
  adopt(me);
  return me;
}

const signOutListeners = new Set<() => void | Promise<void>>();

/** Run on sign-out (close the socket, forget cached rooms...). */
export function onSignOut(listener: () => void | Promise<void>): () => void {
  signOutListeners.add(listener);
  return () => signOutListeners.delete(listener);
}

export async function signOut(): Promise<void> {
  try {
    await api<void>('POST', 'auth/logout');
  } catch {
    // signed out on this side anyway
  }
  await Promise.all([...signOutListeners].map((listener) => listener()));
  set({ me: null, expired: false });
}

/** A 401 on any signed-in request: the session ended; the app sends the person to /login. */
onUnauthorized(() => {
  if (state.me) set({ me: null, expired: true });
  else if (state.me === undefined) set({ me: null });
});

/** Called by the socket when the server closes it with 4401. */
export function sessionExpired(): void {
  if (state.me) set({ me: null, expired: true });
}
