import { describe, expect, it } from 'vitest';
import { applyEvent, applyEvents, applyPage, initialState, setRooms, sortRooms, type State } from './reducer';
import type { Message, Room, ServerEvent } from './types';

const ME = 1;

function message(id: number, seq: number, extra: Partial<Message> = {}): Message {
  return {
    id,
    room: 7,
    seq,
    kind: 'text',
    author: { id: 2, full_name: 'Ana', handle: 'ana' },
    body: `m${id}`,
    data: {},
    client_uuid: null,
    reply_to: null,
    mentions: [],
    created_at: '2026-01-05T09:30:00+00:00',
    edited_at: null,
    deleted_at: null,
    is_deleted: false,
    ...extra,
  };
}

function room(id: number, extra: Partial<Room> = {}): Room {
  return {
    id,
    kind: 'group',
    name: `Room ${id}`,
    topic: '',
    organisation: 1,
    is_archived: false,
    member_count: 2,
    teams: [],
    last_event_seq: 0,
    last_message: null,
    unread_count: 0,
    mention_count: 0,
    last_read_seq: 0,
    ...extra,
  };
}

function posted(seq: number, m: Message): ServerEvent {
  return { type: 'event', seq, room: m.room, event: 'message.posted', at: m.created_at, data: { message: m } };
}

function base(): State {
  let state = setRooms(initialState(ME), [room(7)], 10);
  state = applyPage(state, 7, { results: [message(1, 5)], has_more_before: true, has_more_after: false }, false);
  return state;
}

describe('applyEvent', () => {
  it('applies events in order and counts unread', () => {
    const state = applyEvents(base(), [posted(12, message(3, 12)), posted(11, message(2, 11))]);
    expect(state.timelines[7].messages.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(state.lastSeq).toBe(12);
    expect(state.rooms[7].unread_count).toBe(2);
    expect(state.rooms[7].last_message?.id).toBe(3);
  });

  it('applies a repeated event only once', () => {
    const event = posted(11, message(2, 11, { mentions: [ME] }));
    let state = applyEvent(base(), event);
    state = applyEvent(state, event);
    state = applyEvents(state, [event, event]);
    expect(state.timelines[7].messages.map((m) => m.id)).toEqual([1, 2]);
    expect(state.rooms[7].unread_count).toBe(1);
    expect(state.rooms[7].mention_count).toBe(1);
  });

  it('skips events at or below the seq the rooms are as of', () => {
    const state = applyEvent(base(), posted(9, message(2, 9)));
    expect(state.timelines[7].messages).toHaveLength(1);
    expect(state.rooms[7].unread_count).toBe(0);
  });

  it('does not count my own messages as unread', () => {
    const state = applyEvent(base(), posted(11, message(2, 11, { author: { id: ME, full_name: 'Me', handle: 'me' } })));
    expect(state.rooms[7].unread_count).toBe(0);
  });

  it('updates a message in place (a photo gets its measurement)', () => {
    let state = applyEvent(base(), posted(11, message(2, 11, { kind: 'photo', data: { analysis: 'analysing' } })));
    const updated = message(2, 11, { kind: 'photo', data: { analysis: 'measured', area_mm2: 120 } });
    state = applyEvent(state, { type: 'event', seq: 14, room: 7, event: 'message.updated', at: '', data: { message: updated } });
    const messages = state.timelines[7].messages;
    expect(messages.map((m) => m.id)).toEqual([1, 2]);
    expect(messages[1].data).toEqual({ analysis: 'measured', area_mm2: 120 });
    expect(messages[1].seq).toBe(11);
    expect(state.rooms[7].last_message?.data).toEqual({ analysis: 'measured', area_mm2: 120 });
  });

  it('keeps a deleted message as a tombstone', () => {
    let state = applyEvent(base(), posted(11, message(2, 11)));
    const gone = message(2, 11, { body: '', is_deleted: true, deleted_at: '2026-01-05T10:00:00+00:00' });
    state = applyEvent(state, { type: 'event', seq: 12, room: 7, event: 'message.deleted', at: '', data: { message: gone } });
    expect(state.timelines[7].messages[1].is_deleted).toBe(true);
    expect(state.rooms[7].unread_count).toBe(0);
  });

  it('takes read markers from read.updated', () => {
    let state = applyEvent(base(), posted(11, message(2, 11)));
    state = applyEvent(state, {
      type: 'event',
      seq: 13,
      room: 7,
      event: 'read.updated',
      at: '',
      data: { last_read_seq: 11, unread_count: 0, mention_count: 0 },
    });
    expect(state.rooms[7].unread_count).toBe(0);
    expect(state.rooms[7].last_read_seq).toBe(11);
  });

  it('notes rooms it does not know yet', () => {
    const state = applyEvent(base(), posted(11, message(5, 11, { room: 9 })));
    expect(state.missingRooms).toEqual([9]);
  });

  it('forgets a room I left', () => {
    const state = applyEvent(base(), {
      type: 'event',
      seq: 11,
      room: 7,
      event: 'member.left',
      at: '',
      data: { user: { id: ME, full_name: 'Me', handle: 'me' } },
    });
    expect(state.rooms[7]).toBeUndefined();
  });
});

describe('resume', () => {
  it('applies only what is after the last seq seen when the server replays', () => {
    let state = applyEvents(base(), [posted(11, message(2, 11)), posted(12, message(3, 12))]);
    // A resume from seq 11 answered with 12, 13: 12 is a duplicate, 13 is new.
    state = applyEvents(state, [posted(12, message(3, 12)), posted(13, message(4, 13))]);
    expect(state.timelines[7].messages.map((m) => m.id)).toEqual([1, 2, 3, 4]);
    expect(state.rooms[7].unread_count).toBe(3);
  });

  it('fills a gap from a catch-up page without repeating', () => {
    let state = applyEvent(base(), posted(11, message(2, 11)));
    // Messages fetched over HTTP (the gap) before their events arrive.
    state = applyPage(state, 7, { results: [message(3, 12), message(4, 13)], has_more_before: false, has_more_after: false }, false);
    state = applyEvents(state, [posted(12, message(3, 12)), posted(13, message(4, 13))]);
    expect(state.timelines[7].messages.map((m) => m.id)).toEqual([1, 2, 3, 4]);
    expect(state.lastSeq).toBe(13);
  });

  it('pages back with older messages', () => {
    const state = applyPage(base(), 7, { results: [message(0, 2)], has_more_before: false, has_more_after: true }, true);
    expect(state.timelines[7].messages.map((m) => m.id)).toEqual([0, 1]);
    expect(state.timelines[7].hasMoreBefore).toBe(false);
  });
});

describe('sortRooms', () => {
  it('puts open alerts first, then unread, then latest activity', () => {
    const rooms = [
      room(1, { last_event_seq: 50 }),
      room(2, { unread_count: 1, last_event_seq: 10 }),
      room(3, { last_event_seq: 5 }),
      room(4, { last_event_seq: 60 }),
    ];
    const sorted = sortRooms(rooms, (r) => (r.id === 3 ? 1 : 0));
    expect(sorted.map((r) => r.id)).toEqual([3, 2, 4, 1]);
  });
});
