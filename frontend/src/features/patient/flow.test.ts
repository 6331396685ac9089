import { describe, expect, it, vi } from 'vitest';
import { checkPhoto, classifyError, initialLang, submitUpdate, type PendingPhoto } from './flow';

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
  it('sends each photo once, then the answers, keeping the UUIDs across a retry', async () => {
    let failSecond = true;
    const uploadPhoto = vi.fn(async (_b: Blob, _n: string, uuid: string, onProgress: (f: number) => void) => {
      onProgress(0.5);
      if (uuid === 'p-2' && failSecond) throw { status: 0, code: 'network_error' };
      onProgress(1);
    });
    let failAnswers = true;
    const postAnswers = vi.fn(async () => {
      if (failAnswers) throw { status: 0, code: 'network_error' };
    });
    const photos: PendingPhoto[] = [
      { blob: new Blob(['a']), filename: 'heel.jpg', clientUuid: 'p-1', done: false },
      { blob: new Blob(['b']), filename: 'toe.jpg', clientUuid: 'p-2', done: false },
    ];
    const answers = { values: { pain: 1 }, clientUuid: 'a-1' };
    const steps: unknown[] = [];
    const deps = { uploadPhoto, postAnswers };

    await expect(submitUpdate(deps, photos, answers, (s) => steps.push(s))).rejects.toBeTruthy();
    expect(photos.map((p) => p.done)).toEqual([true, false]);
    expect(postAnswers).not.toHaveBeenCalled();
    failSecond = false;
    await expect(submitUpdate(deps, photos, answers, (s) => steps.push(s))).rejects.toBeTruthy();
    failAnswers = false;
    await submitUpdate(deps, photos, answers, (s) => steps.push(s));

    expect(uploadPhoto.mock.calls.map((c) => c[2])).toEqual(['p-1', 'p-2', 'p-2']);
    expect(postAnswers.mock.calls.map((c) => (c as unknown[])[1])).toEqual(['a-1', 'a-1']);
    expect(steps[0]).toEqual({ step: 'photo', index: 0, count: 2, fraction: 0 });
    expect(steps).toContainEqual({ step: 'photo', index: 1, count: 2, fraction: 0.5 });
    expect(steps.at(-1)).toEqual({ step: 'answers' });
  });
  it('sends the answers alone without a photo', async () => {
    const uploadPhoto = vi.fn();
    const postAnswers = vi.fn(async () => undefined);
    await submitUpdate({ uploadPhoto, postAnswers }, [], { values: {}, clientUuid: 'a' }, () => {});
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
