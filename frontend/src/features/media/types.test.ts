import { describe, expect, it, vi } from 'vitest';
import { fitWithin, pacedLoop } from './send';
import { analysisView, knownReason, readPhotoData, woundTypeKey } from './types';
import { messages } from './messages';

const measurement = {
  id: 5,
  photo: 12,
  status: 'suggested',
  method: 'automatic',
  area_cm2: 4.2,
  perimeter_cm: 8,
  length_cm: 3,
  width_cm: 2,
  tissue: { granulation: 50, slough: 30, necrosis: 20 },
  outline: [
    [
      [1, 1],
      [5, 1],
      [5, 5],
    ],
  ],
  calibration: { mm_per_px: 0.1, tilt_deg: 12, verdict: 'ok', reasons: [] },
  model_version: 'wound-seg-1',
  measured_at: '2026-01-01T10:00:00Z',
  created_by: null,
  reviewed_by: null,
  reviewed_at: null,
  note: '',
  supersedes: null,
};

describe('the photo message data', () => {
  it('is analysing until the analysis says otherwise', () => {
    const d = readPhotoData({ photo: { id: 12, width: 40, height: 30 }, analysis: { state: 'analysing', reasons: [], advice: '' }, measurement: null })!;
    expect(analysisView(d)).toBe('analysing');
  });

  it('is measured with a measurement, failed without', () => {
    const done = readPhotoData({ photo: { id: 12, width: 40, height: 30 }, analysis: { state: 'done', reasons: [] }, measurement })!;
    expect(analysisView(done)).toBe('measured');
    const failed = readPhotoData({ photo: { id: 12, width: 40, height: 30 }, analysis: { state: 'failed', reasons: ['too_tilted'], advice: 'x' }, measurement: null })!;
    expect(analysisView(failed)).toBe('failed');
    expect(failed.analysis.reasons).toEqual(['too_tilted']);
  });

  it('is measured when a failed photo was outlined by hand', () => {
    const drawn = readPhotoData({
      photo: { id: 12, width: 40, height: 30 },
      analysis: { state: 'failed', reasons: ['wound_not_found'] },
      measurement: { ...measurement, method: 'manual', status: 'validated' },
    })!;
    expect(analysisView(drawn)).toBe('measured');
  });

  it('is not a photo message without a photo', () => {
    expect(readPhotoData({ alert: 1 })).toBeNull();
    expect(readPhotoData(null)).toBeNull();
  });

  it('has words for every reason and wound type it knows, in every language', () => {
    expect(knownReason('too_far')).toBe('too_far');
    expect(knownReason('something_new')).toBe('unknown');
    expect(woundTypeKey('venous_ulcer')).toBe('wound_venous_ulcer');
    expect(woundTypeKey('alien')).toBeNull();
    for (const lang of ['fr', 'es'] as const) {
      expect(Object.keys(messages[lang]).sort()).toEqual(Object.keys(messages.en).sort());
      for (const [key, text] of Object.entries(messages[lang])) expect(text, `${lang}.${key}`).not.toBe('');
    }
  });
});

describe('the live check', () => {
  it('downscales a frame to at most the given side, keeping the ratio', () => {
    expect(fitWithin(4000, 3000, 1280)).toEqual([1280, 960]);
    expect(fitWithin(640, 480, 1280)).toEqual([640, 480]);
  });

  it('never runs two checks at once, and paces them', async () => {
    vi.useFakeTimers();
    let running = 0;
    let most = 0;
    let runs = 0;
    const stop = pacedLoop(async () => {
      running++;
      most = Math.max(most, running);
      runs++;
      await new Promise((r) => setTimeout(r, 1000)); // a slow server
      running--;
    }, 700);
    await vi.advanceTimersByTimeAsync(3500);
    stop();
    expect(most).toBe(1);
    expect(runs).toBe(4); // at 0, 1000, 2000, 3000
    const before = runs;
    await vi.advanceTimersByTimeAsync(3000);
    expect(runs).toBe(before);
    vi.useRealTimers();
  });
});
