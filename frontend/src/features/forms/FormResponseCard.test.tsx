// @vitest-environment jsdom
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import FormResponseCard from './FormResponseCard';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const template = {
  id: 1,
  slug: 'wound-follow-up',
  version: 1,
  schema: {
    title: { en: 'Wound follow-up', fr: 'Suivi de la plaie', es: 'Seguimiento de la herida' },
    questions: [
      { id: 'pain', type: 'scale', min: 0, max: 10, required: true, label: { en: 'Pain today?' } },
      { id: 'fever', type: 'yes_no', required: true, label: { en: 'Fever?' } },
      {
        id: 'discharge',
        type: 'choice',
        required: true,
        label: { en: 'Fluid?' },
        choices: [
          { value: 'none', label: { en: 'None' } },
          { value: 'pus', label: { en: 'Pus' } },
        ],
      },
    ],
  },
};

afterEach(() => vi.unstubAllGlobals());

describe('FormResponseCard', () => {
  it('shows the answers in words and highlights the worrying ones', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify([template]), { status: 200 })),
    );
    const host = document.createElement('div');
    const root = createRoot(host);
    const message = {
      id: 9,
      created_at: '2026-01-01T00:00:00Z',
      author: null,
      data: {
        form_response: { id: 2, template: 'wound-follow-up', version: 1, answers: { pain: 6, fever: false, discharge: 'pus' }, flags: ['pus', 'pain_increase'] },
        from_patient: true,
      },
    };
    await act(async () => root.render(<FormResponseCard message={message} />));
    await act(async () => undefined);
    const rows = [...host.querySelectorAll('.form-card__row')];
    expect(rows.map((r) => r.querySelector('dt')!.textContent)).toEqual(['Pain today?', 'Fever?', 'Fluid?']);
    const worrying = rows.filter((r) => r.classList.contains('form-card__row--worrying')).map((r) => r.querySelector('dt')!.textContent);
    expect(worrying).toEqual(['Pain today?', 'Fluid?']);
    expect(host.textContent).toContain('Sent by the patient');
    expect(host.textContent).toContain('2 worrying answers');
    expect(host.textContent).toContain('6 / 10');
    act(() => root.unmount());
  });
});
