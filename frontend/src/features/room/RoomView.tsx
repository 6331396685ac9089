import { Fragment, lazy, Suspense, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../../api';
import { describeError, useLang, useT } from '../../i18n';
import { Link } from '../../router';
import { loadOlder, loadTimeline, markRead, refreshRoom, useConnection, useRoom, useTimeline, useTyping } from '../../store';
import type { Message } from '../../store/types';
import { useOutbox } from '../../outbox';
import { useMe } from '../auth/session';
import { Composer } from './Composer';
import { MessageItem, QueuedItem } from './MessageItem';
import { roomMessages } from './messages';
import './room.css';

const MembersDialog = lazy(() => import('../directory/MembersDialog'));

const GROUP_WITHIN_MS = 5 * 60 * 1000;

function isGrouped(previous: Message | undefined, message: Message): boolean {
  if (!previous || previous.kind === 'system' || message.kind === 'system' || message.reply_to) return false;
  if (previous.author?.id !== message.author?.id) return false;
  return new Date(message.created_at).getTime() - new Date(previous.created_at).getTime() < GROUP_WITHIN_MS;
}

function dayOf(iso: string): string {
  return new Date(iso).toDateString();
}

function dayLabel(iso: string, lang: string): string {
  return new Date(iso).toLocaleDateString(lang, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

type Props = {
  roomId: number;
  /** Shown beside the timeline on wide screens, above it on phones (the case panel). */
  side?: ReactNode;
  sideLabel?: string;
  title?: ReactNode;
  subtitle?: ReactNode;
};

export default function RoomView({ roomId, side, sideLabel, title, subtitle }: Props) {
  const t = useT(roomMessages);
  const { lang } = useLang();
  const me = useMe();
  const room = useRoom(roomId);
  const timeline = useTimeline(roomId);
  const queued = useOutbox(roomId);
  const typing = useTyping(roomId);
  const connection = useConnection();
  const [error, setError] = useState<string | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [showMembers, setShowMembers] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const prepend = useRef<{ height: number; top: number } | null>(null);
  const topSentinel = useRef<HTMLDivElement>(null);

  const load = useCallback(() => {
    setError(null);
    setNotFound(false);
    loadTimeline(roomId).catch((err: unknown) => {
      if (err instanceof ApiError && (err.code === 'room_not_found' || err.status === 404)) setNotFound(true);
      else setError(describeError(err, lang));
    });
    if (!room) refreshRoom(roomId).catch(() => undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [roomId]);

  useEffect(() => {
    atBottom.current = true;
    setReplyTo(null);
    load();
  }, [load]);

  // Reload after a reconnection (what was missed arrives as events; this is a safety net).
  const wasOnline = useRef(connection === 'online');
  useEffect(() => {
    if (connection === 'online' && !wasOnline.current && timeline?.loaded) {
      loadTimeline(roomId).catch(() => undefined);
    }
    wasOnline.current = connection === 'online';
  }, [connection, roomId, timeline?.loaded]);

  const messages = timeline?.messages;
  const pending = useMemo(() => {
    const sent = new Set((messages ?? []).map((m) => m.client_uuid).filter(Boolean));
    return queued.filter((item) => !sent.has(item.clientUuid));
  }, [messages, queued]);

  // Keep the view at the bottom when new messages arrive (if it was there), and in place when older ones are prepended.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (prepend.current) {
      el.scrollTop = el.scrollHeight - prepend.current.height + prepend.current.top;
      prepend.current = null;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [messages, pending.length]);

  // Photos and lazily loaded cards grow the timeline after it is drawn: stay at the bottom.
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const el = scroller.current;
    const content = list.current;
    if (!el || !content || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(content);
    return () => observer.disconnect();
  }, [timeline?.loaded]);

  // A link to one message (#message-ID, from a notification): show it once it is loaded.
  const jumped = useRef<string | null>(null);
  useEffect(() => {
    const hash = window.location.hash;
    if (!hash.startsWith('#message-') || jumped.current === hash || !messages) return;
    const el = document.getElementById(hash.slice(1));
    if (!el) return;
    jumped.current = hash;
    atBottom.current = false;
    el.scrollIntoView({ block: 'center' });
    el.classList.add('highlight');
  }, [messages]);

  // Mark read what is shown while the view is at the bottom and the page visible.
  const lastSeq = messages && messages.length > 0 ? messages[messages.length - 1].seq : 0;
  const maybeMarkRead = useCallback(() => {
    if (!lastSeq || document.visibilityState !== 'visible' || !atBottom.current) return;
    if (room && room.last_read_seq >= lastSeq && room.unread_count === 0) return;
    void markRead(roomId, lastSeq);
  }, [lastSeq, room, roomId]);

  useEffect(() => {
    maybeMarkRead();
    document.addEventListener('visibilitychange', maybeMarkRead);
    return () => document.removeEventListener('visibilitychange', maybeMarkRead);
  }, [maybeMarkRead]);

  const older = useCallback(async () => {
    const el = scroller.current;
    if (loadingOlder || !timeline?.hasMoreBefore || !el) return;
    setLoadingOlder(true);
    prepend.current = { height: el.scrollHeight, top: el.scrollTop };
    try {
      await loadOlder(roomId);
    } catch (err) {
      prepend.current = null;
      setError(describeError(err, lang));
    } finally {
      setLoadingOlder(false);
    }
  }, [loadingOlder, timeline?.hasMoreBefore, roomId, lang]);

  // Infinite scroll back: load older messages when the top comes into view.
  useEffect(() => {
    const sentinel = topSentinel.current;
    if (!sentinel || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !atBottom.current) void older();
      },
      { root: scroller.current, rootMargin: '200px 0px 0px 0px' },
    );
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [older]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    if (atBottom.current) maybeMarkRead();
  };

  const onReply = useCallback((message: Message) => setReplyTo(message), []);

  if (notFound) {
    return (
      <main className="page">
        <p className="error">{t('roomNotFound')}</p>
        <Link to="/">{t('back')}</Link>
      </main>
    );
  }

  const typingText =
    typing.length === 0
      ? ''
      : typing.length === 1
        ? t('typingOne', { name: typing[0].name })
        : t('typingMany', { names: typing.map((x) => x.name).join(', ') });

  return (
    <div className={'room-layout' + (side ? ' with-side' : '')}>
      <main className="room" aria-labelledby="room-title">
        <div className="room-head">
          <Link to="/" className="room-back" aria-label={t('back')}>
            ←
          </Link>
          <div className="room-head-text">
            <h1 id="room-title">{title ?? room?.name ?? '…'}</h1>
            <p className="muted">{subtitle ?? (room ? [room.topic, t('members', { count: room.member_count })].filter(Boolean).join(' · ') : '')}</p>
          </div>
          {room && room.kind !== 'case' && (
            <button type="button" className="room-members-button" onClick={() => setShowMembers(true)}>
              {t('membersButton')}
            </button>
          )}
        </div>
        {showMembers && room && (
          <Suspense fallback={null}>
            <MembersDialog room={room} onClose={() => setShowMembers(false)} />
          </Suspense>
        )}
        <div className="timeline" ref={scroller} onScroll={onScroll} tabIndex={0} aria-label={t('timeline')}>
          <div ref={topSentinel} />
          {timeline?.loaded && timeline.hasMoreBefore && (
            <div className="timeline-more">
              <button type="button" onClick={() => void older()} disabled={loadingOlder}>
                {loadingOlder ? t('loadingEarlier') : t('earlier')}
              </button>
            </div>
          )}
          {timeline?.loaded && !timeline.hasMoreBefore && <p className="timeline-start muted">{t('start')}</p>}
          {!timeline?.loaded && !error && (
            <p className="loading" role="status">
              {t('loading')}
            </p>
          )}
          {error && (
            <div className="error" role="alert">
              {timeline?.loaded ? error : t('loadFailed')}{' '}
              <button type="button" className="link" onClick={load}>
                {t('retry')}
              </button>
            </div>
          )}
          <ol className="messages" ref={list} aria-live="polite" aria-relevant="additions">
            {messages?.map((message, i) => {
              const day = dayOf(message.created_at);
              const newDay = i === 0 || dayOf(messages[i - 1].created_at) !== day;
              return (
                <Fragment key={message.id}>
                  {newDay && (
                    <li className="day-separator" role="separator" aria-label={dayLabel(message.created_at, lang)}>
                      <span aria-hidden="true">{dayLabel(message.created_at, lang)}</span>
                    </li>
                  )}
                  <MessageItem
                    message={message}
                    meId={me?.id ?? null}
                    myHandle={me?.handle}
                    grouped={!newDay && isGrouped(messages[i - 1], message)}
                    onReply={onReply}
                  />
                </Fragment>
              );
            })}
            {pending.map((item) => (
              <QueuedItem key={item.clientUuid} item={item} myHandle={me?.handle} />
            ))}
          </ol>
        </div>
        <p className="typing" aria-live="polite">
          {typingText}
        </p>
        {room?.is_archived ? (
          <p className="notice">{t('archived')}</p>
        ) : (
          <>
            {connection === 'offline' && <p className="notice small">{t('offlineNote')}</p>}
            <Composer roomId={roomId} replyTo={replyTo} onCancelReply={() => setReplyTo(null)} meId={me?.id ?? null} />
          </>
        )}
      </main>
      {side && (
        <aside className="room-side" aria-label={sideLabel}>
          {side}
        </aside>
      )}
    </div>
  );
}
