import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, Socket, type ConnectionState } from './ws';

class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static all: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  sent: string[] = [];
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: ((close: { code: number }) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close(code = 1000) {
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code });
  }
  serverSends(frame: unknown) {
    this.readyState = FakeSocket.OPEN;
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  serverCloses(code: number) {
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code });
  }
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
  vi.stubGlobal('WebSocket', FakeSocket);
  vi.stubGlobal('window', { location: { protocol: 'http:', host: 'app.test' } });
  vi.stubGlobal('navigator', { onLine: true });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function setup(lastSeq: { value: number | null }) {
  const seen: number[] = [];
  const states: ConnectionState[] = [];
  const handlers = {
    lastSeq: () => lastSeq.value,
    onEvent: vi.fn((event: { seq: number }) => {
      seen.push(event.seq);
      lastSeq.value = event.seq;
    }),
    onReady: vi.fn(),
    onEphemeral: vi.fn(),
    onState: (state: ConnectionState) => states.push(state),
    onUnauthenticated: vi.fn(),
    onResyncRequired: vi.fn(),
  };
  const socket = new Socket(handlers);
  return { socket, seen, states, handlers };
}

describe('Socket', () => {
  it('resumes after the last seq seen when it reconnects', () => {
    const last = { value: 10 as number | null };
    const { socket, seen, states } = setup(last);
    socket.start();
    expect(FakeSocket.all[0].url).toBe('ws://app.test/ws/?after=10');
    FakeSocket.all[0].serverSends({ type: 'event', seq: 11, room: 1, event: 'message.posted', at: '', data: {} });
    FakeSocket.all[0].serverSends({ type: 'ready', seq: 11 });
    expect(states).toContain('online');
    FakeSocket.all[0].serverCloses(1006);
    expect(states[states.length - 1]).toBe('reconnecting');
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.all[1].url).toBe('ws://app.test/ws/?after=11');
    expect(seen).toEqual([11]);
    socket.stop();
  });

  it('stops and reports a session that ended (4401)', () => {
    const { socket, handlers } = setup({ value: 3 });
    socket.start();
    FakeSocket.all[0].serverCloses(4401);
    vi.advanceTimersByTime(60000);
    expect(handlers.onUnauthenticated).toHaveBeenCalledOnce();
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('asks for a resync on 4410', () => {
    const { socket, handlers } = setup({ value: 3 });
    socket.start();
    FakeSocket.all[0].serverCloses(4410);
    expect(handlers.onResyncRequired).toHaveBeenCalledOnce();
    socket.stop();
  });

  it('answers commands by id and fails them when the connection drops', async () => {
    const { socket } = setup({ value: null });
    socket.start();
    const ws = FakeSocket.all[0];
    expect(ws.url).toBe('ws://app.test/ws/');
    ws.serverSends({ type: 'ready', seq: 5 });
    const ok = socket.command<{ seq: number }>('ping');
    const sent = JSON.parse(ws.sent[0]) as { id: string; type: string };
    expect(sent.type).toBe('ping');
    ws.serverSends({ type: 'ok', id: sent.id, data: { seq: 5 } });
    await expect(ok).resolves.toEqual({ seq: 5 });
    const lost = socket.command('read', { room: 1, seq: 5 });
    ws.serverCloses(1006);
    await expect(lost).rejects.toMatchObject({ code: 'network_error' });
    socket.stop();
  });

  it('backs off with growing, capped delays', () => {
    expect(backoffDelay(0, () => 0.5)).toBe(500);
    expect(backoffDelay(3, () => 0.5)).toBe(4000);
    expect(backoffDelay(50, () => 0.5)).toBe(30000);
  });
});
