import { describe, expect, it } from 'vitest';
import { matchPath } from './router';
import { safeNext } from './features/auth/LoginScreen';
import { format } from './i18n';

describe('matchPath', () => {
  it('matches every client route', () => {
    expect(matchPath('/')).toEqual({ name: 'inbox', params: {} });
    expect(matchPath('/login')).toEqual({ name: 'login', params: {} });
    expect(matchPath('/rooms/12')).toEqual({ name: 'room', params: { roomId: '12' } });
    expect(matchPath('/cases/3')).toEqual({ name: 'case', params: { caseId: '3' } });
    expect(matchPath('/cases/3/capture')).toEqual({ name: 'capture', params: { caseId: '3' } });
    expect(matchPath('/measurements/9/review')).toEqual({ name: 'review', params: { measurementId: '9' } });
    expect(matchPath('/wound-sites/4/chart')).toEqual({ name: 'chart', params: { siteId: '4' } });
    expect(matchPath('/notifications')).toEqual({ name: 'notifications', params: {} });
    expect(matchPath('/settings')).toEqual({ name: 'settings', params: {} });
    expect(matchPath('/p/abc-DEF_1')).toEqual({ name: 'patient', params: { token: 'abc-DEF_1' } });
    expect(matchPath('/rooms/x').name).toBe('notFound');
  });
});

describe('safeNext', () => {
  it('only goes back to a path of this app', () => {
    expect(safeNext('/cases/3?x=1')).toBe('/cases/3?x=1');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext('/login?next=/')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });
});

describe('format', () => {
  it('fills placeholders and leaves unknown ones', () => {
    expect(format('{name} is typing…', { name: 'Ana' })).toBe('Ana is typing…');
    expect(format('{count} unread, {other}', { count: 2 })).toBe('2 unread, {other}');
  });
});
