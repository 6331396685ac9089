import { useEffect, useId, useState } from 'react';
import { api, ApiError } from '../../api';
import { describeError, useLang, useT } from '../../i18n';
import { messages } from './messages';
import {
  currentSubscription,
  disablePush,
  enablePush,
  pushAvailability,
  PushError,
  readPushEnv,
} from './push';
import { PUSH_KINDS, type NotificationKind } from './targets';

type Prefs = Record<NotificationKind, boolean>;

/** The service worker's registration, or an error after a few seconds without one. */
function registration(): Promise<ServiceWorkerRegistration> {
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => reject(new PushError('failed', 'no-worker')), 5000);
    navigator.serviceWorker.ready.then(
      (reg) => {
        clearTimeout(timeout);
        resolve(reg);
      },
      (e: unknown) => {
        clearTimeout(timeout);
        reject(e);
      },
    );
  });
}

async function existingRegistration(): Promise<ServiceWorkerRegistration | undefined> {
  return navigator.serviceWorker?.getRegistration?.();
}

/** Turning web push on and off on this browser, and which kinds are pushed. */
export default function PushPanel() {
  const t = useT(messages);
  const { lang } = useLang();
  const headingId = useId();
  const [availability] = useState(() => pushAvailability(readPushEnv()));
  const [on, setOn] = useState<boolean | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [prefs, setPrefs] = useState<Prefs | null>(null);
  const [prefNote, setPrefNote] = useState<string | null>(null);

  useEffect(() => {
    if (availability !== 'ok') return;
    // Some browsers never answer while the service worker is starting: assume off after 3 s.
    const fallback = setTimeout(() => setOn((v) => (v === null ? false : v)), 3000);
    currentSubscription(existingRegistration).then(
      (sub) => setOn(!!sub),
      () => setOn(false),
    );
    return () => clearTimeout(fallback);
  }, [availability]);

  useEffect(() => {
    api<{ push: Prefs }>('GET', 'notifications/preferences').then(
      (r) => setPrefs(r.push),
      () => undefined,
    );
  }, []);

  async function turnOn() {
    setBusy(true);
    setProblem(null);
    try {
      // A push service out of reach can leave the browser waiting for minutes.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PushError('failed', 'timeout')), 20_000);
      });
      try {
        await Promise.race([
          enablePush({ api, registration, requestPermission: () => Notification.requestPermission() }),
          timeout,
        ]);
      } finally {
        clearTimeout(timer);
      }
      setOn(true);
    } catch (e) {
      if (e instanceof PushError && e.reason === 'denied') setProblem(t('pushDenied'));
      else if (e instanceof PushError && e.reason === 'dismissed') setProblem(t('pushDismissed'));
      else if (e instanceof PushError && e.message === 'no-worker') setProblem(t('pushNoWorker'));
      else if (e instanceof DOMException && e.name === 'NotAllowedError') setProblem(t('pushRefused'));
      else if (e instanceof PushError && e.message === 'timeout') setProblem(t('pushServiceDown'));
      else if (e instanceof DOMException && e.name === 'AbortError') setProblem(t('pushServiceDown'));
      else if (e instanceof ApiError) setProblem(t('pushFailed', { error: describeError(e, lang) }));
      else setProblem(t('pushFailed', { error: e instanceof Error ? e.message : String(e) }));
    } finally {
      setBusy(false);
    }
  }

  async function turnOff() {
    setBusy(true);
    setProblem(null);
    try {
      await disablePush({ api, registration });
      setOn(false);
    } catch (e) {
      setProblem(t('pushFailed', { error: describeError(e, lang) }));
    } finally {
      setBusy(false);
    }
  }

  async function setPref(kind: NotificationKind, value: boolean) {
    if (!prefs) return;
    const before = prefs;
    setPrefs({ ...prefs, [kind]: value });
    setPrefNote(null);
    try {
      const r = await api<{ push: Prefs }>('PUT', 'notifications/preferences', { push: { [kind]: value } });
      setPrefs(r.push);
      setPrefNote(t('saved'));
    } catch (e) {
      setPrefs(before);
      setPrefNote(t('saveFailed', { error: describeError(e, lang) }));
    }
  }

  const denied = availability === 'denied' || (typeof Notification !== 'undefined' && Notification.permission === 'denied');

  return (
    <section className="nc-push" id="push" aria-labelledby={headingId}>
      <h2 id={headingId}>{t('pushTitle')}</h2>
      <p className="nc-push__explain">{t('pushExplain')}</p>
      {availability === 'unsupported' && <p className="nc-push__state">{t('pushUnsupported')}</p>}
      {availability === 'insecure' && <p className="nc-push__state">{t('pushInsecure')}</p>}
      {availability !== 'unsupported' && availability !== 'insecure' && (
        <>
          {denied ? (
            <p className="nc-push__state nc-push__state--warn">{t('pushDenied')}</p>
          ) : (
            <p className="nc-push__state" data-testid="push-state" data-state={on ? 'on' : 'off'}>
              {on ? t('pushOn') : t('pushOff')}
            </p>
          )}
          {!denied && on !== null && (
            <button
              type="button"
              className={on ? '' : 'primary'}
              disabled={busy}
              aria-busy={busy}
              onClick={() => void (on ? turnOff() : turnOn())}
            >
              {busy ? t('pushWorking') : on ? t('pushDisable') : t('pushEnable')}
            </button>
          )}
          {problem && (
            <p className="error" role="alert">
              {problem}
            </p>
          )}
        </>
      )}
      {prefs && (
        <fieldset className="nc-prefs">
          <legend>{t('prefsTitle')}</legend>
          <p className="muted">{t('prefsHelp')}</p>
          {PUSH_KINDS.map((kind) => (
            <label key={kind} className="nc-prefs__row">
              <input type="checkbox" checked={!!prefs[kind]} onChange={(e) => void setPref(kind, e.target.checked)} />
              <span>{t(`pref_${kind}`)}</span>
            </label>
          ))}
          <p className="nc-prefs__note" role="status">
            {prefNote}
          </p>
        </fieldset>
      )}
    </section>
  );
}
