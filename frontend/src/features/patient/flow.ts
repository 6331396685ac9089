/**
 * The patient's submission: an optional photo, then the answers, each with a client UUID kept
 * until the server confirmed it, so that a retry after an unknown outcome is stored once.
 * Pure of React; the API functions are passed in.
 */

export interface ApiErrorLike {
  status?: number;
  code?: string;
  message?: string;
  details?: unknown;
}

export type Failure =
  | { kind: 'invalid' }
  | { kind: 'rate'; minutes: number }
  | { kind: 'network' }
  | { kind: 'answers'; questions: Record<string, string[]> }
  | { kind: 'photo_too_large' }
  | { kind: 'photo_invalid' }
  | { kind: 'other'; message: string };

/** Sort an API error into what the patient page shows. */
export function classifyError(error: unknown): Failure {
  const e = (error ?? {}) as ApiErrorLike;
  const details = (e.details ?? {}) as Record<string, unknown>;
  switch (e.code) {
    case 'link_invalid':
    case 'not_found':
      return { kind: 'invalid' };
    case 'rate_limited': {
      const seconds = typeof details.retry_after_seconds === 'number' ? details.retry_after_seconds : 600;
      return { kind: 'rate', minutes: Math.max(1, Math.ceil(seconds / 60)) };
    }
    case 'network_error':
      return { kind: 'network' };
    case 'form_answers_invalid': {
      const q = details.questions;
      return { kind: 'answers', questions: q && typeof q === 'object' ? (q as Record<string, string[]>) : {} };
    }
    case 'image_too_large':
      return { kind: 'photo_too_large' };
    case 'unsupported_image_type':
    case 'image_too_many_pixels':
    case 'image_unreadable':
    case 'unsupported_media_type':
      return { kind: 'photo_invalid' };
  }
  if (e.status === 401) return { kind: 'invalid' };
  if (e.status === 429) return { kind: 'rate', minutes: 10 };
  if (e.status === 0) return { kind: 'network' };
  return { kind: 'other', message: e.message ?? String(error) };
}

/** The UUIDs of one update (photo and answers), kept across retries until both are stored. */
export interface PendingIds {
  photo: string;
  answers: string;
  photoDone: boolean;
}

export interface SubmitDeps {
  uploadPhoto: (file: Blob, filename: string, clientUuid: string, onProgress: (f: number) => void) => Promise<unknown>;
  postAnswers: (answers: Record<string, unknown>, clientUuid: string) => Promise<unknown>;
}

export type Step = { step: 'photo'; fraction: number } | { step: 'answers' };

/**
 * Send the update. `ids` is mutated (`photoDone`) so that a retry after a failure while sending
 * the answers does not send the photo again (it would be idempotent anyway).
 */
export async function submitUpdate(
  deps: SubmitDeps,
  ids: PendingIds,
  photo: { blob: Blob; filename: string } | null,
  answers: Record<string, unknown>,
  onStep: (s: Step) => void,
): Promise<void> {
  if (photo && !ids.photoDone) {
    onStep({ step: 'photo', fraction: 0 });
    await deps.uploadPhoto(photo.blob, photo.filename, ids.photo, (f) => onStep({ step: 'photo', fraction: f }));
    ids.photoDone = true;
  }
  onStep({ step: 'answers' });
  await deps.postAnswers(answers, ids.answers);
}

/** Accepts a file as a photo to send (type and size checked before uploading). */
export function checkPhoto(file: { type: string; size: number }, maxBytes = 30 * 1024 * 1024): 'ok' | 'type' | 'size' {
  if (file.type && !file.type.startsWith('image/')) return 'type';
  if (file.size > maxBytes) return 'size';
  return 'ok';
}

/** The patient's language: the browser's if supported, else the link's, else English. */
export function initialLang(
  browser: readonly string[] | undefined,
  linkLang: string | undefined,
): 'en' | 'fr' | 'es' {
  const ok = (x: string | undefined): x is 'en' | 'fr' | 'es' => x === 'en' || x === 'fr' || x === 'es';
  for (const tag of browser ?? []) {
    const base = tag.toLowerCase().split('-')[0];
    if (ok(base)) return base;
  }
  return ok(linkLang) ? linkLang : 'en';
}
