import { useEffect, useId, useState } from 'react';
import { api } from '../../api';
import { describeError, LANG_NAMES, LANGS, useLang, useT, type Lang } from '../../i18n';
import { Link } from '../../router';
import { LANG_CHOSEN_KEY, saveLanguage, signOut, useMe } from '../auth/session';
import { disablePush } from '../notifications/push';
import { messages } from './messages';
import './settings.css';

interface Token {
  id: number;
  name: string;
  key_start: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

function day(iso: string, locale: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(locale, { day: 'numeric', month: 'short', year: 'numeric' });
}

/** Stop this browser's pushes before the session closes (best effort, a few seconds at most). */
async function dropPush(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  const registration = async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    if (!reg) throw new Error('no registration');
    return reg;
  };
  await Promise.race([disablePush({ api, registration }).catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
}

/** Language, notifications, API tokens and signing out. */
export default function SettingsScreen() {
  const t = useT(messages);
  const { lang, setLang } = useLang();
  const me = useMe();
  const langName = useId();
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [langError, setLangError] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);

  useEffect(() => {
    document.title = t('title');
  }, [t]);

  useEffect(() => {
    api<Token[]>('GET', 'auth/tokens').then(setTokens, () => setTokens([]));
  }, []);

  async function revoke(token: Token) {
    if (!window.confirm(t('revokeConfirm', { name: token.name }))) return;
    setError(null);
    try {
      await api('DELETE', `auth/tokens/${token.id}`);
      setTokens((all) => (all ?? []).filter((x) => x.id !== token.id));
    } catch (e) {
      setError(t('error', { error: describeError(e, lang) }));
    }
  }

  async function choose(l: Lang) {
    try {
      localStorage.setItem(LANG_CHOSEN_KEY, '1');
    } catch {
      // private mode: the choice lasts until the page is reloaded
    }
    setLang(l);
    setLangError(null);
    try {
      await saveLanguage(l);
    } catch (e) {
      setLangError(messages[l].languageNotSaved.replace('{error}', describeError(e, l)));
    }
  }

  async function leave() {
    setLeaving(true);
    await dropPush();
    await signOut();
  }

  return (
    <div className="page settings">
      <h1>{t('title')}</h1>

      <section className="card settings__section" aria-labelledby="settings-account">
        <h2 id="settings-account">{t('account')}</h2>
        {me && <p>{t('signedInAs', { name: me.full_name, email: me.email })}</p>}
        <button type="button" className="danger" onClick={() => void leave()} disabled={leaving}>
          {leaving ? t('signingOut') : t('signOut')}
        </button>
      </section>

      <section className="card settings__section">
        <fieldset className="settings__langs">
          <legend>
            <h2>{t('language')}</h2>
          </legend>
          <p className="muted">{t('languageHelp')}</p>
          {LANGS.map((l: Lang) => (
            <label key={l} className="settings__lang" lang={l}>
              <input type="radio" name={langName} value={l} checked={lang === l} onChange={() => void choose(l)} />
              {LANG_NAMES[l]}
            </label>
          ))}
          {langError && (
            <p className="error" role="alert">
              {langError}
            </p>
          )}
        </fieldset>
      </section>

      <section className="card settings__section" aria-labelledby="settings-notifications">
        <h2 id="settings-notifications">{t('notifications')}</h2>
        <p>
          <Link to="/notifications#push">{t('notificationsLink')}</Link>
        </p>
      </section>

      <section className="card settings__section" aria-labelledby="settings-tokens">
        <h2 id="settings-tokens">{t('tokens')}</h2>
        <p className="muted">{t('tokensHelp')}</p>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {tokens && tokens.length === 0 && <p>{t('tokensNone')}</p>}
        {tokens && tokens.length > 0 && (
          <ul className="settings__tokens">
            {tokens.map((tok) => (
              <li key={tok.id}>
                <div>
                  <strong>{tok.name}</strong> <code>{tok.key_start}…</code>
                  <div className="muted settings__token-meta">
                    {t('tokenCreated', { date: day(tok.created_at, lang) })} ·{' '}
                    {tok.last_used_at ? t('tokenLastUsed', { date: day(tok.last_used_at, lang) }) : t('tokenNeverUsed')}
                    {tok.expires_at ? ` · ${t('tokenExpires', { date: day(tok.expires_at, lang) })}` : ''}
                  </div>
                </div>
                <button type="button" onClick={() => void revoke(tok)} aria-label={`${t('revoke')}: ${tok.name}`}>
                  {t('revoke')}
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
