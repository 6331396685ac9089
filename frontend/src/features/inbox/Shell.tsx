import type { ReactNode } from 'react';
import { Link, useRoute } from '../../router';
import { useT } from '../../i18n';
import { signOut } from '../auth/session';
import { shellMessages } from './messages';
import { useConnection } from '../../store';
import { useOutboxCount } from '../../outbox';
import { UnreadBadge } from '../notifications';

export function ConnectionStatus() {
  const t = useT(shellMessages);
  const state = useConnection();
  const count = useOutboxCount();
  return (
    <>
      <span className="connection" data-testid="connection-status" data-state={state} role="status" title={t(state)}>
        <span className="label">{t(state)}</span>
      </span>
      <span
        className="badge outbox-badge"
        data-testid="outbox-count"
        hidden={count === 0}
        title={t('queued', { count })}
        aria-label={t('queued', { count })}
      >
        {count}
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
            <span aria-hidden="true">☰</span>
            <span className="label">{t('inbox')}</span>
          </Link>
          <Link to="/notifications" aria-current={current('notifications')}>
            <span aria-hidden="true">🔔</span>
            <span className="label">{t('notifications')}</span>
            <UnreadBadge />
          </Link>
          <Link to="/settings" aria-current={current('settings')}>
            <span aria-hidden="true">⚙</span>
            <span className="label">{t('settings')}</span>
          </Link>
          <button
            type="button"
            onClick={() => {
              void signOut();
            }}
          >
            <span aria-hidden="true">⎋</span>
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
