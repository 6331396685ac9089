/** `/cases/:caseId/capture?site=:siteId`: the camera with the live calibration verdict, or a
 * photo from the device; the wound site; sent through the outbox (works offline). */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../../api';
import { describeError, useLang, useT } from '../../i18n';
import { Link, navigate, useRoute } from '../../router';
import { messages } from './messages';
import { checkFrame, frameBlob, newClientUuid, pacedLoop, sendPhoto } from './send';
import { knownReason, woundTypeKey, type CaptureVerdict, type WoundSite } from './types';
import './media.css';

type T = ReturnType<typeof useT<keyof typeof messages.en>>;

type CameraState = 'off' | 'starting' | 'on' | 'denied' | 'unavailable';
type Check = { state: 'idle' } | { state: 'checking' } | { state: 'done'; verdict: CaptureVerdict } | { state: 'error'; reason: string };

const CHECK_INTERVAL_MS = 700;

function formatSize(bytes: number, lang: string): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 1
    ? `${mb.toLocaleString(lang, { maximumFractionDigits: 1 })} MB`
    : `${Math.max(1, Math.round(bytes / 1024)).toLocaleString(lang)} kB`;
}

function Verdict({ check, t }: { check: Check; t: T }) {
  if (check.state === 'idle') return null;
  if (check.state === 'checking') {
    return (
      <div className="media-verdict" role="status">
        {t('checking')}
      </div>
    );
  }
  if (check.state === 'error') {
    return (
      <div className="media-verdict" role="status">
        {t('checkUnavailable', { reason: check.reason })}
      </div>
    );
  }
  const v = check.verdict;
  if (v.verdict === 'ok') {
    return (
      <div className="media-verdict is-ok" role="status">
        <span aria-hidden="true">✓ </span>
        {t('ready')}
      </div>
    );
  }
  const reasons = v.reasons.length ? v.reasons : ['unknown'];
  return (
    <div className="media-verdict is-retake" role="status">
      <span aria-hidden="true">✕ </span>
      {t(`reason_${knownReason(reasons[0])}`)}
      <ul>
        {reasons.map((r, i) => {
          const k = knownReason(r);
          return <li key={r}>{k === 'unknown' && v.messages[i] ? v.messages[i] : t(`do_${k}`)}</li>;
        })}
      </ul>
    </div>
  );
}

export default function CaptureScreen(props: { caseId?: number; siteId?: number | null }) {
  const t = useT(messages);
  const { lang } = useLang();
  const route = useRoute();
  const caseId = props.caseId ?? Number(route.params.caseId ?? 0);
  const initialSite = props.siteId !== undefined ? props.siteId : route.query.get('site') ? Number(route.query.get('site')) : null;

  const [sites, setSites] = useState<WoundSite[]>([]);
  const [roomId, setRoomId] = useState<number | undefined>(undefined);
  const [caseError, setCaseError] = useState<string | null>(null);
  const [site, setSite] = useState<string>(initialSite != null ? String(initialSite) : '');
  const [camera, setCamera] = useState<CameraState>('off');
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const [photo, setPhoto] = useState<{ blob: Blob; name: string; url: string; source: 'camera' | 'file' } | null>(null);
  const [sending, setSending] = useState(false);
  const [sendError, setSendError] = useState<string | null>(null);
  const [previewFailed, setPreviewFailed] = useState(false);
  const videoRef = useRef<HTMLVideoElement>(null);
  const streamRef = useRef<MediaStream | null>(null);
  const stopLoopRef = useRef<(() => void) | null>(null);
  const abortRef = useRef<AbortController | null>(null);

  useEffect(() => {
    let live = true;
    api<{ room: number; wound_sites: WoundSite[] }>('GET', `cases/${caseId}`)
      .then((c) => {
        if (!live) return;
        setSites(c.wound_sites ?? []);
        setRoomId(c.room);
        if (initialSite == null && c.wound_sites?.length === 1) setSite(String(c.wound_sites[0].id));
      })
      .catch((error: unknown) => live && setCaseError(describeError(error, lang)));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [caseId]);

  const stopCamera = useCallback(() => {
    stopLoopRef.current?.();
    stopLoopRef.current = null;
    abortRef.current?.abort();
    streamRef.current?.getTracks().forEach((track) => track.stop());
    streamRef.current = null;
    setCamera((c) => (c === 'on' || c === 'starting' ? 'off' : c));
  }, []);

  const runCheck = useCallback(
    async (frame: Blob | null) => {
      if (!frame) return;
      const controller = new AbortController();
      abortRef.current = controller;
      try {
        const verdict = await checkFrame(frame, controller.signal);
        setCheck({ state: 'done', verdict });
      } catch (error) {
        if (controller.signal.aborted) return;
        setCheck({ state: 'error', reason: describeError(error, lang) });
        // Rate limited or offline: slow down.
        await new Promise((r) => setTimeout(r, 2000));
      }
    },
    [lang],
  );

  const startCamera = useCallback(async () => {
    if (!navigator.mediaDevices?.getUserMedia) {
      setCamera('unavailable');
      return;
    }
    setCamera('starting');
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: 'environment' }, width: { ideal: 2560 }, height: { ideal: 1920 } },
      });
      streamRef.current = stream;
      const video = videoRef.current;
      if (video) {
        video.srcObject = stream;
        await video.play().catch(() => undefined);
      }
      setCamera('on');
      setCheck({ state: 'checking' });
      stopLoopRef.current = pacedLoop(async () => {
        const v = videoRef.current;
        if (!v || v.readyState < 2 || !v.videoWidth) return;
        await runCheck(await frameBlob(v, v.videoWidth, v.videoHeight));
      }, CHECK_INTERVAL_MS);
    } catch (error) {
      const name = error instanceof DOMException ? error.name : '';
      setCamera(name === 'NotAllowedError' || name === 'SecurityError' ? 'denied' : 'unavailable');
    }
  }, [runCheck]);

  useEffect(() => {
    void startCamera();
    return () => stopCamera();
  }, [startCamera, stopCamera]);

  useEffect(() => () => {
    if (photo) URL.revokeObjectURL(photo.url);
  }, [photo]);

  const usePhoto = async (blob: Blob, name: string, source: 'camera' | 'file') => {
    stopCamera();
    setSendError(null);
    setPreviewFailed(false);
    setPhoto({ blob, name, url: URL.createObjectURL(blob), source });
    // One check of the photo itself (not possible for a format the browser cannot decode).
    setCheck({ state: 'checking' });
    try {
      const bitmap = await createImageBitmap(blob);
      await runCheck(await frameBlob(bitmap, bitmap.width, bitmap.height));
      bitmap.close();
    } catch {
      setCheck({ state: 'idle' });
    }
  };

  const takePhoto = async () => {
    const v = videoRef.current;
    if (!v || !v.videoWidth) return;
    const blob = await frameBlob(v, v.videoWidth, v.videoHeight, 8192, 0.92);
    if (blob) await usePhoto(blob, `wound-${new Date().toISOString().replace(/[:.]/g, '-')}.jpg`, 'camera');
  };

  const retake = () => {
    setPhoto(null);
    setCheck({ state: 'idle' });
    void startCamera();
  };

  const send = async () => {
    if (!photo || sending) return;
    setSending(true);
    setSendError(null);
    try {
      await sendPhoto({
        caseId,
        roomId,
        woundSiteId: site ? Number(site) : null,
        clientUuid: newClientUuid(),
        blob: photo.blob,
        filename: photo.name,
      });
      navigate(`/cases/${caseId}`);
    } catch (error) {
      setSendError(t('sendFailed', { reason: describeError(error, lang) }));
      setSending(false);
    }
  };

  return (
    <main className="media-screen">
      <div className="media-toolbar">
        <Link to={`/cases/${caseId}`}>← {t('backToCase')}</Link>
      </div>
      <h1>{t('captureTitle')}</h1>
      <p className="muted">{t('captureTip')}</p>
      {caseError ? (
        <p className="error" role="alert">
          {t('caseLoadFailed', { reason: caseError })}
        </p>
      ) : null}
      <div className="media-two-col">
        <div className={'media-camera' + (photo && !previewFailed ? ' has-photo' : '') + (!photo && (camera === 'denied' || camera === 'unavailable') ? ' is-empty' : '')}>
          {photo ? (
            previewFailed ? (
              <div className="media-camera-empty">
                <p>{t('previewUnavailable')}</p>
              </div>
            ) : (
              <img src={photo.url} alt={t('photoToSend')} onError={() => setPreviewFailed(true)} />
            )
          ) : (
            <video ref={videoRef} playsInline muted autoPlay aria-label={t('cameraPreview')} hidden={camera !== 'on'} />
          )}
          {!photo && camera !== 'on' ? (
            <div className="media-camera-empty">
              {camera === 'starting' ? (
                <span className="media-spinner" aria-hidden="true" />
              ) : camera === 'denied' ? (
                <p>{t('cameraDenied')}</p>
              ) : camera === 'unavailable' ? (
                <p>{t('cameraUnavailable')}</p>
              ) : (
                <p>{t('noPhotoYet')}</p>
              )}
              {camera === 'off' || camera === 'denied' ? (
                <button type="button" onClick={() => void startCamera()}>
                  {t('startCamera')}
                </button>
              ) : null}
            </div>
          ) : null}
          {camera === 'on' || photo ? <Verdict check={check} t={t} /> : null}
          {camera === 'on' && !photo ? (
            <div className="media-shutter">
              <button type="button" className="primary" onClick={() => void takePhoto()}>
                {t('takePhoto')}
              </button>
            </div>
          ) : null}
        </div>
        <section className="media-panel card" aria-label={t('photoAndSite')}>
          {photo ? (
            <p className="media-chosen">
              <span className="muted small">{photo.source === 'file' ? t('chosenFile') : t('takenPhoto')}</span>
              <span className="media-chosen-name">{photo.name}</span>
              <span className="muted small">{formatSize(photo.blob.size, lang)}</span>
            </p>
          ) : null}
          <div className="media-toolbar media-source-row">
            {/* A styled button for the file picker: the real input is visually hidden inside its label. */}
            <label className={'button media-file-button' + (sending ? ' is-disabled' : '')}>
              <svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
                <path d="M4 5h16v14H4zM4 15l4-4 4 4 3-3 5 5M15 9h.01" />
              </svg>
              <span>{photo?.source === 'file' ? t('chooseAnother') : t('choosePhoto')}</span>
              <input
                className="visually-hidden"
                type="file"
                accept="image/jpeg,image/png,image/heic"
                disabled={sending}
                onChange={(e) => {
                  const file = e.target.files?.[0];
                  if (file) void usePhoto(file, file.name, 'file');
                  e.target.value = '';
                }}
              />
            </label>
            {photo ? (
              <button type="button" onClick={retake} disabled={sending}>
                <svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
                  <path d="M4 8h3l2-3h6l2 3h3v11H4zM12 16a3 3 0 1 0 0-6 3 3 0 0 0 0 6z" />
                </svg>
                <span>{photo.source === 'camera' ? t('retakePhoto') : t('startCamera')}</span>
              </button>
            ) : null}
          </div>
          <label className="field">
            {t('woundSite')}
            <select value={site} onChange={(e) => setSite(e.target.value)} disabled={sending}>
              <option value="">{t('noSite')}</option>
              {sites.map((s) => {
                const k = woundTypeKey(s.wound_type);
                return (
                  <option key={s.id} value={s.id}>
                    {s.location}
                    {k ? ` — ${t(k)}` : ''}
                  </option>
                );
              })}
            </select>
          </label>
          {photo && check.state === 'done' && check.verdict.verdict === 'retake' ? <p className="notice">{t('sendAnyway')}</p> : null}
          {sendError ? (
            <p className="error" role="alert">
              {sendError}
            </p>
          ) : null}
        </section>
      </div>
      {/* Always in reach, on a phone too: the action bar stays at the bottom of the screen. */}
      <div className="media-action-bar">
        <p className="media-action-status small">{photo ? photo.name : t('noPhotoYet')}</p>
        <button type="button" className="primary" onClick={() => void send()} disabled={!photo || sending}>
          {t('sendPhoto')}
        </button>
      </div>
    </main>
  );
}
