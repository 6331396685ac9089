import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api';
import { describeError, useLang, useT } from '../../i18n';
import { Link } from '../../router';
import { describeNotification } from './describe';
import { messages } from './messages';
import PushPanel from './PushPanel';
import { markReadLocally, mergeNotifications, targetHref, type NotificationItem, type NotificationPage } from './targets';
import { setUnreadCount, useUnreadNotifications } from './unread';
import './notifications.css';

type Key = keyof (typeof messages)['en'];

function when(iso: string, locale: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay
    ? d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString(locale, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/** The server's generic alert titles (stored in English), shown in the reader's language. */
const GENERIC_TITLES: Record<string, Key> = {
  'New alert': 'title_new_alert',
  'New urgent alert': 'title_new_urgent_alert',
};

/** The notification centre: mentions, alerts, assignments, measurements; push settings. */
export default function NotificationsScreen() {
  const t = useT(messages);
  const { lang } = useLang();
  const [items, setItems] = useState<NotificationItem[]>([]);
  const [unread, setUnread] = useState(0);
  const [next, setNext] = useState<number | null>(null);
  const [onlyUnread, setOnlyUnread] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [roomNames, setRoomNames] = useState<Map<number, string>>(new Map());

  // Which room (case) each notification is about: names come from my rooms, access checked.
  useEffect(() => {
    api<{ results: { id: number; name: string }[] }>('GET', 'rooms').then(
      (r) => setRoomNames(new Map(r.results.map((room) => [room.id, room.name]))),
      () => undefined,
    );
  }, []);

  const adoptCount = useCallback((n: number) => {
    setUnread(n);
    setUnreadCount(n);
  }, []);

  const load = useCallback(
    async (before: number | null) => {
      setLoading(true);
      setError(null);
      try {
        const q = new URLSearchParams({ limit: '30' });
        if (onlyUnread) q.set('unread', '1');
        if (before) q.set('before', String(before));
        const page = await api<NotificationPage>('GET', `notifications?${q.toString()}`);
        setItems((shown) => (before ? mergeNotifications(shown, page.results) : page.results));
        setNext(page.next);
        adoptCount(page.unread_count);
      } catch (e) {
        setError(describeError(e, lang));
      } finally {
        setLoading(false);
      }
    },
    [onlyUnread, lang, adoptCount],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  // The shared count follows the server's notices: when it moves without this screen (a new
  // notification, or some read on another device), show the list as it now is.
  const polled = useUnreadNotifications();
  useEffect(() => {
    if (polled !== unread && !loading) void load(null);
  }, [polled]);

  useEffect(() => {
    document.title = t('title');
  }, [t]);

  async function markRead(item: NotificationItem) {
    if (item.read_at) return;
    setItems((shown) => markReadLocally(shown, item.id, new Date().toISOString()));
    adoptCount(Math.max(0, unread - 1));
    try {
      await api('POST', `notifications/${item.id}/read`);
    } catch {
      // The next load shows the truth.
    }
  }

  async function markAll() {
    try {
      const r = await api<{ marked: number; unread_count: number }>('POST', 'notifications/read-all');
      const now = new Date().toISOString();
      setItems((shown) => shown.map((n) => (n.read_at ? n : { ...n, read_at: now })));
      adoptCount(r.unread_count);
      if (onlyUnread) void load(null);
    } catch (e) {
      setError(describeError(e, lang));
    }
  }

  return (
    <div className="page nc">
      <div className="nc-head">
        <h1>{t('title')}</h1>
        <p className="nc-count" aria-live="polite" data-testid="notifications-unread" data-count={unread}>
          {unread ? t('unreadCount', { count: unread }) : t('allRead')}
        </p>
      </div>
      <div className="nc-toolbar">
        <div className="nc-filter" role="group" aria-label={t('filterLabel')}>
          <button type="button" aria-pressed={!onlyUnread} onClick={() => setOnlyUnread(false)}>
            {t('filterAll')}
          </button>
          <button type="button" aria-pressed={onlyUnread} onClick={() => setOnlyUnread(true)}>
            {t('filterUnread')}
          </button>
        </div>
        <button type="button" onClick={() => void markAll()} disabled={unread === 0}>
          {t('markAllRead')}
        </button>
      </div>

      {error && (
        <div className="error" role="alert">
          <p>{error}</p>
          <button type="button" onClick={() => void load(null)}>
            {t('retry')}
          </button>
        </div>
      )}

      {items.length === 0 && !loading && !error && (
        <p className="nc-empty">{onlyUnread ? t('emptyUnread') : t('empty')}</p>
      )}

      <ul className="nc-list card-list">
        {items.map((n) => {
          const href = targetHref(n.target);
          const kindKey = `kind_${n.kind}` as Key;
          const kind = (messages.en as Record<string, string>)[kindKey] ? t(kindKey) : n.kind;
          const described = describeNotification(n.kind, n.title);
          const title = described ? t(described.key, described.vars) : GENERIC_TITLES[n.title] ? t(GENERIC_TITLES[n.title]) : n.title;
          return (
            <li
              key={n.id}
              className={`nc-item nc-item--${n.kind}${n.read_at ? '' : ' nc-item--unread'}`}
              data-testid="notification"
              data-notification-id={n.id}
              data-read={n.read_at ? 'true' : 'false'}
            >
              <span className={`nc-kind nc-kind--${n.kind}`}>{kind}</span>
              <div className="nc-item__body">
                {href ? (
                  <Link
                    to={href}
                    className="nc-item__title"
                    onClick={() => void markRead(n)}
                    onAuxClick={(e) => {
                      // Opened in another tab (middle click): read all the same.
                      if (e.button === 1) void markRead(n);
                    }}
                  >
                    {!n.read_at && <span className="visually-hidden">{t('unread')}: </span>}
                    {title}
                  </Link>
                ) : (
                  <span className="nc-item__title">
                    {!n.read_at && <span className="visually-hidden">{t('unread')}: </span>}
                    {title}
                  </span>
                )}
                {(() => {
                  const room = n.target?.room ? roomNames.get(n.target.room) : undefined;
                  return room && !n.title.includes(room) ? <span className="nc-item__room">{room}</span> : null;
                })()}
                <time dateTime={n.created_at} className="nc-item__time">
                  {when(n.created_at, lang)}
                </time>
              </div>
              {!n.read_at && (
                <button
                  type="button"
                  className="nc-item__read"
                  aria-label={`${t('markRead')}: ${title}`}
                  onClick={() => void markRead(n)}
                >
                  {t('markRead')}
                </button>
              )}
            </li>
          );
        })}
      </ul>

      {loading && (
        <p className="muted" role="status">
          {t('loading')}
        </p>
      )}
      {next && !loading && (
        <button type="button" className="nc-more" onClick={() => void load(next)}>
          {t('loadMore')}
        </button>
      )}

      <PushPanel />
    </div>
  );
}
