// @vitest-environment jsdom
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { handleEvent } from '../../store';
import { loadMe } from '../auth/session';
import type { ServerEvent } from '../../store/types';
import ReviewScreen from './ReviewScreen';
import type { Measurement } from './types';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const square = [[[100, 100], [300, 100], [300, 300], [100, 300]]];
const suggested: Measurement = {
  id: 11, photo: 5, status: 'suggested', method: 'automatic', area_cm2: 4.2, perimeter_cm: 8, length_cm: 2, width_cm: 2,
  tissue: { granulation: 60, slough: 30, necrosis: 10 }, outline: square as Measurement['outline'], calibration: null,
  model_version: 'wound-seg-1.0', measured_at: '2026-12-01T10:00:00Z', created_by: null, reviewed_by: null, reviewed_at: null,
  note: '', supersedes: null,
};
const photo = {
  id: 5, case: 2, wound_site: 3, message: 40, width: 800, height: 600, captured_at: null, uploaded_at: '2026-12-01T10:00:00Z',
  analysis_state: 'done', analysis_reasons: [], image: '/img/5', thumbnail: '/thumb/5',
  homography_image_to_mm: [[0.1, 0, 0], [0, 0.1, 0], [0, 0, 1]],
};
const colleague = { id: 8, full_name: 'Vera Vascular', handle: 'vera' };
let seq = 100;

function updated(measurement: Measurement, messageId = 40): ServerEvent {
  seq += 1;
  return {
    type: 'event', seq, room: 9, event: 'message.updated', at: '2026-12-01T10:05:00Z',
    data: { message: { id: messageId, room: 9, seq, kind: 'photo', data: { measurement } } },
  } as unknown as ServerEvent;
}

async function render(server: { measurement: Measurement }) {
  localStorage.setItem('care.lang', 'en');
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      if (url === '/api/measurements/11') return json(server.measurement);
      if (url === '/api/photos/5') return json(photo);
      if (url === '/api/me') return json({ id: 1, permissions: ['measurement.review'] });
      return json({}, 404);
    }),
  );
  await loadMe(); // a reviewer
  const host = document.createElement('div');
  document.body.appendChild(host);
  const root = createRoot(host);
  await act(async () => root.render(<ReviewScreen measurementId={11} />));
  await act(async () => undefined);
  return { host, root };
}

afterEach(() => vi.unstubAllGlobals());

describe('ReviewScreen', () => {
  it('shows at once that someone else decided on the measurement, and the decision', async () => {
    const server = { measurement: suggested };
    const { host, root } = await render(server);
    expect(host.textContent).toContain('4.2');
    expect(host.textContent).not.toContain('Vera Vascular');

    server.measurement = { ...suggested, status: 'validated', reviewed_by: colleague, reviewed_at: '2026-12-01T10:05:00Z' };
    await act(async () => handleEvent(updated(server.measurement)));
    await act(async () => undefined);

    expect(host.querySelector('[role="status"].notice')?.textContent).toContain(
      'Vera Vascular has just decided on this photo’s measurement: validated.',
    );
    expect(host.textContent).toContain('Validated by Vera Vascular');
    expect(host.textContent).toContain('nothing left to decide');
    act(() => root.unmount());
  });

  it('ignores updates of other messages', async () => {
    const server = { measurement: suggested };
    const { host, root } = await render(server);
    await act(async () => handleEvent(updated({ ...suggested, id: 12, status: 'validated', reviewed_by: colleague }, 41)));
    expect(host.textContent).not.toContain('Vera Vascular');
    act(() => root.unmount());
  });
});

describe('ReviewScreen while the person is editing', () => {
  it('keeps their edits and offers to show the decision, which then replaces them', async () => {
    const server = { measurement: suggested };
    const { host, root } = await render(server);
    const handle = host.querySelector('circle.handle') as SVGCircleElement;
    await act(async () => {
      handle.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', shiftKey: true, bubbles: true }));
    });
    expect(host.textContent).toContain('Measured: 4.20');

    server.measurement = { ...suggested, status: 'rejected', reviewed_by: colleague, note: 'blurred' };
    await act(async () => handleEvent(updated(server.measurement)));
    await act(async () => undefined);

    const notice = host.querySelector('[role="status"].notice')!;
    expect(notice.textContent).toContain('Vera Vascular has just decided on this photo’s measurement: rejected.');
    expect(host.textContent).toContain('Measured: 4.20'); // the edit is still there
    const show = [...notice.querySelectorAll('button')].find((b) => b.textContent?.startsWith('Show it'))!;
    await act(async () => show.click());
    await act(async () => undefined);
    expect(host.textContent).not.toContain('Measured: 4.20');
    expect(host.textContent).toContain('This measurement is rejected');
    act(() => root.unmount());
  });
});
