/**
 * The one WebSocket at /ws/: resume after the last seq seen, reconnect with backoff,
 * commands with replies, and the connection state for the indicator.
 */
import { ApiError } from './api';
import type { ServerEvent } from './store/types';

export type ConnectionState = 'online' | 'offline' | 'reconnecting';

/** Not kept by the server: typing in a room, or (no room) "your notifications changed". */
export type EphemeralNotice = { type: 'ephemeral'; room?: number; data: Record<string, unknown> };

type Frame =
  | ServerEvent
  | EphemeralNotice
  | { type: 'ready'; seq: number }
  | { type: 'ok'; id: string; data: unknown }
  | { type: 'error'; id?: string; code: string; message: string; details?: unknown };

export type SocketHandlers = {
  /** The seq to resume after (called at each connect). */
  lastSeq: () => number | null;
  onEvent: (event: ServerEvent) => void;
  onReady: (seq: number) => void;
  onEphemeral: (notice: EphemeralNotice) => void;
  onState: (state: ConnectionState) => void;
  /** Closed with 4401: the session ended. */
  onUnauthenticated: () => void;
  /** Closed with 4410: too far behind; reload the rooms, then reconnect. */
  onResyncRequired: () => void;
};

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
const COMMAND_TIMEOUT_MS = 15000;

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  return Math.round(base * (0.75 + random() * 0.5));
}

type Pending = { resolve: (data: unknown) => void; reject: (error: ApiError) => void; timer: ReturnType<typeof setTimeout> };

export class Socket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private pending = new Map<string, Pending>();
  private counter = 0;
  state: ConnectionState = 'offline';
  ready = false;

  constructor(private handlers: SocketHandlers) {}

  start(): void {
    this.stopped = false;
    this.attempt = 0;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
    this.failPending();
    this.setState('offline');
  }

  /** The browser says it is offline: close now and show it, then retry on the backoff. */
  drop(): void {
    if (this.stopped) return;
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    ws?.close(1000);
    this.failPending();
    this.attempt = Math.max(this.attempt, 3);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.schedule();
  }

  /** Reconnect now (back online, tab visible again) instead of waiting for the backoff. */
  nudge(): void {
    if (this.stopped) return;
    if (this.ws && (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    this.open();
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.handlers.onState(state);
  }

  private url(): string {
    const protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const after = this.handlers.lastSeq();
    return `${protocol}//${window.location.host}/ws/${after !== null ? `?after=${after}` : ''}`;
  }

  private open(): void {
    if (this.stopped) return;
    this.ready = false;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onmessage = (message) => {
      if (this.ws !== ws) return;
      let frame: Frame;
      try {
        frame = JSON.parse(String(message.data)) as Frame;
      } catch {
        return;
      }
      this.handle(frame);
    };
    ws.onclose = (close) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.ready = false;
      this.failPending();
      if (close.code === 4401) {
        this.stopped = true;
        this.setState('offline');
        this.handlers.onUnauthenticated();
        return;
      }
      if (close.code === 4410) {
        this.setState('reconnecting');
        this.handlers.onResyncRequired();
        return;
      }
      this.schedule();
    };
  }

  private schedule(): void {
    if (this.stopped) return;
    const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
    this.setState(offline || this.attempt >= 3 ? 'offline' : 'reconnecting');
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }

  private handle(frame: Frame): void {
    switch (frame.type) {
      case 'event':
        this.handlers.onEvent(frame);
        break;
      case 'ready':
        this.ready = true;
        this.attempt = 0;
        this.setState('online');
        this.handlers.onReady(frame.seq);
        break;
      case 'ephemeral':
        this.handlers.onEphemeral(frame);
        break;
      case 'ok': {
        const pending = this.pending.get(frame.id);
        if (pending) {
          clearTimeout(pending.timer);
          this.pending.delete(frame.id);
          pending.resolve(frame.data);
        }
        break;
      }
      case 'error': {
        const pending = frame.id ? this.pending.get(frame.id) : undefined;
        if (pending && frame.id) {
          clearTimeout(pending.timer);
          this.pending.delete(frame.id);
          pending.reject(new ApiError(400, frame.code, frame.message, frame.details));
        }
        break;
      }
    }
  }

  private failPending(): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new ApiError(0, 'network_error', 'The connection was lost.'));
      this.pending.delete(id);
    }
  }

  get isOpen(): boolean {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN && this.ready;
  }

  /** Sends a command; resolves with the answer's data (rejects with an ApiError). */
  command<T>(type: string, fields: Record<string, unknown> = {}): Promise<T> {
    if (!this.isOpen || !this.ws) {
      return Promise.reject(new ApiError(0, 'network_error', 'Not connected.'));
    }
    const id = `c${Date.now().toString(36)}${(this.counter += 1)}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ApiError(0, 'network_error', 'No answer from the server.'));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (data: unknown) => void, reject, timer });
      this.ws!.send(JSON.stringify({ ...fields, type, id }));
    });
  }

  /** A fire-and-forget command (typing): dropped when not connected. */
  notify(type: string, fields: Record<string, unknown> = {}): void {
    if (this.isOpen && this.ws) this.ws.send(JSON.stringify({ ...fields, type, id: `n${(this.counter += 1)}` }));
  }
}
