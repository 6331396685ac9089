/** What a notification says, in words: the server's title of a mention or an assignment is
 * "<who> · <room>" (rooms/actions.py, cases/actions/cases.py); it is told as a sentence in the
 * reader's language. Other titles (alerts, measurements) are shown as they are. */

export type Described =
  | { key: 'assignmentText' | 'mentionText'; vars: { actor: string; room: string } }
  | { key: 'mentionTextDirect'; vars: { actor: string } }
  | null;

const SEPARATOR = ' · ';

export function describeNotification(kind: string, title: string): Described {
  if (kind !== 'assignment' && kind !== 'mention') return null;
  const at = title.indexOf(SEPARATOR);
  const actor = (at < 0 ? title : title.slice(0, at)).trim();
  const room = at < 0 ? '' : title.slice(at + SEPARATOR.length).trim();
  if (!actor) return null;
  if (kind === 'assignment') return room ? { key: 'assignmentText', vars: { actor, room } } : null;
  return room ? { key: 'mentionText', vars: { actor, room } } : { key: 'mentionTextDirect', vars: { actor } };
}
