import type { ReactNode } from 'react';
import { Link, useRoute } from '../../router';
import { useT } from '../../i18n';
import { signOut } from '../auth/session';
import { shellMessages } from './messages';

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
        <nav className="shell-nav" aria-label={t('mainNav')}>
          <Link to="/" aria-current={current('inbox')}>
            <span aria-hidden="true">☰</span>
            <span className="label">{t('inbox')}</span>
          </Link>
          <Link to="/notifications" aria-current={current('notifications')}>
            <span aria-hidden="true">🔔</span>
            <span className="label">{t('notifications')}</span>
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
