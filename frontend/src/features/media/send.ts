/** Sending a wound photo through the offline outbox (queued on the device, sent in order when
 * online, exactly once by its client UUID), and the live capture check of a preview frame. */
import { ApiError, csrfToken } from '../../api';
import { addPhoto } from '../../outbox';
import type { CaptureVerdict } from './types';

export type PhotoItem = Parameters<typeof addPhoto>[0];

/** Queues the photo in the outbox; resolves once it is safely stored on this device (it is
 * then sent in order when online, with its progress shown in the case room). */
export async function sendPhoto(item: PhotoItem): Promise<void> {
  await addPhoto(item);
}

export function newClientUuid(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `POST /api/capture-check` with a JPEG frame (raw body). */
export async function checkFrame(frame: Blob, signal?: AbortSignal): Promise<CaptureVerdict> {
  const token = await csrfToken();
  let response: Response;
  try {
    response = await fetch('/api/capture-check', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'image/jpeg', Accept: 'application/json', 'X-CSRFToken': token },
      body: frame,
      signal,
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The server cannot be reached.');
  }
  const body = (await response.json().catch(() => ({}))) as Partial<CaptureVerdict> & { code?: string; message?: string };
  if (!response.ok) throw new ApiError(response.status, body.code ?? 'internal_error', body.message ?? response.statusText);
  return body as CaptureVerdict;
}

/** The longest side a live-check frame is scaled to (the check takes up to 4 MP, 2 MB). */
export const CHECK_MAX_SIDE = 1280;

export function fitWithin(width: number, height: number, maxSide: number): [number, number] {
  const s = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, Math.round(width * s)), Math.max(1, Math.round(height * s))];
}

/** A downscaled JPEG of an image source (video frame, bitmap), for the live check. */
export function frameBlob(source: CanvasImageSource, width: number, height: number, maxSide = CHECK_MAX_SIDE, quality = 0.8): Promise<Blob | null> {
  const [w, h] = fitWithin(width, height, maxSide);
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  if (!ctx) return Promise.resolve(null);
  ctx.drawImage(source, 0, 0, w, h);
  return new Promise((resolve) => canvas.toBlob((b) => resolve(b), 'image/jpeg', quality));
}

/** Runs `task` about every `intervalMs`, never two at once: the next starts `intervalMs` after
 * the previous one started, or as soon as it ends if it took longer. */
export function pacedLoop(task: () => Promise<void>, intervalMs: number): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = async () => {
    if (stopped) return;
    const started = Date.now();
    try {
      await task();
    } catch {
      // the task reports its own errors
    }
    if (stopped) return;
    timer = setTimeout(run, Math.max(0, intervalMs - (Date.now() - started)));
  };
  timer = setTimeout(run, 0);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
