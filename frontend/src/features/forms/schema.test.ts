import { describe, expect, it } from 'vitest';
import {
  answerText,
  cleanAnswers,
  flaggedQuestions,
  isWorrying,
  newClientUuid,
  pickLabel,
  validateAnswers,
  type FormSchema,
} from './schema';

const schema: FormSchema = {
  title: { en: 'Wound follow-up', fr: 'Suivi de la plaie', es: 'Seguimiento de la herida' },
  questions: [
    { id: 'pain', type: 'scale', label: { en: 'Pain', fr: 'Douleur', es: 'Dolor' }, min: 0, max: 10, required: true },
    { id: 'fever', type: 'yes_no', label: { en: 'Fever?', fr: 'Fièvre ?', es: '¿Fiebre?' }, required: true },
    {
      id: 'discharge',
      type: 'choice',
      label: { en: 'Fluid?' },
      required: true,
      choices: [
        { value: 'none', label: { en: 'None', fr: 'Aucun', es: 'Nada' } },
        { value: 'pus', label: { en: 'Pus', fr: 'Du pus', es: 'Pus' } },
      ],
    },
    { id: 'note', type: 'text', label: { en: 'Anything else?' } },
  ],
};

describe('pickLabel', () => {
  it('takes the language, then English', () => {
    expect(pickLabel(schema.questions[0].label, 'fr')).toBe('Douleur');
    expect(pickLabel(schema.questions[2].label, 'es')).toBe('Fluid?');
    expect(pickLabel(undefined, 'en')).toBe('');
  });
});

describe('validateAnswers', () => {
  it('asks for every required question', () => {
    expect(validateAnswers(schema, {})).toEqual({ pain: 'required', fever: 'required', discharge: 'required' });
  });
  it('accepts a full, valid set', () => {
    expect(validateAnswers(schema, { pain: 0, fever: false, discharge: 'none' })).toEqual({});
  });
  it('rejects values out of range or of the wrong type', () => {
    expect(
      validateAnswers(schema, { pain: 11, fever: 'yes', discharge: 'blood', note: 'x'.repeat(1001) }),
    ).toEqual({ pain: 'range', fever: 'yes_no', discharge: 'choice', note: 'text' });
    expect(validateAnswers(schema, { pain: 2.5, fever: true, discharge: 'pus' })).toEqual({ pain: 'range' });
  });
  it('flags unknown questions', () => {
    expect(validateAnswers(schema, { pain: 1, fever: true, discharge: 'pus', extra: 1 })).toEqual({ extra: 'unknown' });
  });
});

describe('cleanAnswers', () => {
  it('keeps answered questions of the schema only', () => {
    expect(cleanAnswers(schema, { pain: 3, fever: false, discharge: 'none', note: '  ok ', other: 1 })).toEqual({
      pain: 3,
      fever: false,
      discharge: 'none',
      note: 'ok',
    });
  });
});

describe('worrying answers', () => {
  it('maps server flags to questions', () => {
    expect([...flaggedQuestions(['pain_increase', 'pus'])]).toEqual(['pain', 'discharge']);
  });
  it('reads the answers like the rules', () => {
    expect(isWorrying('fever', true)).toBe(true);
    expect(isWorrying('fever', false)).toBe(false);
    expect(isWorrying('discharge', 'some')).toBe(false);
    expect(isWorrying('discharge', 'pus')).toBe(true);
    expect(isWorrying('pain', 9)).toBe(false);
    expect(isWorrying('pain', 9, ['pain_increase'])).toBe(true);
  });
});

describe('answerText', () => {
  const words = { yes: 'Yes', no: 'No', none: '—' };
  it('words each kind of answer', () => {
    expect(answerText(schema.questions[0], 7, 'en', words)).toBe('7 / 10');
    expect(answerText(schema.questions[1], false, 'en', words)).toBe('No');
    expect(answerText(schema.questions[2], 'pus', 'fr', words)).toBe('Du pus');
    expect(answerText(undefined, undefined, 'en', words)).toBe('—');
  });
});

describe('newClientUuid', () => {
  it('is a v4 UUID, new each time', () => {
    const a = newClientUuid();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newClientUuid()).not.toBe(a);
  });
});
