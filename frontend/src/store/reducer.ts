/**
 * The client's copy of the rooms and their timelines, and how each server event changes it.
 * Pure functions: every event is applied once (by seq), a message is kept once (by id),
 * message.updated/edited/deleted replace a message in place.
 */
import type { Message, MessagesPage, Room, ServerEvent } from './types';

export type Timeline = {
  /** Sorted by seq, one entry per message id. */
  messages: Message[];
  hasMoreBefore: boolean;
  loaded: boolean;
};

export type State = {
  meId: number | null;
  /** The highest event seq applied (or the seq the rooms list is as of). */
  lastSeq: number;
  rooms: Record<number, Room>;
  roomsLoaded: boolean;
  timelines: Record<number, Timeline>;
  /** Rooms named by an event that the client does not know yet (to fetch). */
  missingRooms: number[];
};

export function initialState(meId: number | null = null): State {
  return { meId, lastSeq: 0, rooms: {}, roomsLoaded: false, timelines: {}, missingRooms: [] };
}

export function sortBySeq(messages: Message[]): Message[] {
  return [...messages].sort((a, b) => a.seq - b.seq);
}

/** Adds or replaces messages (by id), keeping the list sorted by seq. */
export function mergeMessages(existing: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return existing;
  const byId = new Map<number, Message>();
  for (const m of existing) byId.set(m.id, m);
  for (const m of incoming) byId.set(m.id, m);
  return sortBySeq([...byId.values()]);
}

function replaceMessage(messages: Message[], message: Message): Message[] {
  const index = messages.findIndex((m) => m.id === message.id);
  if (index < 0) return messages;
  const next = messages.slice();
  next[index] = message;
  return next;
}

export function setRooms(state: State, rooms: Room[], seq: number): State {
  const byId: Record<number, Room> = {};
  for (const room of rooms) byId[room.id] = room;
  return {
    ...state,
    rooms: byId,
    roomsLoaded: true,
    lastSeq: Math.max(seq, 0),
    missingRooms: state.missingRooms.filter((id) => !(id in byId)),
  };
}

export function upsertRoom(state: State, room: Room): State {
  return {
    ...state,
    rooms: { ...state.rooms, [room.id]: { ...state.rooms[room.id], ...room } },
    missingRooms: state.missingRooms.filter((id) => id !== room.id),
  };
}

/** A page from GET rooms/{id}/messages: merged into the room's timeline. */
export function applyPage(state: State, roomId: number, page: MessagesPage, older: boolean): State {
  const current = state.timelines[roomId];
  const messages = mergeMessages(current?.messages ?? [], page.results);
  const hasMoreBefore = older || !current?.loaded ? page.has_more_before : current.hasMoreBefore;
  return {
    ...state,
    timelines: { ...state.timelines, [roomId]: { messages, hasMoreBefore, loaded: true } },
  };
}

function withTimeline(state: State, roomId: number, change: (messages: Message[]) => Message[]): State {
  const timeline = state.timelines[roomId];
  if (!timeline) return state;
  const messages = change(timeline.messages);
  if (messages === timeline.messages) return state;
  return { ...state, timelines: { ...state.timelines, [roomId]: { ...timeline, messages } } };
}

function withRoom(state: State, roomId: number, change: (room: Room) => Room): State {
  const room = state.rooms[roomId];
  if (!room) {
    if (!state.roomsLoaded || state.missingRooms.includes(roomId)) return state;
    return { ...state, missingRooms: [...state.missingRooms, roomId] };
  }
  return { ...state, rooms: { ...state.rooms, [roomId]: change(room) } };
}

function messageOf(event: ServerEvent): Message | null {
  const message = event.data.message;
  return message && typeof message === 'object' ? (message as Message) : null;
}

/** Applies one event, once: an event at or below lastSeq was already applied and is ignored. */
export function applyEvent(state: State, event: ServerEvent): State {
  if (event.seq <= state.lastSeq) return state;
  let next: State = { ...state, lastSeq: event.seq };
  const roomId = event.room;
  switch (event.event) {
    case 'message.posted': {
      const message = messageOf(event);
      if (!message) break;
      const known = next.timelines[roomId]?.messages.some((m) => m.id === message.id) ?? false;
      next = withTimeline(next, roomId, (messages) => mergeMessages(messages, [message]));
      const mine = message.author?.id === next.meId;
      next = withRoom(next, roomId, (room) => ({
        ...room,
        last_message: message,
        last_event_seq: Math.max(room.last_event_seq, event.seq),
        unread_count:
          !mine && !known && message.seq > room.last_read_seq && message.kind !== 'system'
            ? room.unread_count + 1
            : room.unread_count,
        mention_count:
          !mine && !known && message.seq > room.last_read_seq && next.meId !== null && message.mentions.includes(next.meId)
            ? room.mention_count + 1
            : room.mention_count,
      }));
      break;
    }
    case 'message.edited':
    case 'message.deleted':
    case 'message.updated': {
      const message = messageOf(event);
      if (!message) break;
      next = withTimeline(next, roomId, (messages) => replaceMessage(messages, message));
      next = withRoom(next, roomId, (room) => ({
        ...room,
        last_event_seq: Math.max(room.last_event_seq, event.seq),
        last_message: room.last_message?.id === message.id ? message : room.last_message,
        unread_count:
          event.event === 'message.deleted' && message.seq > room.last_read_seq && message.author?.id !== next.meId
            ? Math.max(0, room.unread_count - 1)
            : room.unread_count,
      }));
      break;
    }
    case 'read.updated': {
      const data = event.data as { last_read_seq?: number; unread_count?: number; mention_count?: number };
      next = withRoom(next, roomId, (room) => ({
        ...room,
        last_read_seq: data.last_read_seq ?? room.last_read_seq,
        unread_count: data.unread_count ?? room.unread_count,
        mention_count: data.mention_count ?? room.mention_count,
      }));
      break;
    }
    case 'member.left': {
      const user = event.data.user as { id?: number } | undefined;
      if (user?.id !== undefined && user.id === next.meId) {
        const rooms = { ...next.rooms };
        delete rooms[roomId];
        const timelines = { ...next.timelines };
        delete timelines[roomId];
        next = { ...next, rooms, timelines };
      } else {
        next = withRoom(next, roomId, (room) => ({ ...room, member_count: Math.max(0, room.member_count - 1) }));
      }
      break;
    }
    case 'member.joined': {
      next = withRoom(next, roomId, (room) => ({ ...room, member_count: room.member_count + 1 }));
      break;
    }
    default: {
      // room.created, room.team_added/removed, case.updated, wound_site.*: keep the room fresh.
      next = withRoom(next, roomId, (room) => ({ ...room, last_event_seq: Math.max(room.last_event_seq, event.seq) }));
    }
  }
  return next;
}

/** Applies a batch (a resume, a catch-up page) in seq order; duplicates and old ones are skipped. */
export function applyEvents(state: State, events: ServerEvent[]): State {
  return [...events].sort((a, b) => a.seq - b.seq).reduce(applyEvent, state);
}

/** The inbox order: open alerts first, then unread, then latest activity. */
export function sortRooms(rooms: Room[], openAlerts: (room: Room) => number = () => 0): Room[] {
  const activity = (room: Room) => Math.max(room.last_message?.seq ?? 0, room.last_event_seq ?? 0);
  return [...rooms].sort((a, b) => {
    const alerts = Number(openAlerts(b) > 0) - Number(openAlerts(a) > 0);
    if (alerts) return alerts;
    const unread = Number(b.unread_count > 0) - Number(a.unread_count > 0);
    if (unread) return unread;
    return activity(b) - activity(a) || b.id - a.id;
  });
}
