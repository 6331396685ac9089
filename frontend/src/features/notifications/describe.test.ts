import { describe, expect, it } from 'vitest';
import { describeNotification } from './describe';

describe('describeNotification', () => {
  it('tells an assignment as who added me to which care team', () => {
    expect(describeNotification('assignment', 'Nadia Dubois · LAMBERT Odette: Left venous leg ulcer')).toEqual({
      key: 'assignmentText',
      vars: { actor: 'Nadia Dubois', room: 'LAMBERT Odette: Left venous leg ulcer' },
    });
  });
  it('keeps a room name that holds the separator whole', () => {
    expect(describeNotification('assignment', 'Ana · A · B')?.vars).toEqual({ actor: 'Ana', room: 'A · B' });
  });
  it('tells a mention with its room, or without one (a direct conversation)', () => {
    expect(describeNotification('mention', 'Ana · Ward 3')).toEqual({ key: 'mentionText', vars: { actor: 'Ana', room: 'Ward 3' } });
    expect(describeNotification('mention', 'Ana')).toEqual({ key: 'mentionTextDirect', vars: { actor: 'Ana' } });
  });
  it('leaves other titles as they are', () => {
    expect(describeNotification('alert', 'New urgent alert')).toBeNull();
    expect(describeNotification('measurement', 'A measurement awaits your review')).toBeNull();
    expect(describeNotification('assignment', 'Something else')).toBeNull();
  });
});
