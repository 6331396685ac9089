// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import PatientPage from './PatientPage';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const page = {
  case_title: 'Left heel',
  language: 'en',
  questionnaire: {
    id: 1,
    slug: 'wound-follow-up',
    version: 1,
    schema: {
      questions: [
        { id: 'pain', type: 'scale', min: 0, max: 10, required: true, label: { en: 'Pain?', fr: 'Douleur ?' } },
        { id: 'fever', type: 'yes_no', required: true, label: { en: 'Fever?', fr: 'Fièvre ?' } },
      ],
    },
  },
};

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

let root: Root;
let host: HTMLDivElement;

beforeEach(() => {
  localStorage.setItem('care.lang', 'en');
  document.cookie = 'csrftoken=abc';
  host = document.createElement('div');
  document.body.appendChild(host);
  root = createRoot(host);
});
afterEach(() => {
  act(() => root.unmount());
  host.remove();
  vi.unstubAllGlobals();
});

async function render() {
  await act(async () => root.render(<PatientPage token="tok" />));
  await act(async () => undefined);
}

function click(text: string) {
  const el = [...host.querySelectorAll('button, label')].find((b) => b.textContent?.trim() === text) as HTMLElement;
  if (!el) throw new Error('no ' + text);
  act(() => el.click());
}

describe('PatientPage', () => {
  it('shows a plain page for an invalid link', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json({ code: 'link_invalid', message: 'x' }, 401)));
    await render();
    expect(host.textContent).toContain('This link does not work any more');
    expect(host.querySelector('button.pt-button')).toBeNull();
  });

  it('says how long to wait when rate limited', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json({ code: 'rate_limited', message: 'x', details: { retry_after_seconds: 300 } }, 429)));
    await render();
    expect(host.textContent).toContain('Please wait 5 minutes');
  });

  it('asks for missing answers, then sends once with the same client UUID on a retry', async () => {
    const posted: { client_uuid: string; answers: unknown }[] = [];
    let failNext = true;
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url === '/api/p/tok' && (!init || !init.method || init.method === 'GET')) return json(page);
        if (url === '/api/p/tok/responses') {
          posted.push(JSON.parse(String(init?.body)));
          if (failNext) {
            failNext = false;
            throw new TypeError('Failed to fetch');
          }
          return json({ id: 1, submitted_at: '2026-01-01T00:00:00Z' }, 201);
        }
        return json({}, 404);
      }),
    );
    await render();
    expect(host.textContent).toContain('About: Left heel');
    click('Send to my care team');
    await act(async () => undefined);
    expect(host.textContent).toContain('Some questions have no answer yet');
    expect(posted).toHaveLength(0);
    click('7');
    click('No');
    click('Send to my care team');
    await act(async () => undefined);
    expect(host.textContent).toContain('could not reach');
    click('Send to my care team');
    await act(async () => undefined);
    expect(host.textContent).toContain('Thank you');
    expect(posted).toHaveLength(2);
    expect(posted[0].client_uuid).toBe(posted[1].client_uuid);
    expect(posted[1].answers).toEqual({ pain: 7, fever: false });
  });

  it('keeps the answers when sending is rate limited', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url === '/api/p/tok/responses' && init?.method === 'POST') {
          return json({ code: 'rate_limited', message: 'x', details: { retry_after_seconds: 120 } }, 429);
        }
        return json(page);
      }),
    );
    await render();
    click('3');
    click('Yes');
    click('Send to my care team');
    await act(async () => undefined);
    expect(host.textContent).toContain('Please wait 2 minutes');
    expect(host.querySelector('[data-testid="patient-form"]')).not.toBeNull();
    expect(host.textContent).toContain('Your answer: 3 out of 10');
  });

  it('switches language', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(page)));
    await render();
    click('Français');
    expect(host.textContent).toContain('Douleur ?');
    expect(host.textContent).toContain('Envoyer à mon équipe soignante');
    click('English');
  });

  it('sends several photos, each once under its own UUID, then the answers', async () => {
    URL.createObjectURL = vi.fn(() => 'blob:preview');
    URL.revokeObjectURL = vi.fn();
    const uploads: string[] = [];
    class FakeXhr {
      status = 201;
      statusText = 'Created';
      responseText = '{"id": 1}';
      upload: { onprogress?: (e: { lengthComputable: boolean; loaded: number; total: number }) => void } = {};
      onload?: () => void;
      onerror?: () => void;
      withCredentials = false;
      open() {}
      setRequestHeader() {}
      send(form: FormData) {
        uploads.push(String(form.get('client_uuid')));
        setTimeout(() => {
          this.upload.onprogress?.({ lengthComputable: true, loaded: 1, total: 2 });
          this.onload?.();
        }, 0);
      }
    }
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const answers: unknown[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url === '/api/p/tok/responses') {
          answers.push(JSON.parse(String(init?.body)).answers);
          return json({ id: 1, submitted_at: '2026-01-01T00:00:00Z' }, 201);
        }
        return json(page);
      }),
    );
    await render();
    const choose = () => host.querySelector('input[type=file][multiple]') as HTMLInputElement;
    const pick = (count: number) => {
      const files = Array.from({ length: count }, (_, i) => new File(['x'], `wound-${i}.jpg`, { type: 'image/jpeg' }));
      Object.defineProperty(choose(), 'files', { value: files, configurable: true });
      act(() => choose().dispatchEvent(new Event('change', { bubbles: true })));
    };

    pick(2);
    expect(host.textContent).toContain('2 photos ready to send');
    expect(host.querySelectorAll('.pt-preview img')).toHaveLength(2);
    pick(3); // one too many: four are kept, and the page says why
    expect(host.querySelectorAll('.pt-preview img')).toHaveLength(4);
    expect(host.textContent).toContain('That is 4 photos, the most one update can carry');
    expect(choose()).toBeNull();
    act(() => (host.querySelector('[aria-label="Remove photo 4"]') as HTMLButtonElement).click());
    expect(host.textContent).toContain('3 photos ready to send');

    click('5');
    click('No');
    click('Send to my care team');
    await act(async () => {
      await new Promise((r) => setTimeout(r, 20));
    });

    expect(host.textContent).toContain('Your care team has received your answers and your 3 photos');
    expect(uploads).toHaveLength(3);
    expect(new Set(uploads).size).toBe(3);
    expect(answers).toEqual([{ pain: 5, fever: false }]);
  });
});
