/**
 * The patient's submission: up to MAX_PHOTOS photos (none is fine), then the answers, each with
 * a client UUID kept until the server confirmed it, so that a retry after an unknown outcome is
 * stored once.
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

/** How many photos one update may carry (one of each wound, or several angles). */
export const MAX_PHOTOS = 4;

/** A photo of the update, with the UUID it is sent under (kept across retries). */
export interface PendingPhoto {
  blob: Blob;
  filename: string;
  clientUuid: string;
  /** Stored by the server: a retry does not send it again. */
  done: boolean;
}

export interface SubmitDeps {
  uploadPhoto: (file: Blob, filename: string, clientUuid: string, onProgress: (f: number) => void) => Promise<unknown>;
  postAnswers: (answers: Record<string, unknown>, clientUuid: string) => Promise<unknown>;
}

/** What is being sent: photo `index` (from 0) of `count`, or the answers. */
export type Step = { step: 'photo'; index: number; count: number; fraction: number } | { step: 'answers' };

/**
 * Send the update: the photos one after the other, then the answers. Each photo's `done` is set
 * once stored, so that a retry after a failure sends only what was not stored yet (a photo
 * sent again would be recognised by its UUID anyway).
 */
export async function submitUpdate(
  deps: SubmitDeps,
  photos: PendingPhoto[],
  answers: { values: Record<string, unknown>; clientUuid: string },
  onStep: (s: Step) => void,
): Promise<void> {
  const count = photos.length;
  for (const [index, photo] of photos.entries()) {
    if (photo.done) continue;
    onStep({ step: 'photo', index, count, fraction: 0 });
    await deps.uploadPhoto(photo.blob, photo.filename, photo.clientUuid, (fraction) =>
      onStep({ step: 'photo', index, count, fraction }),
    );
    photo.done = true;
  }
  onStep({ step: 'answers' });
  await deps.postAnswers(answers.values, answers.clientUuid);
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
