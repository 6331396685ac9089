/** The server's shapes (rooms/serializers.py, accounts/serializers.py), as the client sees them. */

export type UserSummary = { id: number; full_name: string; handle: string };

export type MessageKind = 'text' | 'photo' | 'measurement' | 'alert' | 'form_response' | 'system';

export type ReplyPreview = { id: number; author: UserSummary | null; body: string; is_deleted: boolean };

export type Message = {
  id: number;
  room: number;
  seq: number;
  kind: MessageKind;
  author: UserSummary | null;
  body: string;
  data: Record<string, unknown>;
  client_uuid: string | null;
  reply_to: ReplyPreview | null;
  mentions: number[];
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  is_deleted: boolean;
};

export type RoomKind = 'group' | 'direct' | 'case';

export type Room = {
  id: number;
  kind: RoomKind;
  name: string;
  topic: string;
  organisation: number | null;
  is_archived: boolean;
  member_count: number;
  teams: { id: number; name: string; organisation: string }[];
  last_event_seq: number;
  last_message: Message | null;
  unread_count: number;
  mention_count: number;
  last_read_seq: number;
  /** The case of a case room, when the server says it. */
  case?: number | null;
  [extra: string]: unknown;
};

export type TeamMembership = {
  team: number;
  team_name: string;
  organisation: number;
  organisation_name: string;
  role: string;
};

export type Me = UserSummary & {
  email: string;
  teams: TeamMembership[];
  language: string;
  permissions: string[];
};

export type User = UserSummary & { email?: string; teams?: TeamMembership[] };

export type ServerEvent = {
  type: 'event';
  seq: number;
  room: number;
  event: string;
  at: string;
  data: Record<string, unknown>;
};

export type MessagesPage = {
  results: Message[];
  has_more_before: boolean;
  has_more_after: boolean;
};

export type EventsPage = { events: ServerEvent[]; last_seq: number; has_more: boolean };
