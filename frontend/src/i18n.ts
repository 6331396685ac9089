/** English, French and Spanish: per-feature message tables, the current language, error texts. */
import { useCallback, useSyncExternalStore } from 'react';
import { errorMessages } from './errors';

export type Lang = 'en' | 'fr' | 'es';
export const LANGS: readonly Lang[] = ['en', 'fr', 'es'];
export const LANG_NAMES: Record<Lang, string> = { en: 'English', fr: 'Français', es: 'Español' };

export type MessageTable<K extends string> = { en: Record<K, string>; fr: Record<K, string>; es: Record<K, string> };

/** A feature's strings; French and Spanish must have exactly the English keys. */
export function defineMessages<K extends string>(messages: {
  en: Record<K, string>;
  fr: Record<K, string>;
  es: Record<K, string>;
}): MessageTable<K> {
  return messages;
}

export function isLang(value: unknown): value is Lang {
  return value === 'en' || value === 'fr' || value === 'es';
}

const STORAGE_KEY = 'care.lang';

function browserLang(): Lang {
  if (typeof navigator === 'undefined') return 'en';
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = (tag || '').slice(0, 2).toLowerCase();
    if (isLang(base)) return base;
  }
  return 'en';
}

function initialLang(): Lang {
  try {
    const stored = typeof localStorage !== 'undefined' ? localStorage.getItem(STORAGE_KEY) : null;
    if (isLang(stored)) return stored;
  } catch {
    // storage unavailable (private mode): fall through
  }
  return browserLang();
}

let current: Lang = initialLang();
const listeners = new Set<() => void>();

function apply(lang: Lang): void {
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
}
apply(current);

export function getLang(): Lang {
  return current;
}

/** Sets the interface language (the signed-in user's profile language wins at sign-in). */
export function setLang(lang: Lang): void {
  if (lang === current) return;
  current = lang;
  apply(lang);
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // ignore
  }
  listeners.forEach((listener) => listener());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useLang(): { lang: Lang; setLang: (lang: Lang) => void } {
  const lang = useSyncExternalStore(subscribe, getLang, getLang);
  return { lang, setLang };
}

export type Vars = Record<string, string | number>;

export function format(template: string, vars?: Vars): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export function translate<K extends string>(messages: MessageTable<K>, lang: Lang, key: K, vars?: Vars): string {
  return format(messages[lang][key] ?? messages.en[key] ?? key, vars);
}

/** `t(key, vars?)` for the current language, re-rendering when it changes. */
export function useT<K extends string>(messages: MessageTable<K>): (key: K, vars?: Vars) => string {
  const { lang } = useLang();
  return useCallback((key: K, vars?: Vars) => translate(messages, lang, key, vars), [messages, lang]);
}

const GENERIC: Record<Lang, string> = {
  en: 'Something went wrong. Try again.',
  fr: 'Une erreur est survenue. Réessayez.',
  es: 'Algo ha fallado. Vuelva a intentarlo.',
};

/** The message for an API error code in a language (codes never change with the language). */
export function errorText(code: string, lang: Lang = current, fallback?: string): string {
  return errorMessages[lang]?.[code] ?? fallback ?? errorMessages.en?.[code] ?? GENERIC[lang];
}

/** A person-readable text for anything thrown by `api()`/`upload()`. */
export function describeError(error: unknown, lang: Lang = current): string {
  if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    const e = error as { code: string; message?: string };
    return errorText(e.code, lang, e.message);
  }
  return GENERIC[lang];
}
