import { lazy, memo, Suspense, useEffect, useState, type ComponentType, type KeyboardEvent } from 'react';
import { describeError, useLang, useT } from '../../i18n';
import { deleteMessage, editMessage } from '../../store';
import type { Message } from '../../store/types';
import { discardItem, retryItem, useOutboxProgress, type OutboxItem } from '../../outbox';
import { fullTime, shortTime } from '../inbox/format';
import { splitMentions } from './mentions';
import { roomMessages } from './messages';

type CardProps = { message: Message };
type Loader = () => Promise<{ default: ComponentType<CardProps> }>;

function optional(modules: Record<string, Loader>): ComponentType<CardProps> | null {
  const loader = Object.values(modules)[0];
  return loader ? (lazy(loader) as unknown as ComponentType<CardProps>) : null;
}

// Cards of other features, loaded when a room first shows one (absent: a plain fallback).
const PhotoMessage = optional(import.meta.glob<{ default: ComponentType<CardProps> }>('../media/PhotoMessage.tsx'));
const AlertCard = optional(import.meta.glob<{ default: ComponentType<CardProps> }>('../alerts/AlertCard.tsx'));
const FormResponseCard = optional(import.meta.glob<{ default: ComponentType<CardProps> }>('../forms/FormResponseCard.tsx'));

function cardFor(message: Message): ComponentType<CardProps> | null {
  switch (message.kind) {
    case 'photo':
    case 'measurement':
      return PhotoMessage;
    case 'alert':
      return AlertCard;
    case 'form_response':
      return FormResponseCard;
    default:
      return null;
  }
}

export function Body({ text, myHandle }: { text: string; myHandle?: string }) {
  return (
    <>
      {splitMentions(text).map((part, i) =>
        part.handle ? (
          <span key={i} className={'mention' + (part.handle === myHandle ? ' me' : '')}>
            {part.text}
          </span>
        ) : (
          <span key={i}>{part.text}</span>
        ),
      )}
    </>
  );
}

type Props = {
  message: Message;
  meId: number | null;
  myHandle?: string;
  grouped: boolean;
  onReply: (message: Message) => void;
};

function MessageItemImpl({ message, meId, myHandle, grouped, onReply }: Props) {
  const t = useT(roomMessages);
  const { lang } = useLang();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.body);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const mine = message.author?.id === meId && meId !== null;
  const mentionsMe = meId !== null && message.mentions.includes(meId);

  if (message.kind === 'system') {
    return (
      <li className="msg system" id={`message-${message.id}`} data-testid="message" data-message-id={message.id} data-client-uuid={message.client_uuid ?? ''} data-state="sent">
        <span>{message.body}</span> <time dateTime={message.created_at}>{shortTime(message.created_at, lang)}</time>
      </li>
    );
  }

  const Card = message.is_deleted ? null : cardFor(message);

  const save = async () => {
    if (!draft.trim() || draft === message.body) {
      setEditing(false);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await editMessage(message.id, draft);
      setEditing(false);
    } catch (err) {
      setError(describeError(err, lang));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!window.confirm(t('confirmDelete'))) return;
    setError(null);
    try {
      await deleteMessage(message.id);
    } catch (err) {
      setError(describeError(err, lang));
    }
  };

  const onEditKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      setEditing(false);
      setDraft(message.body);
    } else if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      void save();
    }
  };

  const author = message.author?.full_name ?? t('unknownAuthor');
  return (
    <li
      className={
        'msg' + (mine ? ' mine' : '') + (grouped ? ' grouped' : '') + (mentionsMe ? ' mentions-me' : '') + (message.is_deleted ? ' deleted' : '')
      }
      id={`message-${message.id}`}
      data-testid="message"
      data-message-id={message.id}
      data-client-uuid={message.client_uuid ?? ''}
      data-state="sent"
      data-kind={message.kind}
    >
      <div className={grouped ? 'msg-head visually-hidden' : 'msg-head'}>
        <span className="msg-author">{author}</span>
        <time className="msg-time" dateTime={message.created_at} title={fullTime(message.created_at, lang)}>
          {shortTime(message.created_at, lang)}
        </time>
        {mentionsMe && <span className="visually-hidden">{t('mentionsYou')}</span>}
      </div>
      {message.reply_to && (
        <blockquote className="msg-quote">
          <span className="msg-quote-author">{message.reply_to.author?.full_name ?? t('unknownAuthor')}</span>
          <span className="msg-quote-body">{message.reply_to.is_deleted ? t('deleted') : message.reply_to.body}</span>
        </blockquote>
      )}
      {message.is_deleted ? (
        <p className="msg-body tombstone">{t('deleted')}</p>
      ) : editing ? (
        <div className="msg-edit">
          <label className="visually-hidden" htmlFor={`edit-${message.id}`}>
            {t('editLabel')}
          </label>
          <textarea id={`edit-${message.id}`} value={draft} onChange={(e) => setDraft(e.target.value)} onKeyDown={onEditKey} rows={3} autoFocus />
          <div className="msg-edit-actions">
            <button type="button" onClick={() => setEditing(false)}>
              {t('cancel')}
            </button>
            <button type="button" className="primary" onClick={() => void save()} disabled={busy}>
              {t('save')}
            </button>
          </div>
        </div>
      ) : (
        <>
          {Card ? (
            <Suspense fallback={<p className="msg-body">{message.body || t(message.kind as 'photo')}</p>}>
              <Card message={message} />
            </Suspense>
          ) : (
            <p className="msg-body">
              {message.kind !== 'text' && !message.body ? t(message.kind as 'photo') : <Body text={message.body} myHandle={myHandle} />}
              {message.edited_at && <span className="msg-edited"> ({t('edited')})</span>}
            </p>
          )}
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!message.is_deleted && !editing && (
        <div className="msg-actions" role="group" aria-label={t('messageActions')}>
          <button type="button" className="link" onClick={() => onReply(message)}>
            {t('reply')}
          </button>
          {mine && message.kind === 'text' && (
            <button
              type="button"
              className="link"
              onClick={() => {
                setDraft(message.body);
                setEditing(true);
              }}
            >
              {t('edit')}
            </button>
          )}
          {mine && (
            <button type="button" className="link danger-link" onClick={() => void remove()}>
              {t('delete')}
            </button>
          )}
        </div>
      )}
    </li>
  );
}

export const MessageItem = memo(MessageItemImpl);

/** A photo still in the outbox: its thumbnail from the queued blob, and the upload's progress. */
function QueuedPhoto({ item, progress }: { item: OutboxItem; progress: number | undefined }) {
  const t = useT(roomMessages);
  const blob = item.blob;
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!blob || typeof URL.createObjectURL !== 'function') {
      setUrl(null);
      return undefined;
    }
    const objectUrl = URL.createObjectURL(blob);
    setUrl(objectUrl);
    return () => URL.revokeObjectURL(objectUrl);
  }, [blob]);
  const uploading = progress !== undefined;
  const label = uploading ? t('photoUploading', { percent: Math.round(progress * 100) }) : t('photoQueued');
  return (
    <div className="msg-body queued-photo">
      {url ? <img className="queued-photo-thumb" src={url} alt={t('photoQueued')} /> : null}
      <p className="small">
        {label}
        {item.note ? ` — ${item.note}` : ''}
      </p>
      {uploading && <progress className="msg-progress" value={progress} max={1} aria-label={label} />}
    </div>
  );
}

export function QueuedItem({ item, myHandle }: { item: OutboxItem; myHandle?: string }) {
  const t = useT(roomMessages);
  const { lang } = useLang();
  const progress = useOutboxProgress(item.clientUuid);
  const stateText = item.state === 'failed' ? t('failed') : item.state === 'sending' ? t('sending') : t('queued');
  return (
    <li className={'msg mine queued state-' + item.state} data-testid="message" data-client-uuid={item.clientUuid} data-state={item.state}>
      <div className="msg-head">
        <span className="msg-status" role="status">
          {stateText}
        </span>
      </div>
      {item.kind === 'message' ? (
        <p className="msg-body">
          <Body text={item.text ?? ''} myHandle={myHandle} />
        </p>
      ) : (
        <QueuedPhoto item={item} progress={item.state === 'sending' ? progress : undefined} />
      )}
      {item.state === 'failed' && (
        <>
          {item.error && <p className="error">{describeError({ code: item.error }, lang)}</p>}
          <div className="msg-actions visible">
            <button type="button" className="link" onClick={() => void retryItem(item.clientUuid)}>
              {t('retrySend')}
            </button>
            <button type="button" className="link danger-link" onClick={() => void discardItem(item.clientUuid)}>
              {t('discard')}
            </button>
          </div>
        </>
      )}
    </li>
  );
}
