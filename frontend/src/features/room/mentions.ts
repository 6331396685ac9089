/** @handle mentions: split a body into text and mention parts; find the mention being typed. */

export type Part = { text: string; handle?: string };

const MENTION = /(^|[^\w@])@([A-Za-z0-9_.-]*[A-Za-z0-9_])/g;

export function splitMentions(body: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of body.matchAll(MENTION)) {
    const start = (match.index ?? 0) + match[1].length;
    if (start > last) parts.push({ text: body.slice(last, start) });
    parts.push({ text: '@' + match[2], handle: match[2] });
    last = start + 1 + match[2].length;
  }
  if (last < body.length) parts.push({ text: body.slice(last) });
  return parts;
}

/** The mention being typed at the caret: `@ab|` gives {query: 'ab', start}; null otherwise. */
export function mentionAt(text: string, caret: number): { query: string; start: number } | null {
  const before = text.slice(0, caret);
  const match = /(^|[\s(])@([\w.-]{0,30})$/.exec(before);
  if (!match) return null;
  return { query: match[2], start: caret - match[2].length - 1 };
}

/** Replaces the mention being typed with `@handle `; returns the new text and caret. */
export function insertMention(text: string, start: number, caret: number, handle: string): { text: string; caret: number } {
  const inserted = `@${handle} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}
