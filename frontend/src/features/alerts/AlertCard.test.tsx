// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadMe } from '../auth/session';
import AlertCard from './AlertCard';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const message = {
  id: 40,
  created_at: '2026-01-05T10:00:00Z',
  data: {
    alert: {
      id: 7,
      rule: 'deterioration',
      severity: 'warning',
      status: 'open',
      title: 'Wound area increased',
      detail: 'Left heel: area 4.0 → 5.2 cm² (+30%). Decision support, not a diagnosis.',
      evidence: {
        previous: { measured_at: '2026-01-01T00:00:00Z', area_cm2: 4 },
        latest: { measured_at: '2026-01-08T00:00:00Z', area_cm2: 5.2 },
        increase_pct: 30,
        threshold_pct: 20,
      },
      acknowledged_by: null,
      acknowledged_at: null,
    },
  },
};

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

let root: Root;
let host: HTMLDivElement;
const calls: { url: string; init?: RequestInit }[] = [];

function serve(permissions: string[]) {
  calls.length = 0;
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      if (url === '/api/me') {
        return json({ id: 3, full_name: 'Dr Test', handle: 'test', email: 't@x', teams: [], language: 'en', permissions });
      }
      if (url === '/api/cases') return json([{ id: 2, room: 6 }]);
      if (url === '/api/cases/2/alerts') {
        return json([{ ...message.data.alert, status: 'acknowledged', acknowledged_by: 8, acknowledged_at: '2026-01-05T11:00:00Z', acknowledge_note: 'Visit booked', raised_at: '2026-01-05T10:00:00Z' }]);
      }
      if (url === '/api/users/8') return json({ id: 8, full_name: 'Nadia Dubois' });
      if (url === '/api/alerts/7/acknowledge') {
        return json({
          ...message.data.alert,
          status: 'acknowledged',
          acknowledged_by: 3,
          acknowledged_at: '2026-01-05T11:00:00Z',
          acknowledge_note: 'Called',
        });
      }
      return json({}, 404);
    }),
  );
}

beforeEach(() => {
  document.cookie = 'csrftoken=abc';
  host = document.createElement('div');
  document.body.appendChild(host);
  root = createRoot(host);
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
  vi.unstubAllGlobals();
});

describe('AlertCard', () => {
  it('says which rule fired on which figures, and acknowledges', async () => {
    serve(['alert.acknowledge']);
    await act(async () => {
      await loadMe();
    });
    await act(async () => root.render(<AlertCard message={message} />));
    const card = host.querySelector('[data-testid="alert"]')!;
    expect(card.getAttribute('data-status')).toBe('open');
    expect(card.textContent).toContain('Wound area increased');
    expect(card.textContent).toContain('Area 4.0 → 5.2 cm² in 7 days');
    expect(card.textContent).toContain('Up 30%');
    expect(card.textContent).toContain('Decision support, not a diagnosis');
    const button = [...card.querySelectorAll('button')].find((b) => b.textContent === 'Acknowledge')!;
    expect(button).toBeTruthy();
    await act(async () => {
      button.click();
    });
    await act(async () => undefined);
    expect(calls.some((c) => c.url === '/api/alerts/7/acknowledge' && c.init?.method === 'POST')).toBe(true);
    expect(card.getAttribute('data-status')).toBe('acknowledged');
    expect(card.textContent).toContain('Acknowledged by you');
    expect(card.textContent).toContain('Called');
    expect([...card.querySelectorAll('button')].some((b) => b.textContent === 'Acknowledge')).toBe(false);
  });

  it('shows who acknowledged, when, and their note (read from the case alerts)', async () => {
    serve([]);
    await act(async () => {
      await loadMe();
    });
    const acked = {
      ...message,
      room: 6,
      data: { alert: { ...message.data.alert, status: 'acknowledged', acknowledged_by: 8, acknowledged_at: '2026-01-05T11:00:00Z' } },
    };
    await act(async () => root.render(<AlertCard message={acked} />));
    await act(async () => undefined);
    await act(async () => undefined);
    const card = host.querySelector('[data-testid="alert"]')!;
    expect(card.getAttribute('data-status')).toBe('acknowledged');
    expect(card.textContent).toContain('Acknowledged by Nadia Dubois');
    expect(card.textContent).toContain('Visit booked');
  });

  it('offers no button to those who may not acknowledge', async () => {
    serve([]);
    await act(async () => {
      await loadMe();
    });
    await act(async () => root.render(<AlertCard message={message} />));
    const card = host.querySelector('[data-testid="alert"]')!;
    expect(card.querySelector('button')).toBeNull();
  });
});
