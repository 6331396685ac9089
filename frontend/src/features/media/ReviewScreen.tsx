/** `/measurements/:measurementId/review`: validate, reject or correct a measurement; or, with
 * `/measurements/0/review?photo=:photoId`, outline the wound by hand on a photo the analysis
 * could not outline. The area is shown live through the photo's homography. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../../api';
import { describeError, useLang, useT } from '../../i18n';
import { Link, navigate, useRoute } from '../../router';
import { getStore, onEvent } from '../../store';
import { formatArea, formatDateTime } from './format';
import { isSimple, measureOutline, outlineForApi, removePoint, type Outline, type Point, type PointRef } from './geometry';
import { usePermissions } from './me';
import { messages } from './messages';
import OutlineEditor, { type Tool } from './OutlineEditor';
import { TissueBar } from './PhotoMessage';
import type { Measurement, PhotoData, PhotoInfo } from './types';
import './media.css';

type T = ReturnType<typeof useT<keyof typeof messages.en>>;
type Lang = ReturnType<typeof useLang>['lang'];

function historyLines(chain: Measurement[], t: T, lang: Lang): { key: string; text: string; note?: string }[] {
  const lines: { key: string; text: string; note?: string }[] = [];
  for (const m of chain) {
    const by = m.created_by?.full_name ?? t('someone');
    const reviewer = m.reviewed_by?.full_name ?? t('someone');
    const when = formatDateTime(m.reviewed_at, lang);
    if (m.method === 'automatic') {
      lines.push({ key: `${m.id}s`, text: t('historySuggested', { model: m.model_version || '?', when: formatDateTime(m.measured_at, lang) }) });
    } else if (m.method === 'semi_automatic') {
      lines.push({ key: `${m.id}c`, text: t('historyCorrected', { name: by, when }) });
    } else {
      lines.push({ key: `${m.id}d`, text: t('historyDrawn', { name: by, when }) });
    }
    if (m.method === 'automatic') {
      if (m.status === 'validated') lines.push({ key: `${m.id}v`, text: t('historyValidated', { name: reviewer, when }) });
      if (m.status === 'rejected') lines.push({ key: `${m.id}r`, text: t('historyRejected', { name: reviewer, when }), note: m.note });
      if (m.status === 'superseded') lines.push({ key: `${m.id}x`, text: t('historySuperseded', { name: reviewer, when }) });
    } else if (m.status === 'superseded') {
      lines.push({ key: `${m.id}x`, text: t('historySuperseded', { name: reviewer, when }) });
    }
  }
  return lines;
}

export default function ReviewScreen(props: { measurementId?: number }) {
  const t = useT(messages);
  const { lang } = useLang();
  const route = useRoute();
  const perms = usePermissions();
  const measurementId = props.measurementId ?? Number(route.params.measurementId ?? 0);
  const photoParam = Number(route.query.get('photo') ?? 0);

  const [measurement, setMeasurement] = useState<Measurement | null>(null);
  const [chain, setChain] = useState<Measurement[]>([]);
  const [photo, setPhoto] = useState<PhotoInfo | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [outline, setOutline] = useState<Outline>([]);
  const [tool, setTool] = useState<Tool>('points');
  const [pending, setPending] = useState<Point[]>([]);
  const [selected, setSelected] = useState<PointRef | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const [note, setNote] = useState('');
  const [imageFailed, setImageFailed] = useState(false);
  // Someone else's decision on this photo while the page is open: what to say, and where the
  // measurement now is.
  const [elsewhere, setElsewhere] = useState<{ text: string; latest: number } | null>(null);

  const load = useCallback(async () => {
    setLoadError(null);
    try {
      let m: Measurement | null = null;
      let photoId = photoParam;
      if (measurementId > 0) {
        m = await api<Measurement>('GET', `measurements/${measurementId}`);
        photoId = m.photo;
      }
      const p = await api<PhotoInfo>('GET', `photos/${photoId}`);
      const older: Measurement[] = [];
      let prev = m?.supersedes ?? null;
      while (prev != null && older.length < 10) {
        const o = await api<Measurement>('GET', `measurements/${prev}`);
        older.unshift(o);
        prev = o.supersedes;
      }
      setMeasurement(m);
      setPhoto(p);
      setChain(m ? [...older, m] : older);
      setOutline(m ? m.outline.map((r) => r.map(([x, y]) => [x, y] as Point)) : []);
      setTool(m ? 'points' : 'polygon');
      setPending([]);
      setSelected(null);
    } catch (error) {
      setLoadError(describeError(error, lang));
    }
  }, [measurementId, photoParam, lang]);

  useEffect(() => {
    void load();
  }, [load]);

  // A corrected or drawn outline gets its tissue shares a moment later (computed from the
  // image after the save): look again a few times until they are there.
  const pendingId =
    measurement != null && measurement.tissue.granulation == null && measurement.status !== 'rejected' ? measurement.id : null;
  useEffect(() => {
    if (pendingId == null) return;
    let tries = 0;
    const timer = setInterval(() => {
      tries += 1;
      if (tries > 10) {
        clearInterval(timer);
        return;
      }
      api<Measurement>('GET', `measurements/${pendingId}`)
        .then((m) => {
          if (m.tissue.granulation != null) {
            clearInterval(timer);
            setMeasurement(m);
          }
        })
        .catch(() => clearInterval(timer));
    }, 2000);
    return () => clearInterval(timer);
  }, [pendingId]);

  const original = measurement?.outline ?? null;
  const modified = useMemo(() => JSON.stringify(outline) !== JSON.stringify(original ?? []), [outline, original]);

  /** Show the photo's measurement as it now is (the same one reloaded, or its successor). */
  const follow = useCallback(
    (latest: number) => {
      if (latest !== measurementId) navigate(`/measurements/${latest}/review`, { replace: true });
      else void load();
    },
    [measurementId, load],
  );

  // The case room carries every decision on the photo (its message is updated): someone else
  // validating, rejecting or correcting it while this page is open shows here at once. With
  // nothing edited here the page follows; with edits under way they are kept until the person
  // chooses to look. The person's own decisions are followed by the buttons themselves.
  const editing = modified || pending.length > 0;
  useEffect(() => {
    const messageId = photo?.message;
    if (messageId == null) return undefined;
    return onEvent((event) => {
      if (event.event !== 'message.updated') return;
      const message = (event.data as { message?: { id: number; data?: Partial<PhotoData> } }).message;
      const latest = message?.id === messageId ? message.data?.measurement : null;
      if (!latest || (measurement && latest.id === measurement.id && latest.status === measurement.status)) return;
      const by = latest.id === measurement?.id ? latest.reviewed_by : latest.created_by;
      if (by && by.id === getStore().data.meId) return;
      const text = t('changedElsewhere', { name: by?.full_name ?? t('someone'), status: t(`status_${latest.status}`) });
      setElsewhere({ text, latest: latest.id });
      if (!editing) follow(latest.id);
    });
  }, [photo?.message, measurement, editing, follow, t]);
  const homography = photo?.homography_image_to_mm ?? null;
  const live = useMemo(() => {
    if (!homography) return null;
    const shapes = pending.length >= 3 ? [pending] : outline;
    return measureOutline(homography, shapes);
  }, [homography, outline, pending]);
  const crossing = outline.some((r) => r.length >= 3 && !isSimple(r));

  const canReview = perms.has('measurement.review');
  const drawMode = measurementId === 0;
  const decidable = canReview && measurement?.status === 'suggested';
  const canEdit = canReview && !!homography && (drawMode || decidable);

  const act = async (fn: () => Promise<Measurement>, after: (m: Measurement) => void) => {
    setBusy(true);
    setActionError(null);
    setStatus(null);
    setElsewhere(null);
    try {
      const m = await fn();
      after(m);
      setStatus(t('saved'));
    } catch (error) {
      setActionError(describeError(error, lang));
    } finally {
      setBusy(false);
    }
  };

  const validate = () =>
    act(
      () => api<Measurement>('POST', `measurements/${measurementId}/validate`),
      () => void load(),
    );
  const reject = () =>
    act(
      () => api<Measurement>('POST', `measurements/${measurementId}/reject`, { note }),
      () => {
        setRejecting(false);
        void load();
      },
    );
  const save = () =>
    act(
      () =>
        drawMode || !measurement
          ? api<Measurement>('POST', `photos/${photo!.id}/measurements`, { outline: outlineForApi(outline) })
          : api<Measurement>('POST', `measurements/${measurementId}/correct`, { outline: outlineForApi(outline) }),
      (m) => navigate(`/measurements/${m.id}/review`, { replace: true }),
    );

  const closePending = () => {
    if (pending.length >= 3) {
      setOutline([pending]);
      setPending([]);
      setTool('points');
    }
  };

  if (loadError) {
    return (
      <main className="media-screen">
        <h1>{t('reviewTitle')}</h1>
        <p className="error" role="alert">
          {t('loadFailed', { reason: loadError })}
        </p>
        <p>
          <button type="button" onClick={() => void load()}>
            {t('retry')}
          </button>
        </p>
      </main>
    );
  }
  if (!photo) {
    return (
      <main className="media-screen">
        <p className="loading" role="status">
          {t('loading')}
        </p>
      </main>
    );
  }

  const lines = historyLines(chain, t, lang);
  const saveLabel = drawMode ? t('saveOutline') : t('saveCorrection');
  const canSave = canEdit && modified && !crossing && outline.some((r) => r.length >= 3) && pending.length === 0;

  return (
    <main className="media-screen">
      <div className="media-toolbar">
        <Link to={`/cases/${photo.case}`}>← {t('backToCase')}</Link>
        {photo.wound_site != null ? <Link to={`/wound-sites/${photo.wound_site}/chart`}>{t('chart')}</Link> : null}
      </div>
      <h1>{drawMode ? t('drawTitle') : t('reviewTitle')}</h1>
      <div className="media-two-col">
        <div>
          <OutlineEditor
            imageUrl={photo.image}
            imageAlt={t('photoAlt')}
            width={photo.width}
            height={photo.height}
            outline={outline}
            original={modified && original ? original : null}
            tool={canEdit ? tool : 'points'}
            pending={pending}
            onChange={(o) => canEdit && setOutline(o)}
            onPending={setPending}
            onClosePending={closePending}
            selected={selected}
            onSelect={setSelected}
            label={t('outlineLabel')}
            pointLabel={(n, total, ring) => t('pointLabel', { n, total, ring })}
            onImageError={() => setImageFailed(true)}
            readOnly={!canEdit}
            zoomLabels={{ zoomIn: t('zoomIn'), zoomOut: t('zoomOut'), whole: t('wholePhoto'), fit: t('fitOutline') }}
          />
          {imageFailed ? <p className="error">{t('photoUnavailable')}</p> : null}
        </div>
        <section className="media-panel card" aria-label={t('reviewTitle')}>
          <p className="media-live-area" aria-live="polite">
            {/* Unchanged, the server's figure (an automatic one comes from the pixels, not the
                simplified outline); while editing, the outline's area through the homography. */}
            {live && (modified || pending.length > 0)
              ? t('liveArea', { value: formatArea(live.areaCm2, lang) })
              : measurement?.area_cm2 != null
                ? t('areaIs', { value: formatArea(measurement.area_cm2, lang) })
                : homography
                  ? t('noArea')
                  : null}
          </p>
          {measurement && measurement.area_cm2 != null && modified ? (
            <p className="muted">{t('originalArea', { value: formatArea(measurement.area_cm2, lang) })}</p>
          ) : null}
          {measurement && !modified ? <TissueBar tissue={measurement.tissue} t={t} lang={lang} /> : null}
          {elsewhere ? (
            <p className="notice" role="status">
              {elsewhere.text}{' '}
              {editing ? (
                <button type="button" onClick={() => follow(elsewhere.latest)}>
                  {t('showLatestDiscard')}
                </button>
              ) : null}
            </p>
          ) : null}
          {!homography ? <p className="notice">{t('noCalibration')}</p> : null}
          {!canReview && perms.size > 0 ? <p className="notice">{t('noPermission')}</p> : null}
          {measurement && measurement.status !== 'suggested' && !drawMode ? (
            <p className="notice">{t('notReviewable', { status: t(`status_${measurement.status}`) })}</p>
          ) : null}

          {canEdit ? (
            <>
              <fieldset className="media-tools">
                <legend>{t('tools')}</legend>
                {(['points', 'freehand', 'polygon'] as const).map((k) => (
                  <label key={k}>
                    <input
                      type="radio"
                      name="tool"
                      value={k}
                      checked={tool === k}
                      onChange={() => {
                        setTool(k);
                        setPending([]);
                      }}
                    />
                    {t(k === 'points' ? 'toolPoints' : k === 'freehand' ? 'toolFreehand' : 'toolPolygon')}
                  </label>
                ))}
              </fieldset>
              <p className="muted">{t(tool === 'points' ? 'helpPoints' : tool === 'freehand' ? 'helpFreehand' : 'helpPolygon')}</p>
              <div className="media-toolbar">
                {tool === 'polygon' ? (
                  <>
                    <button type="button" onClick={closePending} disabled={pending.length < 3}>
                      {t('finishPolygon')}
                    </button>
                    <button type="button" onClick={() => setPending([])} disabled={pending.length === 0}>
                      {t('clearPolygon')}
                    </button>
                  </>
                ) : null}
                {selected && outline.length > 1 ? (
                  <button
                    type="button"
                    onClick={() => {
                      setOutline(outline.filter((_, i) => i !== selected.ring));
                      setSelected(null);
                    }}
                  >
                    {t('removeRing')}
                  </button>
                ) : null}
                {selected && outline[selected.ring]?.length > 3 ? (
                  <button
                    type="button"
                    onClick={() => {
                      setOutline(removePoint(outline, selected));
                      setSelected(null);
                    }}
                  >
                    {t('removePoint')}
                  </button>
                ) : null}
                {modified ? (
                  <button
                    type="button"
                    onClick={() => {
                      setOutline(original ? original.map((r) => r.map(([x, y]) => [x, y] as Point)) : []);
                      setPending([]);
                      setSelected(null);
                    }}
                  >
                    {t('undo')}
                  </button>
                ) : null}
              </div>
              {crossing ? (
                <p className="error" role="alert">
                  {t('outlineCrosses')}
                </p>
              ) : null}
            </>
          ) : null}

          <div className="media-toolbar">
            {decidable ? (
              <button type="button" className="primary" onClick={validate} disabled={busy || modified}>
                {t('validate')}
              </button>
            ) : null}
            {canEdit ? (
              <button type="button" className={modified ? 'primary' : undefined} onClick={save} disabled={busy || !canSave}>
                {saveLabel}
              </button>
            ) : null}
            {decidable && !rejecting ? (
              <button type="button" className="danger" onClick={() => setRejecting(true)} disabled={busy}>
                {t('reject')}
              </button>
            ) : null}
          </div>
          {rejecting ? (
            <form
              className="media-panel"
              onSubmit={(e) => {
                e.preventDefault();
                void reject();
              }}
            >
              <label className="field">
                {t('rejectReason')}
                <textarea value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} rows={3} autoFocus />
              </label>
              <div className="media-toolbar">
                <button type="submit" className="danger" disabled={busy}>
                  {t('confirmReject')}
                </button>
                <button type="button" onClick={() => setRejecting(false)}>
                  {t('cancel')}
                </button>
              </div>
            </form>
          ) : null}
          {actionError ? (
            <p className="error" role="alert">
              {actionError}
            </p>
          ) : null}
          {status ? (
            <p className="muted" role="status">
              {status}
            </p>
          ) : null}

          {lines.length ? (
            <section>
              <h2>{t('history')}</h2>
              <ol className="media-history">
                {lines.map((l) => (
                  <li key={l.key}>
                    {l.text}
                    {l.note ? <div className="muted">{t('rejectedNote', { note: l.note })}</div> : null}
                  </li>
                ))}
              </ol>
            </section>
          ) : null}
        </section>
      </div>
    </main>
  );
}
