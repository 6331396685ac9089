/** The questionnaire templates (`GET /api/forms`), fetched once and shared. */
import { useEffect, useState } from 'react';
import { api } from '../../api';
import type { FormTemplate } from './schema';

let cached: Promise<FormTemplate[]> | null = null;

export function loadTemplates(): Promise<FormTemplate[]> {
  if (!cached) {
    cached = api<FormTemplate[]>('GET', 'forms').catch((error: unknown) => {
      cached = null;
      throw error;
    });
  }
  return cached;
}

/** The template a response answered (slug and version), when the server still lists it. */
export function useTemplate(slug: string | undefined, version: number | undefined): FormTemplate | null {
  const [template, setTemplate] = useState<FormTemplate | null>(null);
  useEffect(() => {
    if (!slug) return;
    let live = true;
    loadTemplates().then(
      (all) => {
        const same = all.filter((x) => x.slug === slug);
        if (live) setTemplate(same.find((x) => x.version === version) ?? same[0] ?? null);
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [slug, version]);
  return template;
}
