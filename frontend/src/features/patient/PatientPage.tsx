import { useCallback, useEffect, useId, useRef, useState, type ChangeEvent } from 'react';
import { api, upload } from '../../api';
import { LANGS, LANG_NAMES, useLang, useT, type Lang } from '../../i18n';
import {
  cleanAnswers,
  newClientUuid,
  pickLabel,
  scaleRange,
  validateAnswers,
  type AnswerProblem,
  type Answers,
  type AnswerValue,
  type FormTemplate,
  type Question,
} from '../forms/schema';
import { checkPhoto, classifyError, initialLang, MAX_PHOTOS, submitUpdate, type Failure, type PendingPhoto, type Step } from './flow';
import { messages } from './messages';
import './patient.css';

interface PatientPageData {
  case_title: string;
  questionnaire: FormTemplate;
  language: string;
}

type Key = keyof (typeof messages)['en'];
type T = (key: Key, vars?: Record<string, string | number>) => string;

/** A photo chosen for the update, with its preview. */
interface ChosenPhoto extends PendingPhoto {
  url: string;
}

/** The patient's page from a link: no account, the token in the address is the credential. */
export default function PatientPage({ token }: { token: string }) {
  const t = useT(messages);
  const { lang } = useLang();
  const [page, setPage] = useState<PatientPageData | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [loading, setLoading] = useState(true);
  const [done, setDone] = useState<{ photos: number } | null>(null);

  const load = useCallback(() => {
    setLoading(true);
    setFailure(null);
    api<PatientPageData>('GET', `p/${encodeURIComponent(token)}`)
      .then(setPage, (e: unknown) => setFailure(classifyError(e)))
      .finally(() => setLoading(false));
  }, [token]);

  useEffect(load, [load]);

  // The language: the one picked here before, else the browser's, else the link's.
  const { setLang } = useLang();
  useEffect(() => {
    if (!page) return;
    let stored: string | null = null;
    try {
      stored = localStorage.getItem('care.lang');
    } catch {
      stored = null;
    }
    if (!stored) setLang(initialLang(navigator.languages ?? [navigator.language], page.language));
  }, [page, setLang]);

  useEffect(() => {
    document.title = t('appTitle');
  }, [t]);

  // The token is in the address: keep it out of Referer headers of anything the page loads.
  useEffect(() => {
    let meta = document.querySelector<HTMLMetaElement>('meta[name="referrer"]');
    if (!meta) {
      meta = document.createElement('meta');
      meta.name = 'referrer';
      document.head.appendChild(meta);
    }
    meta.content = 'no-referrer';
  }, []);

  let body;
  if (loading && !page) {
    body = (
      <p className="pt-status" role="status">
        {t('loading')}
      </p>
    );
  } else if (failure && !page) {
    body = <FailurePage failure={failure} t={t} onRetry={load} />;
  } else if (done) {
    body = (
      <section className="pt-card pt-done" aria-live="polite" data-testid="patient-done">
        <div className="pt-done__mark" aria-hidden="true">
          ✓
        </div>
        <h2 tabIndex={-1} ref={(el) => el?.focus()}>
          {t('doneTitle')}
        </h2>
        <p>
          {t('doneText', {
            photo: done.photos === 0 ? '' : done.photos === 1 ? t('donePhoto') : t('donePhotos', { count: done.photos }),
          })}
        </p>
        <p className="pt-urgent">{t('doneUrgent')}</p>
        <button type="button" className="pt-button pt-button--secondary" onClick={() => setDone(null)}>
          {t('sendAgain')}
        </button>
      </section>
    );
  } else if (page) {
    body = (
      <UpdateForm
        token={token}
        page={page}
        lang={lang}
        t={t}
        onDone={(photos) => setDone({ photos })}
        onFatal={(f) => {
          setFailure(f);
          setPage(null);
        }}
      />
    );
  }

  return (
    <div className="pt-page" data-testid="patient-page">
      <header className="pt-header">
        <h1 className="pt-title">{t('appTitle')}</h1>
        <LanguageSwitch t={t} />
      </header>
      <main className="pt-main">{body}</main>
      <footer className="pt-footer">{t('privacy')}</footer>
    </div>
  );
}

function LanguageSwitch({ t }: { t: T }) {
  const { lang, setLang } = useLang();
  return (
    <div className="pt-lang" role="group" aria-label={t('language')}>
      {LANGS.map((l: Lang) => (
        <button
          key={l}
          type="button"
          lang={l}
          className="pt-lang__button"
          aria-pressed={l === lang}
          onClick={() => setLang(l)}
        >
          {LANG_NAMES[l]}
        </button>
      ))}
    </div>
  );
}

function FailurePage({ failure, t, onRetry }: { failure: Failure; t: T; onRetry: () => void }) {
  let title: string;
  let text: string;
  let retry = true;
  switch (failure.kind) {
    case 'invalid':
      title = t('invalidTitle');
      text = t('invalidText');
      retry = false;
      break;
    case 'rate':
      title = t('rateTitle');
      text = t('rateText', { minutes: failure.minutes });
      break;
    case 'network':
      title = t('networkTitle');
      text = t('networkText');
      break;
    default:
      title = t('errorTitle');
      text = t('errorText');
  }
  return (
    <section className="pt-card pt-failure" data-testid="patient-failure" data-kind={failure.kind}>
      <h2>{title}</h2>
      <p>{text}</p>
      {retry && (
        <button type="button" className="pt-button" onClick={onRetry}>
          {t('retry')}
        </button>
      )}
    </section>
  );
}

interface FormProps {
  token: string;
  page: PatientPageData;
  lang: Lang;
  t: T;
  onDone: (photos: number) => void;
  onFatal: (failure: Failure) => void;
}

function UpdateForm({ token, page, lang, t, onDone, onFatal }: FormProps) {
  const schema = page.questionnaire.schema;
  const [answers, setAnswers] = useState<Answers>({});
  const [problems, setProblems] = useState<Record<string, AnswerProblem | 'server'>>({});
  const [photos, setPhotos] = useState<ChosenPhoto[]>([]);
  const [photoError, setPhotoError] = useState<string | null>(null);
  const [step, setStep] = useState<Step | null>(null);
  const [sendError, setSendError] = useState<string | null>(null);
  // The answers' UUID, kept across retries until the server confirmed them.
  const answersUuid = useRef(newClientUuid());
  const shown = useRef<ChosenPhoto[]>([]);
  shown.current = photos;
  useEffect(() => () => shown.current.forEach((p) => URL.revokeObjectURL(p.url)), []);

  function setAnswer(id: string, value: AnswerValue) {
    setAnswers((a) => ({ ...a, [id]: value }));
    if (!(id in problems)) return;
    const next = { ...problems };
    delete next[id];
    setProblems(next);
    if (Object.keys(next).length === 0 && sendError === t('missingSome')) setSendError(null);
  }

  function pickPhotos(e: ChangeEvent<HTMLInputElement>) {
    const files = [...(e.target.files ?? [])];
    e.target.value = '';
    if (!files.length) return;
    const added: ChosenPhoto[] = [];
    let problem: string | null = null;
    for (const file of files) {
      const check = checkPhoto(file);
      if (check !== 'ok') {
        problem = t(check === 'type' ? 'photoNotImage' : 'photoTooLarge');
        continue;
      }
      if (photos.length + added.length >= MAX_PHOTOS) {
        problem = t('photoLimit', { max: MAX_PHOTOS });
        break;
      }
      // Each photo is its own upload, with its own UUID.
      added.push({ blob: file, filename: file.name || 'wound.jpg', clientUuid: newClientUuid(), done: false, url: URL.createObjectURL(file) });
    }
    setPhotoError(problem);
    if (added.length) setPhotos((chosen) => [...chosen, ...added]);
  }

  function removePhoto(index: number) {
    setPhotos((chosen) => {
      URL.revokeObjectURL(chosen[index].url);
      return chosen.filter((_, i) => i !== index);
    });
    setPhotoError(null);
  }

  async function send() {
    const found = validateAnswers(schema, answers);
    setProblems(found);
    setSendError(null);
    if (Object.keys(found).length) {
      setSendError(t('missingSome'));
      const first = schema.questions.find((q) => q.id in found);
      const el = first ? document.getElementById(`q-${first.id}`) : null;
      if (el) {
        el.querySelector<HTMLElement>('input, textarea')?.focus({ preventScroll: true });
        el.scrollIntoView?.({ behavior: 'smooth', block: 'center' });
      }
      return;
    }
    const enc = encodeURIComponent(token);
    try {
      await submitUpdate(
        {
          uploadPhoto: (blob, filename, clientUuid, onProgress) => {
            const form = new FormData();
            form.append('file', blob, filename);
            form.append('client_uuid', clientUuid);
            return upload(`p/${enc}/photos`, form, onProgress);
          },
          postAnswers: (clean, clientUuid) => api('POST', `p/${enc}/responses`, { client_uuid: clientUuid, answers: clean }),
        },
        photos,
        { values: cleanAnswers(schema, answers), clientUuid: answersUuid.current },
        setStep,
      );
      const count = photos.length;
      photos.forEach((p) => URL.revokeObjectURL(p.url));
      answersUuid.current = newClientUuid();
      setAnswers({});
      setPhotos([]);
      onDone(count);
    } catch (e) {
      const f = classifyError(e);
      if (f.kind === 'invalid') {
        onFatal(f);
      } else if (f.kind === 'rate') {
        // Keep what the patient entered: they can send it once the wait is over.
        setSendError(`${t('rateTitle')}. ${t('rateText', { minutes: f.minutes })}`);
      } else if (f.kind === 'answers') {
        setProblems(Object.fromEntries(Object.keys(f.questions).map((k) => [k, 'server' as const])));
        setSendError(t('missingSome'));
      } else if (f.kind === 'photo_too_large' || f.kind === 'photo_invalid') {
        setPhotoError(t(f.kind === 'photo_too_large' ? 'photoTooLarge' : 'photoNotImage'));
        setSendError(t(f.kind === 'photo_too_large' ? 'photoTooLarge' : 'photoNotImage'));
      } else if (f.kind === 'network') {
        setSendError(t('networkText'));
      } else {
        setSendError(t('errorText'));
      }
    } finally {
      setStep(null);
    }
  }

  const sending = step !== null;
  const pct = step?.step === 'photo' ? Math.round(step.fraction * 100) : 100;
  // The bar covers every photo; the words say which one.
  const overall = step?.step === 'photo' ? Math.round(((step.index + step.fraction) / step.count) * 100) : 100;
  const progressText =
    step?.step !== 'photo'
      ? t('sendingAnswers')
      : step.count > 1
        ? t('sendingPhotoN', { n: step.index + 1, count: step.count, pct })
        : t('sendingPhoto', { pct });
  const full = photos.length >= MAX_PHOTOS;

  return (
    <form
      className="pt-form"
      data-testid="patient-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!sending) void send();
      }}
    >
      <p className="pt-intro">{t('intro')}</p>
      {page.case_title && <p className="pt-about">{t('about', { title: page.case_title })}</p>}

      <section className="pt-card" aria-labelledby="pt-photo-title">
        <h2 id="pt-photo-title">{t('photoTitle')}</h2>
        <p className="pt-help">{t('photoHelp')}</p>
        <p className="pt-help">{t('photoMany', { max: MAX_PHOTOS })}</p>
        {photos.length > 0 && (
          <div className="pt-previews">
            {photos.map((p, i) => (
              <figure className="pt-preview" key={p.clientUuid}>
                <img src={p.url} alt={t('photoPreviewN', { n: i + 1 })} />
                <button
                  type="button"
                  className="pt-button pt-button--link"
                  onClick={() => removePhoto(i)}
                  disabled={sending}
                  aria-label={t('removePhotoN', { n: i + 1 })}
                >
                  {t('remove')}
                </button>
              </figure>
            ))}
            <p className="pt-previews__count">{photos.length === 1 ? t('photoChosen') : t('photosChosen', { count: photos.length })}</p>
          </div>
        )}
        {!full && (
          <div className="pt-photo-buttons">
            <label className="pt-button pt-file">
              <input type="file" accept="image/*" capture="environment" onChange={pickPhotos} disabled={sending} />
              <svg className="pt-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                <path
                  d="M9 4 7.2 6H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V8a2 2 0 0 0-2-2h-3.2L15 4H9Zm3 4.5a4.5 4.5 0 1 1 0 9 4.5 4.5 0 0 1 0-9Zm0 2a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5Z"
                  fill="currentColor"
                />
              </svg>
              {photos.length ? t('changePhoto') : t('takePhoto')}
            </label>
            <label className="pt-button pt-button--secondary pt-file">
              <input type="file" accept="image/*" multiple onChange={pickPhotos} disabled={sending} />
              {t('choosePhoto')}
            </label>
          </div>
        )}
        {photoError && (
          <p className="pt-error" role="alert">
            {photoError}
          </p>
        )}
        {photos.length === 0 && <p className="pt-help">{t('photoOptional')}</p>}
      </section>

      <section className="pt-card" aria-labelledby="pt-questions-title">
        <h2 id="pt-questions-title">{t('questionsTitle')}</h2>
        {schema.questions.map((q) => (
          <QuestionField
            key={q.id}
            question={q}
            lang={lang}
            t={t}
            value={answers[q.id]}
            problem={problems[q.id]}
            disabled={sending}
            onChange={(v) => setAnswer(q.id, v)}
          />
        ))}
      </section>

      <div className="pt-send">
        {sendError && (
          <p className="pt-error" role="alert">
            {sendError}
          </p>
        )}
        {sending && (
          <div className="pt-progress" role="status" aria-live="polite">
            <span>{progressText}</span>
            <progress max={100} value={overall} />
          </div>
        )}
        <button type="submit" className="pt-button pt-button--primary" disabled={sending} aria-busy={sending}>
          {sending ? t('sending') : t('send')}
        </button>
      </div>
    </form>
  );
}

interface FieldProps {
  question: Question;
  lang: Lang;
  t: T;
  value: Answers[string];
  problem: AnswerProblem | 'server' | undefined;
  disabled: boolean;
  onChange: (value: AnswerValue) => void;
}

function QuestionField({ question: q, lang, t, value, problem, disabled, onChange }: FieldProps) {
  const name = useId();
  const label = pickLabel(q.label, lang);
  const errorId = `${name}-error`;
  const error = problem ? (
    <p className="pt-error" id={errorId}>
      {problem === 'required' ? t('required') : t('invalid')}
    </p>
  ) : null;
  const cls = `pt-question${problem ? ' pt-question--problem' : ''}`;

  if (q.type === 'text') {
    return (
      <div className={cls} id={`q-${q.id}`}>
        <label className="pt-question__label" htmlFor={name}>
          {label}
        </label>
        <textarea
          id={name}
          className="pt-text"
          rows={3}
          maxLength={1000}
          placeholder={t('textPlaceholder')}
          value={typeof value === 'string' ? value : ''}
          disabled={disabled}
          aria-invalid={!!problem}
          aria-describedby={problem ? errorId : undefined}
          onChange={(e) => onChange(e.target.value)}
        />
        {error}
      </div>
    );
  }

  let options: { value: AnswerValue; label: string; className?: string }[];
  let extra = null;
  if (q.type === 'scale') {
    const { min, max } = scaleRange(q);
    options = [];
    for (let i = min; i <= max; i++) options.push({ value: i, label: String(i), className: `pt-scale--${i}` });
    extra = (
      <div className="pt-scale__ends" aria-hidden="true">
        <span>
          {min} = {t('painNone')}
        </span>
        <span>
          {max} = {t('painWorst')}
        </span>
      </div>
    );
  } else if (q.type === 'yes_no') {
    options = [
      { value: true, label: t('yes') },
      { value: false, label: t('no') },
    ];
  } else {
    options = (q.choices ?? []).map((c) => ({ value: c.value, label: pickLabel(c.label, lang) }));
  }

  const layout = q.type === 'scale' ? 'pt-options--scale' : q.type === 'yes_no' ? 'pt-options--yesno' : 'pt-options--choice';
  return (
    <fieldset className={cls} id={`q-${q.id}`} aria-invalid={!!problem} aria-describedby={problem ? errorId : undefined}>
      <legend className="pt-question__label">{label}</legend>
      <div className={`pt-options ${layout}`}>
        {options.map((o) => {
          const checked = value === o.value;
          return (
            <label key={String(o.value)} className={`pt-option${checked ? ' pt-option--checked' : ''} ${o.className ?? ''}`}>
              <input
                type="radio"
                name={name}
                value={String(o.value)}
                checked={checked}
                disabled={disabled}
                onChange={() => onChange(o.value)}
              />
              <span>{o.label}</span>
            </label>
          );
        })}
      </div>
      {extra}
      {q.type === 'scale' && typeof value === 'number' && (
        <p className="pt-scale__chosen" aria-live="polite">
          {t('painChosen', { value, max: scaleRange(q).max })}
        </p>
      )}
      {error}
    </fieldset>
  );
}
