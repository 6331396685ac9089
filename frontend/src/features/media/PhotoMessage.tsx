/** A photo message in the timeline: the photo with the wound outline, the measurement, the
 * tissue, the calibration, the analysis state and who decided what. */
import { useEffect, useRef, useState } from 'react';
import { useLang, useT } from '../../i18n';
import { Link } from '../../router';
import type { Message } from '../../store/types';
import { tissueSegments } from './chart';
import { formatArea, formatDateTime, formatNumber } from './format';
import { fitView, largestRing, svgPoints } from './geometry';
import { usePermissions } from './me';
import { messages } from './messages';
import { analysisView, DRAWABLE_REASONS, knownReason, readPhotoData, type Measurement, type PhotoData } from './types';
import './media.css';

type T = ReturnType<typeof useT<keyof typeof messages.en>>;

export function OutlineOverlay({
  measurement,
  width,
  height,
  testId = true,
}: {
  measurement: Measurement;
  width: number;
  height: number;
  testId?: boolean;
}) {
  const rejected = measurement.status === 'rejected';
  return (
    <svg
      className={'media-outline' + (rejected ? ' is-rejected' : '')}
      data-testid={testId ? 'wound-outline' : undefined}
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      aria-hidden="true"
      focusable="false"
    >
      {measurement.outline.map((ring, i) => (
        <polygon key={i} points={svgPoints(ring)} vectorEffect="non-scaling-stroke" />
      ))}
    </svg>
  );
}

export function TissueBar({ tissue, t, lang }: { tissue: Measurement['tissue']; t: T; lang: ReturnType<typeof useLang>['lang'] }) {
  const segments = tissueSegments(tissue);
  if (!segments) return <p className="muted">{t('tissuePending')}</p>;
  return (
    <div className="media-tissue">
      <div className="media-tissue-bar" aria-hidden="true">
        {segments.map((s) =>
          s.share > 0 ? <span key={s.key} className={`media-tissue-${s.key}`} style={{ flexGrow: s.share }} /> : null,
        )}
      </div>
      <ul className="media-tissue-legend" aria-label={t('tissue')}>
        {segments.map((s) => (
          <li key={s.key}>
            <span className={`media-swatch media-tissue-${s.key}`} aria-hidden="true" />
            {t(s.key)} {formatNumber(s.share * 100, lang, 0)} %
          </li>
        ))}
      </ul>
    </div>
  );
}

function decisionText(m: Measurement, t: T, lang: ReturnType<typeof useLang>['lang']): string {
  const name = m.reviewed_by?.full_name ?? m.created_by?.full_name ?? t('someone');
  const when = formatDateTime(m.reviewed_at, lang);
  switch (m.status) {
    case 'suggested':
      return t('suggested');
    case 'validated':
      return m.method === 'manual' ? t('drawn', { name, when }) : t('validated', { name, when });
    case 'corrected':
      return t('corrected', { name, when });
    case 'rejected':
      return t('rejected', { name, when });
    default:
      return t('superseded', { name, when });
  }
}

function Reasons({ reasons, advice, t }: { reasons: string[]; advice: string; t: T }) {
  const list = reasons.length ? reasons : ['unknown'];
  const seen = new Set<string>();
  return (
    <div className="media-reasons" role="note">
      <ul>
        {list.map((r) => {
          const k = knownReason(r);
          if (seen.has(k)) return null;
          seen.add(k);
          return <li key={r}>{t(`reason_${k}`)}</li>;
        })}
      </ul>
      <p>
        <strong>{t('whatToDo')}:</strong> {[...seen].map((k) => t(`do_${k as ReturnType<typeof knownReason>}`)).join(' ')}
      </p>
      {advice && seen.has('unknown') ? <p className="muted">{advice}</p> : null}
    </div>
  );
}

function PhotoViewer({ data, onClose, t }: { data: PhotoData; onClose: () => void; t: T }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open && typeof dialog.showModal === 'function') dialog.showModal();
  }, []);
  const { width, height } = data.photo;
  return (
    <dialog ref={ref} className="media-viewer" onClose={onClose} aria-label={t('photoAlt')}>
      <div className="media-viewer-frame" style={{ aspectRatio: width && height ? `${width} / ${height}` : undefined }}>
        <img src={`/api/photos/${data.photo.id}/image`} alt={t('photoAlt')} onError={() => setFailed(true)} />
        {data.measurement && width > 0 ? <OutlineOverlay measurement={data.measurement} width={width} height={height} testId={false} /> : null}
        {failed ? <p className="error">{t('photoUnavailable')}</p> : null}
      </div>
      <form method="dialog">
        <button type="submit" className="button" autoFocus>
          {t('close')}
        </button>
      </form>
    </dialog>
  );
}

export default function PhotoMessage({ message }: { message: Message }) {
  const t = useT(messages);
  const { lang } = useLang();
  const perms = usePermissions();
  const [open, setOpen] = useState(false);
  const [thumbFailed, setThumbFailed] = useState(false);
  const data = readPhotoData(message.data);
  if (!data) return null;
  const view = analysisView(data);
  const m = data.measurement;
  const { width, height } = data.photo;
  const canReview = perms.has('measurement.review');
  const calibration = m?.calibration;
  // The thumbnail is 320 px wide: show the wound up to twice as large, not more.
  const crop = m && m.outline.length && width > 0 && height > 0 ? fitView(largestRing(m.outline), width, height, 1.2, 0.5) : null;
  const zoomStyle = crop
    ? {
        width: `${(width / crop.w) * 100}%`,
        height: `${(height / crop.h) * 100}%`,
        left: `${(-crop.x / crop.w) * 100}%`,
        top: `${(-crop.y / crop.h) * 100}%`,
      }
    : undefined;
  const drawable = view === 'failed' && !m && data.analysis.reasons.some((r) => DRAWABLE_REASONS.has(r));

  return (
    <figure className="media-photo-message" data-testid="photo-message" data-analysis={view} data-photo-id={data.photo.id}>
      <button type="button" className="media-photo-button" onClick={() => setOpen(true)} aria-label={t('openPhoto')}>
        <span className="media-frame" style={{ aspectRatio: width && height ? `${width} / ${height}` : '4 / 3' }}>
          <span className="media-zoom-inner" style={zoomStyle}>
            {thumbFailed ? null : <img src={`/api/photos/${data.photo.id}/thumbnail`} alt="" loading="lazy" onError={() => setThumbFailed(true)} />}
            {m && m.outline.length > 0 && width > 0 ? <OutlineOverlay measurement={m} width={width} height={height} /> : null}
          </span>
          {thumbFailed ? <span className="media-frame-error">{t('photoUnavailable')}</span> : null}
          {view === 'analysing' ? (
            <span className="media-analysing" role="status">
              <span className="media-spinner" aria-hidden="true" />
              {t('analysing')}
            </span>
          ) : null}
        </span>
      </button>
      <figcaption className="media-caption">
        {data.from_patient ? <p className="muted">{t('fromPatient')}</p> : null}
        {m && m.area_cm2 != null ? (
          <>
            <p className="media-area-line">
              <span className="media-label">{t('area')}</span>{' '}
              <strong data-testid="wound-area" className={m.status === 'rejected' ? 'is-rejected' : undefined}>
                {t('areaValue', { value: formatArea(m.area_cm2, lang) })}
              </strong>
            </p>
            <dl className="media-dims">
              {m.perimeter_cm != null ? (
                <div>
                  <dt>{t('perimeter')}</dt>
                  <dd>{t('cm', { value: formatNumber(m.perimeter_cm, lang) })}</dd>
                </div>
              ) : null}
              {m.length_cm != null ? (
                <div>
                  <dt>{t('length')}</dt>
                  <dd>{t('cm', { value: formatNumber(m.length_cm, lang) })}</dd>
                </div>
              ) : null}
              {m.width_cm != null ? (
                <div>
                  <dt>{t('width')}</dt>
                  <dd>{t('cm', { value: formatNumber(m.width_cm, lang) })}</dd>
                </div>
              ) : null}
            </dl>
            <TissueBar tissue={m.tissue} t={t} lang={lang} />
            <p className={'media-status media-status-' + m.status}>{decisionText(m, t, lang)}</p>
            {m.status === 'rejected' && m.note ? <p className="muted">{t('rejectedNote', { note: m.note })}</p> : null}
            {calibration && calibration.verdict === 'ok' ? (
              <p className="media-calibration is-ok">
                <span aria-hidden="true">✓ </span>
                {t('calibrationOk', { tilt: formatNumber(calibration.tilt_deg ?? 0, lang, 0) })}
              </p>
            ) : null}
          </>
        ) : view === 'analysing' ? (
          <p className="muted" aria-hidden="true">
            {t('analysing')}
          </p>
        ) : (
          <>
            <p className="media-failed">
              <span aria-hidden="true">⚠ </span>
              {t('failed')}
            </p>
            <Reasons reasons={data.analysis.reasons} advice={data.analysis.advice} t={t} />
          </>
        )}
        <p className="media-actions">
          {canReview && m && m.status === 'suggested' ? (
            <Link className="button primary" to={`/measurements/${m.id}/review`}>
              {t('review')}
            </Link>
          ) : null}
          {canReview && m && m.status !== 'suggested' ? (
            <Link className="media-link" to={`/measurements/${m.id}/review`}>
              {t('review')}
            </Link>
          ) : null}
          {canReview && drawable ? (
            <Link className="button" to={`/measurements/0/review?photo=${data.photo.id}`}>
              {t('outlineByHand')}
            </Link>
          ) : null}
          {data.photo.wound_site != null && m && (m.status === 'validated' || m.status === 'corrected') ? (
            <Link className="media-link" to={`/wound-sites/${data.photo.wound_site}/chart`}>
              {t('chart')}
            </Link>
          ) : null}
        </p>
      </figcaption>
      {open ? <PhotoViewer data={data} onClose={() => setOpen(false)} t={t} /> : null}
    </figure>
  );
}
