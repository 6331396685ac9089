// @vitest-environment jsdom
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import NotificationsScreen from './NotificationsScreen';
import { getUnreadCount } from './unread';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

afterEach(() => vi.unstubAllGlobals());

describe('NotificationsScreen', () => {
  it('lists notifications with links to their target, marks one and all read', async () => {
    localStorage.setItem('care.lang', 'en');
    // Following a link navigates (the router scrolls to the top; jsdom has no scrolling).
    window.scrollTo = (() => undefined) as typeof window.scrollTo;
    document.cookie = 'csrftoken=abc';
    const calls: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        calls.push(`${init?.method ?? 'GET'} ${url}`);
        if (url.startsWith('/api/notifications?')) {
          return json({
            results: [
              { id: 5, kind: 'alert', title: 'New urgent alert', target: { case: 2, room: 3, alert: 1, message: 9 }, created_at: '2026-01-02T00:00:00Z', read_at: null },
              { id: 4, kind: 'mention', title: 'Ana · Room', target: { room: 3, message: 8 }, created_at: '2026-01-01T00:00:00Z', read_at: null },
              { id: 3, kind: 'assignment', title: 'Nadia Dubois · LAMBERT Odette', target: { case: 7, room: 4 }, created_at: '2025-12-31T00:00:00Z', read_at: null },
            ],
            unread_count: 3,
            next: null,
          });
        }
        if (url === '/api/notifications/5/read' || url === '/api/notifications/4/read') return json({});
        if (url === '/api/notifications/read-all') return json({ marked: 1, unread_count: 0 });
        if (url === '/api/notifications/preferences') return json({ push: { mention: true, alert: true, assignment: true, measurement: false } });
        return json({}, 404);
      }),
    );
    const host = document.createElement('div');
    document.body.appendChild(host);
    const root = createRoot(host);
    await act(async () => root.render(<NotificationsScreen />));
    await act(async () => undefined);
    const items = host.querySelectorAll('[data-testid="notification"]');
    expect(items).toHaveLength(3);
    expect(items[0].querySelector('a')!.getAttribute('href')).toBe('/cases/2#message-9');
    expect(items[1].querySelector('a')!.getAttribute('href')).toBe('/rooms/3#message-8');
    expect(host.textContent).toContain('3 unread');
    // A mention's title ("who · where") is told in words.
    expect(items[1].textContent).toContain('Ana mentioned you in Room');
    expect(items[2].textContent).toContain('Nadia Dubois added you to the care team of LAMBERT Odette');
    // Web push is not available in this environment: said in words.
    expect(host.textContent).toContain('cannot receive web push');
    expect(host.querySelectorAll('.nc-prefs input[type=checkbox]')).toHaveLength(4);

    const markOne = items[0].querySelector('button')!;
    await act(async () => markOne.click());
    expect(calls).toContain('POST /api/notifications/5/read');
    expect(items[0].getAttribute('data-read')).toBe('true');
    expect(getUnreadCount()).toBe(2);

    // Opening a notification's link marks it read.
    const link = items[1].querySelector('a')!;
    await act(async () => link.click());
    expect(calls).toContain('POST /api/notifications/4/read');
    expect(items[1].getAttribute('data-read')).toBe('true');
    expect(getUnreadCount()).toBe(1);

    const all = [...host.querySelectorAll('button')].find((b) => b.textContent === 'Mark all read')!;
    await act(async () => all.click());
    expect(calls).toContain('POST /api/notifications/read-all');
    expect(host.textContent).toContain('All read');
    expect(getUnreadCount()).toBe(0);
    act(() => root.unmount());
  });
});
