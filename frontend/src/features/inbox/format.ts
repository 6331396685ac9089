import type { Lang } from '../../i18n';

/** A short time for lists: the hour today, the day this week, else the date. */
export function shortTime(iso: string | null | undefined, lang: Lang, now: Date = new Date()): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const sameDay = date.toDateString() === now.toDateString();
  if (sameDay) return date.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
  const days = (now.getTime() - date.getTime()) / 86400000;
  if (days < 6 && days > 0) return date.toLocaleDateString(lang, { weekday: 'short' });
  return date.toLocaleDateString(lang, { day: 'numeric', month: 'short', year: date.getFullYear() === now.getFullYear() ? undefined : 'numeric' });
}

export function fullTime(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Lower-case, accents removed: "Émile" matches "emile". */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}
