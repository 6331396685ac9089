import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { api } from '../../api';
import { useT } from '../../i18n';
import { addMessage, newClientUuid } from '../../outbox';
import { sendTyping } from '../../store';
import type { Message, User } from '../../store/types';
import { insertMention, mentionAt } from './mentions';
import { roomMessages } from './messages';

type Props = {
  roomId: number;
  replyTo: Message | null;
  onCancelReply: () => void;
  disabled?: boolean;
  meId: number | null;
};

const TYPING_EVERY_MS = 3000;

export function Composer({ roomId, replyTo, onCancelReply, disabled, meId }: Props) {
  const t = useT(roomMessages);
  const id = useId();
  const ref = useRef<HTMLTextAreaElement>(null);
  const [text, setText] = useState('');
  const [mention, setMention] = useState<{ query: string; start: number } | null>(null);
  const [suggestions, setSuggestions] = useState<User[]>([]);
  const [active, setActive] = useState(0);
  const lastTyping = useRef(0);

  useEffect(() => {
    if (replyTo) ref.current?.focus();
  }, [replyTo]);

  // Stop "typing" when leaving the room.
  useEffect(
    () => () => {
      if (lastTyping.current) sendTyping(roomId, false);
    },
    [roomId],
  );

  useEffect(() => {
    if (!mention) {
      setSuggestions([]);
      return;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      api<User[]>('GET', `users?search=${encodeURIComponent(mention.query)}`)
        .then((users) => {
          if (cancelled) return;
          setSuggestions(users.filter((u) => u.id !== meId).slice(0, 8));
          setActive(0);
        })
        .catch(() => !cancelled && setSuggestions([]));
    }, 120);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [mention, meId]);

  const typing = (value: string) => {
    const now = Date.now();
    if (value && now - lastTyping.current > TYPING_EVERY_MS) {
      lastTyping.current = now;
      sendTyping(roomId, true);
    } else if (!value && lastTyping.current) {
      lastTyping.current = 0;
      sendTyping(roomId, false);
    }
  };

  const onChange = (value: string, caret: number) => {
    setText(value);
    setMention(mentionAt(value, caret));
    typing(value);
  };

  const pick = (user: User) => {
    const textarea = ref.current;
    if (!textarea || !mention) return;
    const result = insertMention(text, mention.start, textarea.selectionStart, user.handle);
    setText(result.text);
    setMention(null);
    requestAnimationFrame(() => {
      textarea.focus();
      textarea.setSelectionRange(result.caret, result.caret);
    });
  };

  const send = () => {
    const body = text.trim();
    if (!body || disabled) return;
    void addMessage({ roomId, clientUuid: newClientUuid(), text: body, replyTo: replyTo?.id ?? null });
    setText('');
    setMention(null);
    onCancelReply();
    if (lastTyping.current) {
      lastTyping.current = 0;
      sendTyping(roomId, false);
    }
    ref.current?.focus();
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    send();
  };

  const open = mention !== null && suggestions.length > 0;

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (open) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const delta = event.key === 'ArrowDown' ? 1 : -1;
        setActive((i) => (i + delta + suggestions.length) % suggestions.length);
        return;
      }
      if (event.key === 'Enter' || event.key === 'Tab') {
        event.preventDefault();
        pick(suggestions[active]);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        setMention(null);
        return;
      }
    }
    if (event.key === 'Escape' && replyTo) {
      event.preventDefault();
      onCancelReply();
      return;
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  };

  const listId = `${id}-mentions`;
  return (
    <form className="composer" onSubmit={onSubmit}>
      {replyTo && (
        <div className="composer-reply">
          <span>
            <strong>{t('replyTo', { name: replyTo.author?.full_name ?? t('unknownAuthor') })}</strong>
            <span className="composer-reply-body">{replyTo.body}</span>
          </span>
          <button type="button" className="icon" onClick={onCancelReply} aria-label={t('cancelReply')}>
            ✕
          </button>
        </div>
      )}
      {open && (
        <ul className="mention-list" id={listId} role="listbox" aria-label={t('mentionSuggestions')}>
          {suggestions.map((user, i) => (
            <li
              key={user.id}
              id={`${listId}-${user.id}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(user);
              }}
            >
              <strong>{user.full_name}</strong> <span className="muted">@{user.handle}</span>
            </li>
          ))}
        </ul>
      )}
      <div className="composer-row">
        <label htmlFor={`${id}-text`} className="visually-hidden">
          {t('message')}
        </label>
        <textarea
          id={`${id}-text`}
          ref={ref}
          value={text}
          rows={1}
          placeholder={t('placeholder')}
          disabled={disabled}
          onChange={(e) => onChange(e.target.value, e.target.selectionStart)}
          onKeyDown={onKeyDown}
          onBlur={() => setTimeout(() => setMention(null), 150)}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? `${listId}-${suggestions[active]?.id}` : undefined}
        />
        <button type="submit" className="primary" disabled={disabled || !text.trim()}>
          {t('send')}
        </button>
      </div>
    </form>
  );
}
