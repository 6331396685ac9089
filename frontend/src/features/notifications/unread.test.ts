// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { handleEphemeral } from '../../store';
import { getUnreadCount, refreshUnread, setUnreadCount } from './unread';

function json(body: unknown) {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
}

const NOTICE = { type: 'ephemeral' as const, data: { kind: 'notifications' } };

afterEach(() => {
  vi.unstubAllGlobals();
  setUnreadCount(0);
});

/** A server whose unread count the test sets; each answer waits until released. */
function server() {
  const state = { unread: 0, requests: 0, release: [] as (() => void)[] };
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      expect(url).toBe('/api/notifications?unread=1&limit=1');
      state.requests += 1;
      const count = () => state.unread;
      await new Promise<void>((resolve) => state.release.push(resolve));
      return json({ results: [], unread_count: count(), next: null });
    }),
  );
  return state;
}

async function releaseAll(state: { release: (() => void)[] }) {
  for (let i = 0; i < 5 && state.release.length; i += 1) {
    state.release.splice(0).forEach((go) => go());
    await new Promise((r) => setTimeout(r, 0));
  }
}

describe('the unread count', () => {
  it('is read again when the socket says the notifications changed', async () => {
    const state = server();
    const { onNotificationsChanged } = await import('../../store');
    const off = onNotificationsChanged(() => void refreshUnread());
    state.unread = 4;
    handleEphemeral(NOTICE);
    await releaseAll(state);
    expect(state.requests).toBe(1);
    expect(getUnreadCount()).toBe(4);
    off();
  });

  it('is asked once more when a notice arrives while a request is under way', async () => {
    const state = server();
    state.unread = 1;
    const first = refreshUnread();
    state.unread = 2; // the answer under way may predate this change
    void refreshUnread();
    void refreshUnread(); // several notices meanwhile: one more request, not several
    await releaseAll(state);
    await first;
    expect(state.requests).toBe(2);
    expect(getUnreadCount()).toBe(2);
  });

  it('ignores typing notices', async () => {
    const state = server();
    const { onNotificationsChanged } = await import('../../store');
    const off = onNotificationsChanged(() => void refreshUnread());
    handleEphemeral({ type: 'ephemeral', room: 3, data: { kind: 'typing', user: { id: 1, full_name: 'A' }, active: true } });
    await releaseAll(state);
    expect(state.requests).toBe(0);
    off();
  });
});
