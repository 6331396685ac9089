// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getLang, setLang } from '../../i18n';
import { LANG_CHOSEN_KEY, loadMe, saveLanguage } from './session';

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const me = (language: string) => ({
  id: 1,
  email: 'nina@example.org',
  full_name: 'Nina Nurse',
  handle: 'nina',
  language,
  teams: [],
  permissions: [],
});

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe('the language', () => {
  it('is saved to the profile, so the next start on any device follows it', async () => {
    document.cookie = 'csrftoken=abc';
    let profile = 'en';
    const calls: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        calls.push(`${init?.method ?? 'GET'} ${url}`);
        if (url === '/api/me' && init?.method === 'PATCH') {
          profile = JSON.parse(String(init.body)).language;
        }
        return url === '/api/me' ? json(me(profile)) : json({}, 404);
      }),
    );
    localStorage.setItem(LANG_CHOSEN_KEY, '1');
    setLang('es');
    await saveLanguage('es');
    expect(calls).toContain('PATCH /api/me');
    expect(localStorage.getItem(LANG_CHOSEN_KEY)).toBeNull();

    setLang('en'); // another device, in English until it loads the profile
    await loadMe();
    expect(getLang()).toBe('es');
  });

  it('picked offline, it stays on this device and is not saved', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        throw new TypeError('Failed to fetch');
      }),
    );
    localStorage.setItem(LANG_CHOSEN_KEY, '1');
    setLang('fr');
    await expect(saveLanguage('fr')).rejects.toMatchObject({ code: 'network_error' });
    expect(localStorage.getItem(LANG_CHOSEN_KEY)).toBe('1');
    expect(getLang()).toBe('fr');
  });
});
