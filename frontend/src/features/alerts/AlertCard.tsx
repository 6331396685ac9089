import { useEffect, useId, useState } from 'react';
import { api, ApiError } from '../../api';
import { errorText, useLang, useT } from '../../i18n';
import { Link, useRoute } from '../../router';
import { useMe, userName } from '../settings/me';
import { caseAlert, caseIdForRoom } from './caseAlerts';
import { alertFigures, alertFlags, alertLinks, alertOf, newerAlert, type AlertData } from './describe';
import { messages } from './messages';
import './alerts.css';

/** The fields of a room message this card reads (the server's message serializer). */
export interface AlertMessage {
  id: number;
  room?: number;
  data: unknown;
  created_at: string;
}

type Key = keyof (typeof messages)['en'];

function when(iso: string | null | undefined, locale: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** An alert inline in a case room: rule, figures, status, acknowledgement and history. */
export default function AlertCard({ message }: { message: AlertMessage }) {
  const t = useT(messages);
  const { lang } = useLang();
  const me = useMe();
  const fromMessage = alertOf(message.data);
  const [local, setLocal] = useState<AlertData | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ackName, setAckName] = useState<string | null>(null);
  const noteId = useId();
  const titleId = useId();

  const alert = fromMessage ? newerAlert(fromMessage, local) : null;
  const ackBy = alert?.acknowledged_by ?? null;
  const route = useRoute();
  const routeCase = route.name === 'case' ? Number(route.params.caseId) : null;

  // The note of an acknowledgement is not in the room message: read it from the case's alerts.
  const needNote = !!alert && alert.status === 'acknowledged' && alert.acknowledge_note === undefined;
  const alertId = alert?.id;
  const room = message.room;
  useEffect(() => {
    if (!needNote || alertId === undefined) return;
    let live = true;
    (async () => {
      const caseId = routeCase ?? (room !== undefined ? await caseIdForRoom(room) : null);
      if (!caseId) return;
      const full = await caseAlert(caseId, alertId, true);
      if (live && full && full.status === 'acknowledged') {
        setLocal((prev) => ({ ...(prev ?? full), ...full, acknowledge_note: full.acknowledge_note ?? '' }));
      }
    })().catch(() => undefined);
    return () => {
      live = false;
    };
  }, [needNote, alertId, room, routeCase]);

  useEffect(() => {
    if (ackBy === null) return;
    if (me && ackBy === me.id) {
      setAckName(t('you'));
      return;
    }
    let live = true;
    userName(ackBy).then((name) => live && setAckName(name));
    return () => {
      live = false;
    };
  }, [ackBy, me, t]);

  if (!alert) return null;

  const ruleKey = `rule_${alert.rule}` as Key;
  const ruleText = (messages.en as Record<string, string>)[ruleKey] ? t(ruleKey) : t('ruleUnknown', { rule: alert.rule });
  const figures = alertFigures(alert, lang);
  const flags = alertFlags(alert);
  const links = alertLinks(alert);
  const acknowledged = alert.status === 'acknowledged';
  const canAcknowledge = !acknowledged && !!me?.permissions.includes('alert.acknowledge');
  const urgent = alert.severity === 'urgent';

  async function acknowledge() {
    if (!alert) return;
    setBusy(true);
    setError(null);
    try {
      const updated = await api<AlertData>('POST', `alerts/${alert.id}/acknowledge`, { note: note.trim() });
      setLocal({ ...alert, ...updated });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'alert_already_acknowledged') {
        setError(t('alreadyAcknowledged'));
        setLocal({ ...alert, status: 'acknowledged' });
        } else {
        const code = e instanceof ApiError ? e.code : 'network_error';
        setError(t('ackFailed', { error: errorText(code, lang) || (e instanceof Error ? e.message : '') }));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <article
      className={`alert-card alert-card--${urgent ? 'urgent' : 'warning'} alert-card--${acknowledged ? 'ack' : 'open'}`}
      data-testid="alert"
      data-status={alert.status}
      data-alert-id={alert.id}
      aria-labelledby={titleId}
    >
      <header className="alert-card__head">
        <span className="alert-card__icon" aria-hidden="true">
          {urgent ? '!!' : '!'}
        </span>
        <div className="alert-card__heading">
          <p className="alert-card__kicker">
            <span className={`alert-card__badge alert-card__badge--${urgent ? 'urgent' : 'warning'}`}>
              {t(urgent ? 'severity_urgent' : 'severity_warning')}
            </span>
            <span className={`alert-card__badge alert-card__badge--${acknowledged ? 'ack' : 'open'}`}>
              {t(acknowledged ? 'status_acknowledged' : 'status_open')}
            </span>
          </p>
          <h3 className="alert-card__title" id={titleId}>
            {t('alertTitle', { rule: ruleText })}
          </h3>
        </div>
      </header>

      {(figures.length > 0 || flags.length > 0) && (
        <ul className="alert-card__figures">
          {figures.map((f, i) => (
            <li key={i}>{t(f.key, f.vars)}</li>
          ))}
          {flags.length > 0 && (
            <li>{t('figReported', { flags: flags.map((f) => t(`flag_${f}` as Key)).join(', ') })}</li>
          )}
        </ul>
      )}
      {(links.chart || links.measurement) && (
        <p className="alert-card__links">
          {links.measurement && <Link to={links.measurement}>{t('openMeasurement')}</Link>}
          {links.chart && <Link to={links.chart}>{t('openChart')}</Link>}
        </p>
      )}
      {alert.detail && (
        <details className="alert-card__detail">
          <summary>{t('ruleText')}</summary>
          <p lang="en">{alert.detail}</p>
        </details>
      )}
      <p className="alert-card__disclaimer">{t('disclaimer')}</p>

      <div className="alert-card__history">
        <h4 className="alert-card__history-title">{t('history')}</h4>
        <ol>
          <li>{t('raisedAt', { time: when(alert.raised_at ?? message.created_at, lang) })}</li>
          {acknowledged && (
            <li>
              {t('acknowledgedBy', { name: ackName ?? t('someone'), time: when(alert.acknowledged_at, lang) })}
              {alert.acknowledge_note ? <q className="alert-card__note">{alert.acknowledge_note}</q> : null}
            </li>
          )}
        </ol>
      </div>

      {error && (
        <p className="alert-card__error" role="alert">
          {error}
        </p>
      )}

      {canAcknowledge && (
        <form
          className="alert-card__form"
          onSubmit={(e) => {
            e.preventDefault();
            void acknowledge();
          }}
        >
          <label htmlFor={noteId}>{t('noteLabel')}</label>
          <input
            id={noteId}
            type="text"
            value={note}
            maxLength={1000}
            placeholder={t('notePlaceholder')}
            onChange={(e) => setNote(e.target.value)}
          />
          <button type="submit" className="alert-card__ack" disabled={busy} aria-busy={busy}>
            {busy ? t('acknowledging') : t('acknowledge')}
          </button>
        </form>
      )}
    </article>
  );
}
