import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import type { Message } from '../store/types';
import { allItems, deleteItem } from './db';
import { addMessage, configureOutbox, flush, getOutbox, retryItem, type OutboxItem, type Transport } from './index';

function fakeMessage(item: OutboxItem, id: number): Message {
  return {
    id,
    room: item.roomId ?? 1,
    seq: id,
    kind: 'text',
    author: null,
    body: item.text ?? '',
    data: {},
    client_uuid: item.clientUuid,
    reply_to: null,
    mentions: [],
    created_at: item.createdAt,
    edited_at: null,
    deleted_at: null,
    is_deleted: false,
  };
}

type Behaviour = (item: OutboxItem, attempt: number) => 'ok' | 'network' | 'refuse';

function recordingTransport(behaviour: Behaviour = () => 'ok') {
  const calls: string[] = [];
  const delivered = new Map<string, Message>();
  let id = 0;
  const transport: Transport = {
    sendMessage: async (item) => {
      calls.push(item.clientUuid);
      await new Promise((resolve) => setTimeout(resolve, 1));
      const outcome = behaviour(item, calls.filter((c) => c === item.clientUuid).length);
      if (outcome === 'network') throw new ApiError(0, 'network_error', 'offline');
      if (outcome === 'refuse') throw new ApiError(400, 'message_too_long', 'too long');
      // The server is idempotent on the client UUID.
      const existing = delivered.get(item.clientUuid);
      if (existing) return existing;
      const message = fakeMessage(item, (id += 1));
      delivered.set(item.clientUuid, message);
      return message;
    },
    sendPhoto: async () => {
      throw new ApiError(0, 'network_error', 'no photos here');
    },
  };
  return { transport, calls, delivered };
}

beforeEach(async () => {
  for (const item of await allItems()) await deleteItem(item.clientUuid);
});

describe('outbox', () => {
  it('sends queued messages in order, each once', async () => {
    const { transport, calls } = recordingTransport();
    const sent: string[] = [];
    configureOutbox({ transport, onSent: (m) => sent.push(m.body) });
    Object.defineProperty(globalThis, 'navigator', { value: { onLine: false }, configurable: true });
    await addMessage({ roomId: 1, clientUuid: 'a', text: 'first' });
    await addMessage({ roomId: 1, clientUuid: 'b', text: 'second' });
    await addMessage({ roomId: 1, clientUuid: 'c', text: 'third' });
    expect(getOutbox().items.map((i) => i.state)).toEqual(['queued', 'queued', 'queued']);
    expect(calls).toEqual([]);

    Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true });
    await Promise.all([flush(), flush(), flush()]);
    expect(calls).toEqual(['a', 'b', 'c']);
    expect(sent).toEqual(['first', 'second', 'third']);
    expect(await allItems()).toEqual([]);
    expect(getOutbox().items).toEqual([]);
  });

  it('adding the same client UUID twice queues it once', async () => {
    const { transport, calls } = recordingTransport();
    configureOutbox({ transport });
    Object.defineProperty(globalThis, 'navigator', { value: { onLine: false }, configurable: true });
    await addMessage({ roomId: 1, clientUuid: 'x', text: 'hello' });
    await addMessage({ roomId: 1, clientUuid: 'x', text: 'hello' });
    expect(await allItems()).toHaveLength(1);
    Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true });
    await flush();
    expect(calls).toEqual(['x']);
  });

  it('keeps the order and the client UUID when a send fails on the network', async () => {
    const { transport, calls, delivered } = recordingTransport((item, attempt) => (item.clientUuid === 'a' && attempt === 1 ? 'network' : 'ok'));
    configureOutbox({ transport });
    Object.defineProperty(globalThis, 'navigator', { value: { onLine: false }, configurable: true });
    await addMessage({ roomId: 1, clientUuid: 'a', text: 'one' });
    await addMessage({ roomId: 1, clientUuid: 'b', text: 'two' });
    Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true });
    await flush();
    // Stopped at the first: nothing is sent out of order.
    expect(calls).toEqual(['a']);
    const items = await allItems();
    expect(items.map((i) => [i.clientUuid, i.state])).toEqual([
      ['a', 'queued'],
      ['b', 'queued'],
    ]);
    await flush();
    expect(calls).toEqual(['a', 'a', 'b']);
    expect([...delivered.keys()]).toEqual(['a', 'b']);
    expect(await allItems()).toEqual([]);
  });

  it('marks a refused message failed and goes on with the next; retry sends it again', async () => {
    let refuse = true;
    const { transport, calls } = recordingTransport((item) => (item.clientUuid === 'a' && refuse ? 'refuse' : 'ok'));
    configureOutbox({ transport });
    Object.defineProperty(globalThis, 'navigator', { value: { onLine: false }, configurable: true });
    await addMessage({ roomId: 1, clientUuid: 'a', text: 'bad' });
    await addMessage({ roomId: 1, clientUuid: 'b', text: 'good' });
    Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true });
    await flush();
    expect(calls).toEqual(['a', 'b']);
    const items = await allItems();
    expect(items.map((i) => [i.clientUuid, i.state, i.error])).toEqual([['a', 'failed', 'message_too_long']]);
    refuse = false;
    await retryItem('a');
    await flush();
    expect(await allItems()).toEqual([]);
  });
});

describe('outbox ownership', () => {
  it('sends only the signed-in person’s items and forgets everything at sign-out', async () => {
    const { transport, calls } = recordingTransport();
    Object.defineProperty(globalThis, 'navigator', { value: { onLine: false }, configurable: true });
    const { startOutbox, clearOutbox } = await import('./index');
    await startOutbox(undefined, 41);
    configureOutbox({ transport });
    await addMessage({ roomId: 1, clientUuid: 'mine', text: 'from 41' });
    await startOutbox(undefined, 42);
    expect(getOutbox().items).toEqual([]);
    Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true });
    await flush();
    expect(calls).toEqual([]);
    expect((await allItems()).map((i) => i.clientUuid)).toEqual(['mine']);
    await clearOutbox();
    expect(await allItems()).toEqual([]);
    await startOutbox(undefined, null);
  });
});
