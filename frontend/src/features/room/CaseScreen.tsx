import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api';
import { describeError, useLang, useT } from '../../i18n';
import { Link } from '../../router';
import { onEvent, useConnection } from '../../store';
import { hasPermission, useMe } from '../auth/session';
import { caseMessages } from './caseMessages';
import RoomView from './RoomView';

type WoundSite = { id: number; location: string; wound_type: string; onset_date: string | null };
type CaseDetail = {
  id: number;
  title: string;
  status: string;
  room: number;
  open_alerts: number;
  patient: {
    id: number;
    display_name: string;
    birth_date: string | null;
    identifiers: { system: string; value: string }[];
  };
  wound_sites: WoundSite[];
};
type Alert = { id: number; title: string; detail: string; severity: string; status: string; raised_at: string; wound_site: number | null; message: number | null };
type IssuedLink = { url: string; expires_at: string };

function PatientLink({ caseId }: { caseId: number }) {
  const t = useT(caseMessages);
  const { lang } = useLang();
  const [issued, setIssued] = useState<IssuedLink | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);
  const issue = async () => {
    setBusy(true);
    setError(null);
    try {
      setIssued(await api<IssuedLink>('POST', `cases/${caseId}/links`, { language: lang }));
    } catch (err) {
      setError(describeError(err, lang));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="case-section" aria-labelledby="case-link-title">
      <h2 id="case-link-title">{t('patientLink')}</h2>
      <p className="muted small">{t('linkHelp')}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {issued ? (
        <div className="case-link" role="status">
          <p>{t('linkCreated')}</p>
          <input readOnly value={issued.url} aria-label={t('patientLink')} onFocus={(e) => e.target.select()} />
          <p className="muted small">{t('expires', { date: new Date(issued.expires_at).toLocaleString(lang) })}</p>
          <button
            type="button"
            onClick={() => {
              void navigator.clipboard?.writeText(issued.url).then(() => setCopied(true));
            }}
          >
            {copied ? t('copied') : t('copy')}
          </button>
        </div>
      ) : (
        <button type="button" onClick={() => void issue()} disabled={busy}>
          {t('issueLink')}
        </button>
      )}
    </section>
  );
}

/** The stacked layout of room.css (the panel above the timeline). */
const NARROW = '(max-width: 899px)';
function narrowQuery(): MediaQueryList | null {
  return typeof window === 'undefined' || typeof window.matchMedia !== 'function' ? null : window.matchMedia(NARROW);
}

function CasePanel({ detail, alerts }: { detail: CaseDetail; alerts: Alert[] }) {
  const t = useT(caseMessages);
  const { lang } = useLang();
  const me = useMe();
  // Folded where the panel sits above the timeline (phones, narrow windows), so the photo and its
  // measurement stay in view; open beside the timeline on wide screens. It follows the window
  // across the breakpoint (a phone turned, a window resized); the person's toggle holds otherwise.
  const [open, setOpen] = useState(() => !narrowQuery()?.matches);
  useEffect(() => {
    const query = narrowQuery();
    if (!query) return undefined;
    const follow = () => setOpen(!query.matches);
    query.addEventListener('change', follow);
    return () => query.removeEventListener('change', follow);
  }, []);
  const patient = detail.patient;
  return (
    <details className="case-panel" open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>{t('details')}</summary>
      <section className="case-section" aria-labelledby="case-patient-title">
        <h2 id="case-patient-title">{t('patient')}</h2>
        <p className="case-patient-name">{patient.display_name}</p>
        {patient.birth_date && <p className="muted small">{t('born', { date: new Date(patient.birth_date).toLocaleDateString(lang) })}</p>}
        {patient.identifiers.length > 0 && (
          <p className="muted small">
            {patient.identifiers.map((i) => `${i.system}: ${i.value}`).join(' · ')}
          </p>
        )}
        <p className="small">{t('status', { status: detail.status === 'closed' ? t('closed') : t('open') })}</p>
      </section>
      <section className="case-section" aria-labelledby="case-sites-title">
        <h2 id="case-sites-title">{t('sites')}</h2>
        {detail.wound_sites.length === 0 && <p className="muted">{t('noSites')}</p>}
        <ul className="case-sites">
          {detail.wound_sites.map((site) => {
            const name = [site.location, site.wound_type.replace(/_/g, ' ')].filter(Boolean).join(' · ');
            return (
              <li key={site.id} data-testid="wound-site" data-site-id={site.id}>
                <span className="case-site-name">{name}</span>
                <span className="case-site-links">
                  <Link className="button small-button" to={`/cases/${detail.id}/capture?site=${site.id}`} aria-label={t('takePhotoOf', { site: name })}>
                    {t('takePhoto')}
                  </Link>
                  <Link className="button small-button" to={`/wound-sites/${site.id}/chart`} aria-label={t('chartOf', { site: name })}>
                    {t('chart')}
                  </Link>
                </span>
              </li>
            );
          })}
        </ul>
      </section>
      <section className="case-section" aria-labelledby="case-alerts-title">
        <h2 id="case-alerts-title">{t('alerts')}</h2>
        {alerts.length === 0 && <p className="muted">{t('noAlerts')}</p>}
        <ul className="case-alerts">
          {alerts.map((alert) => (
            <li key={alert.id} className={'case-alert severity-' + alert.severity}>
              <strong>{alert.title}</strong>
              <span className="small">{alert.detail}</span>
            </li>
          ))}
        </ul>
      </section>
      {hasPermission(me, 'patient_link.issue') && <PatientLink caseId={detail.id} />}
    </details>
  );
}

// The last answer per case, so a case opened before still shows while offline.
const detailCache = new Map<number, CaseDetail>();
const alertsCache = new Map<number, Alert[]>();

export default function CaseScreen({ caseId }: { caseId: number }) {
  const t = useT(caseMessages);
  const { lang } = useLang();
  const connection = useConnection();
  const [detail, setDetail] = useState<CaseDetail | null>(() => detailCache.get(caseId) ?? null);
  const [alerts, setAlerts] = useState<Alert[]>(() => alertsCache.get(caseId) ?? []);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    api<CaseDetail>('GET', `cases/${caseId}`)
      .then((d) => {
        detailCache.set(caseId, d);
        setDetail(d);
        setError(null);
      })
      .catch((err: unknown) => setError(describeError(err, lang)));
    api<Alert[] | { results: Alert[] }>('GET', `cases/${caseId}/alerts?status=open`)
      .then((a) => {
        const list = Array.isArray(a) ? a : a.results;
        alertsCache.set(caseId, list);
        setAlerts(list);
      })
      .catch(() => undefined);
  }, [caseId, lang]);

  useEffect(() => {
    setDetail(detailCache.get(caseId) ?? null);
    setAlerts(alertsCache.get(caseId) ?? []);
    load();
  }, [load, caseId]);

  // Back online: refresh what may have changed meanwhile.
  useEffect(() => {
    if (connection === 'online') load();
  }, [connection, load]);

  // Keep the panel current: wound sites, case changes and alert decisions arrive as events.
  const roomId = detail?.room;
  useEffect(() => {
    if (!roomId) return undefined;
    let timer: ReturnType<typeof setTimeout> | null = null;
    return onEvent((event) => {
      if (event.room !== roomId) return;
      const kind = event.event;
      const message = event.data.message as { kind?: string } | undefined;
      if (kind.startsWith('case.') || kind.startsWith('wound_site.') || message?.kind === 'alert' || kind === 'message.updated') {
        if (timer) clearTimeout(timer);
        timer = setTimeout(load, 500);
      }
    });
  }, [roomId, load]);

  if (error && !detail) {
    return (
      <main className="page">
        <p className="error" role="alert">
          {error}
        </p>
        <p>{t('loadFailed')}</p>
        <button type="button" onClick={load}>
          {t('retry')}
        </button>
      </main>
    );
  }
  if (!detail) {
    return (
      <p className="loading" role="status">
        {t('loading')}
      </p>
    );
  }
  return (
    <RoomView
      roomId={detail.room}
      title={t('caseTitle', { patient: detail.patient.display_name, title: detail.title })}
      side={<CasePanel detail={detail} alerts={alerts} />}
      sideLabel={t('details')}
    />
  );
}
