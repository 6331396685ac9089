import { useId } from 'react';
import { useLang, useT } from '../../i18n';
import { messages } from './messages';
import { answerText, isWorrying, pickLabel, type Question } from './schema';
import { useTemplate } from './templates';
import './forms.css';

/** The fields of a room message this card reads (the server's message serializer). */
export interface FormResponseMessage {
  id: number;
  data: unknown;
  author?: { id: number; full_name: string } | null;
  created_at: string;
}

interface ResponseData {
  id?: number;
  template?: string;
  version?: number;
  answers?: Record<string, unknown>;
  flags?: string[];
}

function readData(data: unknown): { response: ResponseData; fromPatient: boolean } {
  const d = (data && typeof data === 'object' ? data : {}) as { form_response?: ResponseData; from_patient?: boolean };
  return { response: d.form_response ?? {}, fromPatient: !!d.from_patient };
}

function humanise(id: string): string {
  const s = id.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A questionnaire response in a case room, answers in words, worrying ones highlighted. */
export default function FormResponseCard({ message }: { message: FormResponseMessage }) {
  const t = useT(messages);
  const { lang } = useLang();
  const titleId = useId();
  const { response, fromPatient } = readData(message.data);
  const template = useTemplate(response.template, response.version);
  const answers = response.answers ?? {};
  const flags = response.flags ?? [];

  const questions: Question[] = template
    ? template.schema.questions
    : Object.keys(answers).map((id) => ({ id, type: 'unknown', label: { en: humanise(id) } }));
  const rows = questions.filter((q) => q.id in answers || q.required);
  const worryingCount = rows.filter((q) => isWorrying(q.id, answers[q.id], flags)).length;
  const words = { yes: t('yes'), no: t('no'), none: t('noAnswer') };
  const title = template?.schema.title ? pickLabel(template.schema.title, lang) : t('questionnaire');

  return (
    <article
      className={`form-card${worryingCount ? ' form-card--worrying' : ''}`}
      data-testid="form-response"
      data-worrying={worryingCount}
      aria-labelledby={titleId}
    >
      <header className="form-card__head">
        <h3 id={titleId} className="form-card__title">
          {title}
          {response.version ? <span className="form-card__version"> · {t('version', { version: response.version })}</span> : null}
        </h3>
        <p className="form-card__who">
          {fromPatient ? t('fromPatient') : t('filledBy', { name: message.author?.full_name ?? '—' })}
        </p>
        <p className={`form-card__summary${worryingCount ? ' form-card__summary--worrying' : ''}`}>
          {worryingCount === 1
            ? t('worryingOne')
            : worryingCount
              ? t('worryingCount', { count: worryingCount })
              : t('nothingWorrying')}
        </p>
      </header>
      <dl className="form-card__answers">
        {rows.map((q) => {
          const value = answers[q.id];
          const worrying = isWorrying(q.id, value, flags);
          return (
            <div key={q.id} className={`form-card__row${worrying ? ' form-card__row--worrying' : ''}`}>
              <dt>{pickLabel(q.label, lang) || t('unknownQuestion', { id: q.id })}</dt>
              <dd>
                <span className="form-card__value">{answerText(q, value, lang, words)}</span>
                {worrying && <span className="form-card__flag">{t('worrying')}</span>}
                {q.id === 'pain' && flags.includes('pain_increase') && (
                  <span className="form-card__hint">{t('painIncrease')}</span>
                )}
              </dd>
            </div>
          );
        })}
      </dl>
    </article>
  );
}
