/**
 * Questionnaire templates as the server sends them (`GET /api/forms`, `GET /api/p/{token}`):
 * every label in English, French and Spanish inside the schema. Pure functions, no React.
 */

export type FormLang = 'en' | 'fr' | 'es';
export type Labels = Partial<Record<FormLang, string>> & Record<string, string | undefined>;

export interface Choice {
  value: string;
  label: Labels;
}

export interface Question {
  id: string;
  type: 'scale' | 'yes_no' | 'choice' | 'text' | string;
  label: Labels;
  required?: boolean;
  min?: number;
  max?: number;
  choices?: Choice[];
}

export interface FormSchema {
  title?: Labels;
  questions: Question[];
}

export interface FormTemplate {
  id: number;
  slug: string;
  version: number;
  schema: FormSchema;
}

export type AnswerValue = number | boolean | string;
export type Answers = Record<string, AnswerValue | null | undefined>;

export const TEXT_MAX = 1000;

/** The label in the wanted language, else English, else any. */
export function pickLabel(labels: Labels | string | undefined, lang: FormLang): string {
  if (!labels) return '';
  if (typeof labels === 'string') return labels;
  return labels[lang] ?? labels.en ?? Object.values(labels).find((v) => !!v) ?? '';
}

export function scaleRange(q: Question): { min: number; max: number } {
  const min = Number.isInteger(q.min) ? (q.min as number) : 0;
  const max = Number.isInteger(q.max) ? (q.max as number) : 10;
  return { min, max };
}

export type AnswerProblem = 'required' | 'range' | 'yes_no' | 'choice' | 'text' | 'unknown';

/**
 * Check answers the way the server does (`cases.actions.forms.validate_answers`), so that the
 * patient sees what is missing before sending. Returns the problems by question id.
 */
export function validateAnswers(schema: FormSchema, answers: Answers): Record<string, AnswerProblem> {
  const problems: Record<string, AnswerProblem> = {};
  const known = new Set(schema.questions.map((q) => q.id));
  for (const key of Object.keys(answers)) {
    if (!known.has(key) && answers[key] !== undefined) problems[key] = 'unknown';
  }
  for (const q of schema.questions) {
    const value = answers[q.id];
    if (value === undefined || value === null || value === '') {
      if (q.required) problems[q.id] = 'required';
      continue;
    }
    const problem = answerProblem(q, value);
    if (problem) problems[q.id] = problem;
  }
  return problems;
}

function answerProblem(q: Question, value: AnswerValue): AnswerProblem | null {
  switch (q.type) {
    case 'scale': {
      const { min, max } = scaleRange(q);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        return 'range';
      }
      return null;
    }
    case 'yes_no':
      return typeof value === 'boolean' ? null : 'yes_no';
    case 'choice':
      return (q.choices ?? []).some((c) => c.value === value) ? null : 'choice';
    case 'text':
      return typeof value === 'string' && value.length <= TEXT_MAX ? null : 'text';
    default:
      return null;
  }
}

/** Only the answered questions of the schema, in the shape the server takes. */
export function cleanAnswers(schema: FormSchema, answers: Answers): Record<string, AnswerValue> {
  const out: Record<string, AnswerValue> = {};
  for (const q of schema.questions) {
    const value = answers[q.id];
    if (value === undefined || value === null || value === '') continue;
    out[q.id] = typeof value === 'string' && q.type === 'text' ? value.trim() : value;
  }
  return out;
}

/** Which question ids each server flag points at (`cases.rules.answer_flags`). */
const FLAG_QUESTIONS: Record<string, string> = {
  fever: 'fever',
  spreading_redness: 'spreading_redness',
  pain_increase: 'pain',
  pus: 'discharge',
  odour: 'odour',
};

export function flaggedQuestions(flags: readonly string[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const flag of flags ?? []) out.add(FLAG_QUESTIONS[flag] ?? flag);
  return out;
}

/**
 * Whether an answer is worrying on its own, as the server's rules read it: a "yes" to fever,
 * spreading redness or a bad smell, pus, or a flag the server computed (pain up since the last
 * response). A high pain score alone is shown as notable, not as a rule.
 */
export function isWorrying(questionId: string, value: unknown, flags?: readonly string[]): boolean {
  if (flaggedQuestions(flags).has(questionId)) return true;
  if (['fever', 'spreading_redness', 'odour'].includes(questionId)) return value === true;
  if (questionId === 'discharge') return value === 'pus';
  return false;
}

/** The answer in words for one question (yes/no words come from the caller's messages). */
export function answerText(
  q: Question | undefined,
  value: unknown,
  lang: FormLang,
  words: { yes: string; no: string; none: string },
): string {
  if (value === undefined || value === null || value === '') return words.none;
  if (typeof value === 'boolean') return value ? words.yes : words.no;
  if (q?.type === 'choice') {
    const choice = (q.choices ?? []).find((c) => c.value === value);
    if (choice) return pickLabel(choice.label, lang);
  }
  if (q?.type === 'scale' && typeof value === 'number') {
    return `${value} / ${scaleRange(q).max}`;
  }
  return String(value);
}

/** A client UUID (v4) for idempotent submissions; `crypto.randomUUID` where available. */
export function newClientUuid(): string {
  const c: Crypto | undefined = typeof crypto !== 'undefined' ? crypto : undefined;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
