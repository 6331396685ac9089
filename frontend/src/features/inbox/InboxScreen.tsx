import { lazy, Suspense, useMemo, useState } from 'react';
import { useLang, useT } from '../../i18n';
import { Link } from '../../router';
import { loadRooms, useCasesByRoom, useRoomsLoaded, useRoomsMap, useStore, type CaseSummary } from '../../store';
import { sortRooms } from '../../store/reducer';
import type { Message, Room } from '../../store/types';
import { useMe } from '../auth/session';
import { fold, fullTime, shortTime } from './format';
import { inboxMessages } from './inboxMessages';
import './inbox.css';

const NewRoomDialog = lazy(() => import('../directory/NewRoomDialog'));

export function roomHref(room: Room, caseSummary: CaseSummary | undefined): string {
  return caseSummary ? `/cases/${caseSummary.id}` : `/rooms/${room.id}`;
}

function usePreview() {
  const t = useT(inboxMessages);
  const me = useMe();
  return (message: Message | null): string => {
    if (!message) return t('noMessages');
    if (message.is_deleted) return t('deleted');
    let text: string;
    switch (message.kind) {
      case 'photo':
      case 'measurement':
      case 'alert':
      case 'form_response':
        text = message.body ? `${t(message.kind)}: ${message.body}` : t(message.kind);
        break;
      case 'system':
        text = message.body || t('system');
        break;
      default:
        text = message.body;
    }
    if (message.kind !== 'system' && message.author) {
      const who = message.author.id === me?.id ? t('you') : message.author.full_name;
      return `${who}: ${text}`;
    }
    return text;
  };
}

export default function InboxScreen() {
  const t = useT(inboxMessages);
  const { lang } = useLang();
  const roomsMap = useRoomsMap();
  const loaded = useRoomsLoaded();
  const error = useStore((s) => s.roomsError);
  const cases = useCasesByRoom();
  const preview = usePreview();
  const [query, setQuery] = useState('');
  const [dialog, setDialog] = useState<'group' | 'direct' | null>(null);

  const rooms = useMemo(() => {
    const sorted = sortRooms(Object.values(roomsMap), (room) => cases[room.id]?.open_alerts ?? 0);
    const q = fold(query.trim());
    if (!q) return sorted;
    return sorted.filter((room) => {
      const c = cases[room.id];
      const haystack = [room.name, room.topic, c?.title, c?.patient.display_name].filter(Boolean).join(' ');
      return fold(haystack).includes(q);
    });
  }, [roomsMap, cases, query]);

  return (
    <main className="page inbox" aria-labelledby="inbox-title">
      <div className="inbox-head">
        <h1 id="inbox-title">{t('title')}</h1>
        <div className="inbox-actions">
          <button type="button" onClick={() => setDialog('direct')}>
            {t('newDirect')}
          </button>
          <button type="button" className="primary" onClick={() => setDialog('group')}>
            {t('newGroup')}
          </button>
        </div>
      </div>
      <div className="inbox-search" role="search">
        <label className="field">
          <span>{t('search')}</span>
          <input type="search" value={query} placeholder={t('searchPlaceholder')} onChange={(e) => setQuery(e.target.value)} />
        </label>
      </div>
      {!loaded && !error && (
        <p className="loading" role="status">
          {t('loading')}
        </p>
      )}
      {!loaded && error && (
        <div className="error" role="alert">
          {error === 'network_error' ? t('offline') : t('loadFailed')}{' '}
          <button type="button" className="link" onClick={() => void loadRooms().catch(() => undefined)}>
            {t('retry')}
          </button>
        </div>
      )}
      {loaded && rooms.length === 0 && <p className="muted">{query.trim() ? t('noMatch', { query: query.trim() }) : t('empty')}</p>}
      <ul className="inbox-list card-list">
        {rooms.map((room) => {
          const c = cases[room.id];
          const alerts = c?.open_alerts ?? 0;
          const last = room.last_message;
          const when = last?.created_at ?? c?.last_activity;
          const title = c ? c.patient.display_name : room.name;
          const kindLabel = c ? `${t('caseRoom')} · ${c.title}` : room.kind === 'direct' ? t('direct') : t('group');
          return (
            <li key={room.id}>
              <Link
                to={roomHref(room, c)}
                className={'inbox-item' + (room.unread_count > 0 ? ' unread' : '') + (alerts > 0 ? ' has-alerts' : '')}
                data-testid="inbox-item"
                data-room-id={room.id}
              >
                <span className={'avatar kind-' + room.kind} aria-hidden="true">
                  {(title || '?').slice(0, 1).toUpperCase()}
                </span>
                <span className="inbox-main">
                  <span className="inbox-line">
                    <span className="inbox-title">{title}</span>
                    <time className="inbox-time" dateTime={when ?? undefined} title={fullTime(when, lang)}>
                      {shortTime(when, lang)}
                    </time>
                  </span>
                  <span className="inbox-kind">
                    {kindLabel}
                    {room.is_archived ? ` · ${t('archived')}` : ''}
                  </span>
                  <span className="inbox-line">
                    <span className="inbox-preview">{preview(last)}</span>
                    <span className="inbox-badges">
                      {alerts > 0 && (
                        <span className="badge alert" title={t('alerts', { count: alerts })}>
                          <span aria-hidden="true">!</span> {alerts}
                          <span className="visually-hidden">{t('alerts', { count: alerts })}</span>
                        </span>
                      )}
                      {room.mention_count > 0 && (
                        <span className="badge mention" title={t('mentions', { count: room.mention_count })}>
                          @{room.mention_count}
                          <span className="visually-hidden">{t('mentions', { count: room.mention_count })}</span>
                        </span>
                      )}
                      {room.unread_count > 0 && (
                        <span className="badge" title={t('unread', { count: room.unread_count })}>
                          {room.unread_count}
                          <span className="visually-hidden">{t('unread', { count: room.unread_count })}</span>
                        </span>
                      )}
                    </span>
                  </span>
                </span>
              </Link>
            </li>
          );
        })}
      </ul>
      {dialog && (
        <Suspense fallback={null}>
          <NewRoomDialog mode={dialog} onClose={() => setDialog(null)} />
        </Suspense>
      )}
    </main>
  );
}
