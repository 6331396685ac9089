import { useState, type FormEvent } from 'react';
import { describeError, LANG_NAMES, LANGS, useLang, useT, isLang } from '../../i18n';
import { navigate, useLocation } from '../../router';
import { signIn, useSession } from './session';
import { messages } from './messages';
import './auth.css';

/** Where to go after signing in: an in-app path only (never another site). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/login')) return '/';
  return next;
}

export default function LoginScreen() {
  const t = useT(messages);
  const { lang, setLang } = useLang();
  const { expired } = useSession();
  const { query } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!email.trim() || !password) {
      setError(t('missing'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(email.trim(), password);
      navigate(safeNext(query.get('next')), { replace: true });
    } catch (err) {
      setError(describeError(err, lang));
      setBusy(false);
    }
  };

  return (
    <main className="login" id="main">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title" noValidate>
        <div className="login-brand" aria-hidden="true">
          <img src="/icon.svg" alt="" width={40} height={40} />
        </div>
        <h1 id="login-title">{t('title')}</h1>
        <p className="muted">{t('intro')}</p>
        {expired && !error && (
          <p className="notice" role="status">
            {t('expired')}
          </p>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <label className="field">
          <span>{t('email')}</span>
          <input
            type="email"
            name="email"
            autoComplete="username"
            inputMode="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label className="field">
          <span>{t('password')}</span>
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" className="primary wide" disabled={busy}>
          {busy ? t('submitting') : t('submit')}
        </button>
        <label className="field inline">
          <span>{t('language')}</span>
          <select value={lang} onChange={(e) => isLang(e.target.value) && setLang(e.target.value)}>
            {LANGS.map((l) => (
              <option key={l} value={l}>
                {LANG_NAMES[l]}
              </option>
            ))}
          </select>
        </label>
      </form>
    </main>
  );
}
