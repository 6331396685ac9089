import type { ReactNode } from 'react';
import { Link, navigate, useRoute } from '../../router';
import { useT } from '../../i18n';
import { signOut } from '../auth/session';
import { shellMessages } from './messages';
import { useConnection } from '../../store';
import { useOutboxCount } from '../../outbox';
import { UnreadBadge } from '../notifications';

function Icon({ d }: { d: string }) {
  return (
    <svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
      <path d={d} />
    </svg>
  );
}

export function ConnectionStatus() {
  const t = useT(shellMessages);
  const state = useConnection();
  const count = useOutboxCount();
  return (
    <>
      <span className="connection" data-testid="connection-status" data-state={state} role="status" title={t(state)}>
        <span className="label">{t(state)}</span>
      </span>
      {/* Not a notification badge: what this device still has to send (an upload tray and clock). */}
      <span
        className="outbox-pill"
        data-testid="outbox-count"
        role="status"
        hidden={count === 0}
        title={t(count === 1 ? 'queuedOne' : 'queued', { count })}
        aria-label={t(count === 1 ? 'queuedOne' : 'queued', { count })}
      >
        <svg aria-hidden="true" focusable="false" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
          <path d="M12 15V4M8 8l4-4 4 4M4 15v4a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-4" />
        </svg>
        <span aria-hidden="true">{t(count === 1 ? 'waitingShortOne' : 'waitingShort', { count })}</span>
      </span>
    </>
  );
}

export default function Shell({ children }: { children: ReactNode }) {
  const t = useT(shellMessages);
  const route = useRoute();
  const current = (name: string) => (route.name === name ? 'page' : undefined);
  return (
    <>
      <a className="skip-link" href="#main">
        {t('skip')}
      </a>
      <header className="shell-header">
        <Link to="/" className="brand" aria-label={t('home')}>
          <img src="/icon.svg" alt="" width={28} height={28} />
          <span className="brand-name">{t('appName')}</span>
        </Link>
        <ConnectionStatus />
        <nav className="shell-nav" aria-label={t('mainNav')}>
          <Link to="/" aria-current={current('inbox')}>
            <Icon d="M3 6h18M3 12h18M3 18h18" />
            <span className="label">{t('inbox')}</span>
          </Link>
          <Link to="/notifications" aria-current={current('notifications')}>
            <Icon d="M6 16V11a6 6 0 1 1 12 0v5l2 2H4l2-2M10 21h4" />
            <span className="label">{t('notifications')}</span>
            <UnreadBadge />
          </Link>
          <Link to="/settings" aria-current={current('settings')}>
            <Icon d="M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
            <span className="label">{t('settings')}</span>
          </Link>
          <button
            type="button"
            onClick={() => {
              void signOut().then(() => navigate('/login', { replace: true }));
            }}
          >
            <Icon d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9" />
            <span className="label">{t('signOut')}</span>
          </button>
        </nav>
      </header>
      <div id="main" tabIndex={-1}>
        {children}
      </div>
    </>
  );
}
