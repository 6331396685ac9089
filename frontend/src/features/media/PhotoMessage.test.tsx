// @vitest-environment jsdom
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../store/types';
import { Chart } from './ChartScreen';
import PhotoMessage from './PhotoMessage';
import type { Trajectory } from './types';
import { messages } from './messages';
import { translate } from '../../i18n';

function photoMessage(data: Record<string, unknown>): Message {
  return {
    id: 7,
    room: 4,
    seq: 10,
    kind: 'photo',
    author: { id: 1, full_name: 'Nadia Dubois', handle: 'nadia' },
    body: '',
    data,
    client_uuid: 'c0ffee00-0000-4000-8000-000000000000',
    reply_to: null,
    mentions: [],
    created_at: '2026-12-01T10:00:00Z',
    edited_at: null,
    deleted_at: null,
    is_deleted: false,
  };
}

const photo = { id: 12, width: 1600, height: 1200, captured_at: null, wound_site: 3 };
const measurement = {
  id: 5,
  photo: 12,
  status: 'validated',
  method: 'automatic',
  area_cm2: 4.213,
  perimeter_cm: 8.1,
  length_cm: 3.2,
  width_cm: 1.9,
  tissue: { granulation: 70, slough: 20, necrosis: 10 },
  outline: [
    [
      [700, 500],
      [800, 500],
      [800, 600],
    ],
  ],
  calibration: { mm_per_px: 0.1, tilt_deg: 12, verdict: 'ok', reasons: [] },
  model_version: 'wound-seg-1.0',
  measured_at: '2026-12-01T10:00:00Z',
  created_by: null,
  reviewed_by: { id: 2, full_name: 'Dr Claire Martin', handle: 'claire' },
  reviewed_at: '2026-12-01T11:00:00Z',
  note: '',
  supersedes: null,
};

function render(data: Record<string, unknown>): HTMLElement {
  const html = renderToStaticMarkup(<PhotoMessage message={photoMessage(data)} />);
  const doc = new DOMParser().parseFromString(html, 'text/html');
  return doc.body;
}

describe('PhotoMessage', () => {
  it('says it is measuring while the analysis runs, without an outline', () => {
    const el = render({ photo, analysis: { state: 'analysing', reasons: [], advice: '' }, measurement: null });
    const card = el.querySelector('[data-testid="photo-message"]')!;
    expect(card.getAttribute('data-analysis')).toBe('analysing');
    expect(card.textContent).toContain('Measuring…');
    expect(el.querySelector('[data-testid="wound-outline"]')).toBeNull();
    expect(el.querySelector('img')!.getAttribute('src')).toBe('/api/photos/12/thumbnail');
  });

  it('shows the outline, the area in cm², the dimensions, the tissue and who validated', () => {
    const el = render({ photo, analysis: { state: 'done', reasons: [], advice: '' }, measurement });
    expect(el.querySelector('[data-testid="photo-message"]')!.getAttribute('data-analysis')).toBe('measured');
    const svg = el.querySelector('svg[data-testid="wound-outline"]')!;
    expect(svg.getAttribute('viewBox')).toBe('0 0 1600 1200');
    expect(svg.querySelector('polygon')!.getAttribute('points')).toBe('700,500 800,500 800,600');
    expect(el.querySelector('[data-testid="wound-area"]')!.textContent).toBe('4.21 cm²');
    const text = el.textContent!;
    expect(text).toContain('Perimeter');
    expect(text).toContain('Granulation 70 %');
    expect(text).toContain('Validated by Dr Claire Martin');
    expect(text).toContain('Calibration sticker OK (tilt 12°)');
  });

  it('says why a photo failed and what to do, in words', () => {
    const el = render({ photo, analysis: { state: 'failed', reasons: ['too_tilted', 'blurred'], advice: '…' }, measurement: null });
    expect(el.querySelector('[data-testid="photo-message"]')!.getAttribute('data-analysis')).toBe('failed');
    const text = el.textContent!;
    expect(text).toContain(translate(messages, 'en', 'reason_too_tilted'));
    expect(text).toContain(translate(messages, 'en', 'do_blurred'));
    expect(el.querySelector('[data-testid="wound-area"]')).toBeNull();
  });

  it('shows a rejection with its reason, the area struck through', () => {
    const el = render({
      photo,
      analysis: { state: 'done', reasons: [], advice: '' },
      measurement: { ...measurement, status: 'rejected', note: 'Not the wound' },
    });
    expect(el.querySelector('[data-testid="wound-area"]')!.className).toContain('is-rejected');
    expect(el.textContent).toContain('Reason: Not the wound');
  });

  it('renders nothing for a message that is not a photo', () => {
    expect(renderToStaticMarkup(<PhotoMessage message={photoMessage({ alert: 3 })} />)).toBe('');
  });
});

describe('the healing chart', () => {
  const trajectory: Trajectory = {
    wound_site: 3,
    wound_type: 'diabetic_foot_ulcer',
    baseline: null,
    points: [0, 7, 14, 28].map((day, i) => ({
      measured_at: new Date(Date.UTC(2026, 10, 1 + day)).toISOString(),
      area_cm2: 8 - i,
      reduction_pct: (i / 8) * 100,
      tissue: { granulation: 60, slough: 30, necrosis: 10 },
      status: 'validated' as const,
      photo: 100 + i,
      measurement: 200 + i,
    })),
    threshold: { rule: 'stalled_healing', weeks: 4, min_reduction_pct: 50 },
  };
  const t = (key: keyof typeof messages.en, vars?: Record<string, string | number>) => translate(messages, 'en', key, vars);

  it('has one point per validated measurement, each a link to its review, and the expected line', () => {
    const html = renderToStaticMarkup(<Chart data={trajectory} width={800} t={t} lang="en" />);
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const points = doc.querySelectorAll('[data-testid="chart-point"]');
    expect(points).toHaveLength(4);
    expect(points[0].closest('a')!.getAttribute('href')).toBe('/measurements/200/review');
    expect(doc.querySelector('[data-testid="healing-chart"]')).not.toBeNull();
    expect(doc.querySelector('line.expected')).not.toBeNull();
    expect(doc.querySelectorAll('image')).toHaveLength(4);
  });
});

describe('in French', () => {
  it('speaks French, with French number formatting', async () => {
    const { setLang } = await import('../../i18n');
    setLang('fr');
    try {
      const el = render({ photo, analysis: { state: 'done', reasons: [], advice: '' }, measurement });
      expect(el.querySelector('[data-testid="wound-area"]')!.textContent).toBe('4,21 cm²');
      expect(el.textContent).toContain('Validée par Dr Claire Martin');
      expect(el.textContent).toContain('Bourgeonnement 70 %');
    } finally {
      setLang('en');
    }
  });
});
