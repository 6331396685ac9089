import { describe, expect, it } from 'vitest';
import { insertMention, mentionAt, splitMentions } from './mentions';

describe('mentions', () => {
  it('splits a body into text and mentions', () => {
    expect(splitMentions('Hi @ana.b, see @leo.')).toEqual([
      { text: 'Hi ' },
      { text: '@ana.b', handle: 'ana.b' },
      { text: ', see ' },
      { text: '@leo', handle: 'leo' },
      { text: '.' },
    ]);
  });

  it('ignores e-mail addresses', () => {
    expect(splitMentions('write to a@b.org')).toEqual([{ text: 'write to a@b.org' }]);
  });

  it('finds the mention being typed and replaces it', () => {
    expect(mentionAt('hello @an', 9)).toEqual({ query: 'an', start: 6 });
    expect(mentionAt('mail a@b', 8)).toBeNull();
    expect(insertMention('hello @an', 6, 9, 'ana')).toEqual({ text: 'hello @ana ', caret: 11 });
  });
});
