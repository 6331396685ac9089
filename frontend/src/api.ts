/** The JSON API under /api/: session cookie, CSRF header, one error shape. */

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';

export class ApiError extends Error {
  status: number;
  code: string;
  details?: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

type UnauthorizedListener = (error: ApiError) => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called whenever a signed-in request answers 401 (the session expired or was ended). */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

function notifyUnauthorized(error: ApiError, path: string): void {
  // Signing in and the patient page handle their own 401s.
  if (path.startsWith('auth/') || path.startsWith('p/')) return;
  unauthorizedListeners.forEach((listener) => listener(error));
}

export function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null;
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return null;
}

let csrfPromise: Promise<string> | null = null;

/** The CSRF token: the cookie's current value, fetched from the server when missing. */
export async function csrfToken(): Promise<string> {
  const cookie = readCookie('csrftoken');
  if (cookie) return cookie;
  if (!csrfPromise) {
    csrfPromise = fetch('/api/auth/csrf', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(async (response) => {
        const body = (await response.json()) as { csrf_token?: string };
        return readCookie('csrftoken') ?? body.csrf_token ?? '';
      })
      .finally(() => {
        csrfPromise = null;
      });
  }
  return csrfPromise;
}

function languageHeader(): Record<string, string> {
  const lang = typeof document !== 'undefined' ? document.documentElement.lang : '';
  return lang ? { 'Accept-Language': lang } : {};
}

async function errorFrom(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { code?: string; message?: string; details?: unknown };
    return new ApiError(response.status, body.code ?? 'internal_error', body.message ?? response.statusText, body.details);
  } catch {
    return new ApiError(response.status, response.status >= 500 ? 'internal_error' : 'not_found', response.statusText);
  }
}

/** A JSON request to `/api/<path>`; resolves with the decoded answer (undefined for 204). */
export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...languageHeader() };
  if (method !== 'GET') headers['X-CSRFToken'] = await csrfToken();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch('/api/' + path.replace(/^\/+/, '').replace(/^api\//, ''), {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The server cannot be reached.');
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (error.status === 401) notifyUnauthorized(error, path);
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A multipart upload to `/api/<path>` with progress (0..1). */
export async function upload<T>(path: string, form: FormData, onProgress?: (fraction: number) => void): Promise<T> {
  const token = await csrfToken();
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/' + path.replace(/^\/+/, '').replace(/^api\//, ''));
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('X-CSRFToken', token);
    const lang = languageHeader()['Accept-Language'];
    if (lang) xhr.setRequestHeader('Accept-Language', lang);
    if (onProgress) {
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
      };
    }
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'The server cannot be reached.'));
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => reject(new ApiError(0, 'network_error', 'The upload was interrupted.'));
    xhr.onload = () => {
      let body: { code?: string; message?: string; details?: unknown } | undefined;
      try {
        body = xhr.responseText ? (JSON.parse(xhr.responseText) as typeof body) : undefined;
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        if (onProgress) onProgress(1);
        resolve(body as T);
        return;
      }
      const error = new ApiError(
        xhr.status,
        body?.code ?? (xhr.status >= 500 ? 'internal_error' : 'not_found'),
        body?.message ?? xhr.statusText,
        body?.details,
      );
      if (error.status === 401) notifyUnauthorized(error, path);
      reject(error);
    };
    xhr.send(form);
  });
}
