import { describe, expect, it, vi } from 'vitest';
import { checkPhoto, classifyError, initialLang, submitUpdate, type PendingIds } from './flow';

describe('classifyError', () => {
  it('names the pages of the API error codes', () => {
    expect(classifyError({ status: 401, code: 'link_invalid' })).toEqual({ kind: 'invalid' });
    expect(classifyError({ status: 429, code: 'rate_limited', details: { retry_after_seconds: 600 } })).toEqual({
      kind: 'rate',
      minutes: 10,
    });
    expect(classifyError({ status: 0, code: 'network_error' })).toEqual({ kind: 'network' });
    expect(classifyError({ status: 400, code: 'form_answers_invalid', details: { questions: { pain: ['x'] } } })).toEqual({
      kind: 'answers',
      questions: { pain: ['x'] },
    });
    expect(classifyError({ status: 413, code: 'image_too_large' })).toEqual({ kind: 'photo_too_large' });
    expect(classifyError({ status: 500, code: 'server_error', message: 'boom' })).toEqual({ kind: 'other', message: 'boom' });
  });
});

describe('submitUpdate', () => {
  it('sends the photo once, then the answers, keeping the UUIDs across a retry', async () => {
    const uploadPhoto = vi.fn(async (_b: Blob, _n: string, _u: string, onProgress: (f: number) => void) => {
      onProgress(0.5);
      onProgress(1);
    });
    let fail = true;
    const postAnswers = vi.fn(async () => {
      if (fail) throw { status: 0, code: 'network_error' };
    });
    const ids: PendingIds = { photo: 'p-1', answers: 'a-1', photoDone: false };
    const steps: unknown[] = [];
    const photo = { blob: new Blob(['x']), filename: 'wound.jpg' };
    await expect(submitUpdate({ uploadPhoto, postAnswers }, ids, photo, { pain: 1 }, (s) => steps.push(s))).rejects.toBeTruthy();
    fail = false;
    await submitUpdate({ uploadPhoto, postAnswers }, ids, photo, { pain: 1 }, (s) => steps.push(s));
    expect(uploadPhoto).toHaveBeenCalledTimes(1);
    expect(uploadPhoto.mock.calls[0][2]).toBe('p-1');
    expect(postAnswers.mock.calls.map((c) => (c as unknown[])[1])).toEqual(['a-1', 'a-1']);
    expect(steps[0]).toEqual({ step: 'photo', fraction: 0 });
    expect(steps).toContainEqual({ step: 'photo', fraction: 0.5 });
  });
  it('sends the answers alone without a photo', async () => {
    const uploadPhoto = vi.fn();
    const postAnswers = vi.fn(async () => undefined);
    await submitUpdate({ uploadPhoto, postAnswers }, { photo: 'p', answers: 'a', photoDone: false }, null, {}, () => {});
    expect(uploadPhoto).not.toHaveBeenCalled();
    expect(postAnswers).toHaveBeenCalledOnce();
  });
});

describe('checkPhoto / initialLang', () => {
  it('checks type and size', () => {
    expect(checkPhoto({ type: 'image/jpeg', size: 1000 })).toBe('ok');
    expect(checkPhoto({ type: 'application/pdf', size: 1000 })).toBe('type');
    expect(checkPhoto({ type: 'image/jpeg', size: 40_000_000 })).toBe('size');
  });
  it('takes the browser language first, then the link', () => {
    expect(initialLang(['fr-FR', 'en'], 'es')).toBe('fr');
    expect(initialLang(['de-DE'], 'es')).toBe('es');
    expect(initialLang([], undefined)).toBe('en');
  });
});
