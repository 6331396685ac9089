import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../../api';
import { useT } from '../../i18n';
import type { User } from '../../store/types';
import { directoryMessages } from './messages';

/** A modal dialog: opened on mount, Escape and the close button call ``onClose``; with
 * ``onSubmit`` its body is a form. */
export function Dialog({
  title,
  error,
  onClose,
  onSubmit,
  children,
}: {
  title: string;
  error: string | null;
  onClose: () => void;
  onSubmit?: (event: FormEvent) => void;
  children: ReactNode;
}) {
  const t = useT(directoryMessages);
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    if (ref.current && !ref.current.open) ref.current.showModal();
  }, []);

  const body = (
    <>
      <div className="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon" onClick={onClose} aria-label={t('close')}>
          ✕
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {children}
    </>
  );
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {onSubmit ? (
        <form onSubmit={onSubmit} className="dialog-body">
          {body}
        </form>
      ) : (
        <div className="dialog-body">{body}</div>
      )}
    </dialog>
  );
}

/** The people I may see matching ``search`` (``null`` until the first answer), asked 200 ms
 * after the last keystroke, while ``enabled``. */
export function usePeopleSearch(
  search: string,
  enabled = true,
): { users: User[] | null; error: unknown } {
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!enabled) return undefined;
    let cancelled = false;
    const timer = setTimeout(() => {
      api<User[]>('GET', `users?search=${encodeURIComponent(search.trim())}`)
        .then((list) => {
          if (cancelled) return;
          setUsers(list);
          setError(null);
        })
        .catch((err: unknown) => !cancelled && setError(err));
    }, 200);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [search, enabled]);
  return { users, error };
}
