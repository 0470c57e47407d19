// WRK Copilot — the one way pages talk to the JSON API.
//
//   import { api, ApiError } from '/assets/js/api.js';
//   const me = await api('/api/me');
//   await api('/api/automations', { method: 'POST', body: { name } });
//
// - Same-origin, cookie session (`credentials: 'same-origin'`).
// - JSON in, JSON out. A FormData / Blob / ArrayBuffer body is sent as is.
// - Unsafe methods (POST, PUT, PATCH, DELETE) carry `X-CSRF-Token` from the `wrk_csrf` cookie.
// - Non-2xx answers throw an ApiError whose `.problem` is the RFC 9457 problem
//   `{type, title, status, detail, code, ...}` (synthesised when the server sent none).
// - 204 / empty bodies resolve to null.

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export class ApiError extends Error {
  constructor(problem, response = null) {
    super(problem.detail || problem.title || `Request failed (${problem.status})`);
    this.name = 'ApiError';
    this.problem = problem;
    this.status = problem.status ?? 0;
    this.code = problem.code ?? null;
    this.response = response;
  }
}

/** The value of cookie `name`, or null. */
export function getCookie(name) {
  const prefix = `${name}=`;
  for (const part of document.cookie ? document.cookie.split(';') : []) {
    const c = part.trim();
    if (c.startsWith(prefix)) return decodeURIComponent(c.slice(prefix.length));
  }
  return null;
}

export function csrfToken() {
  return getCookie('wrk_csrf');
}

/**
 * Whether this host may have a browser session: its readable CSRF cookie is set with the HttpOnly
 * session cookie and cleared with it. Pages ask before probing `/me`, so a signed-out visitor's
 * page makes no request that is bound to fail (and log a 401 in the console).
 */
export function maybeSignedIn() {
  return csrfToken() !== null;
}

function isRawBody(body) {
  return (
    body instanceof FormData ||
    body instanceof Blob ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof URLSearchParams ||
    typeof body === 'string'
  );
}

/**
 * Call the API.
 * @param {string} path  e.g. '/api/me' (query string allowed); pass `query` to append params.
 * @param {{method?: string, body?: any, query?: Record<string, any>, headers?: Record<string,string>,
 *          signal?: AbortSignal, raw?: boolean}} [opts]  `raw: true` resolves to the Response.
 */
export async function api(path, opts = {}) {
  const method = (opts.method || 'GET').toUpperCase();
  const headers = new Headers({ Accept: 'application/json, application/problem+json' });
  for (const [k, v] of Object.entries(opts.headers || {})) headers.set(k, v);

  let body;
  if (opts.body !== undefined && opts.body !== null) {
    if (isRawBody(opts.body)) {
      body = opts.body;
    } else {
      body = JSON.stringify(opts.body);
      headers.set('Content-Type', 'application/json');
    }
  }
  if (!SAFE.has(method)) {
    const token = csrfToken();
    if (token) headers.set('X-CSRF-Token', token);
  }

  let url = path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }

  let res;
  try {
    res = await fetch(url, { method, headers, body, credentials: 'same-origin', signal: opts.signal });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError({
      type: 'about:blank',
      title: 'Network error',
      status: 0,
      code: 'network_error',
      detail: "We couldn't reach the server. Check your connection and try again.",
    });
  }

  if (opts.raw && res.ok) return res;

  const type = (res.headers.get('Content-Type') || '').toLowerCase();
  let data = null;
  if (res.status !== 204 && res.status !== 205 && method !== 'HEAD') {
    if (type.includes('json')) {
      const text = await res.text();
      if (text) {
        try { data = JSON.parse(text); } catch { data = null; }
      }
    } else if (!res.ok) {
      data = null;
    } else {
      data = await res.text();
    }
  }

  if (!res.ok) {
    const problem =
      data && typeof data === 'object'
        ? { status: res.status, title: res.statusText || 'Error', ...data }
        : { type: 'about:blank', status: res.status, title: res.statusText || 'Error', detail: defaultDetail(res.status) };
    if (!problem.detail) problem.detail = defaultDetail(res.status);
    const requestId = res.headers.get('X-Request-Id');
    if (requestId && !problem.request_id) problem.request_id = requestId;
    throw new ApiError(problem, res);
  }
  return data;
}

function defaultDetail(status) {
  if (status === 401) return 'Your session has ended. Sign in to continue.';
  if (status === 403) return "You don't have access to this.";
  if (status === 404) return "We couldn't find that. It may have been moved or deleted.";
  if (status === 409) return 'Something changed in the meantime. Reload and try again.';
  if (status === 413) return 'That file or request is too large.';
  if (status === 429) return 'Too many requests. Wait a moment and try again.';
  if (status >= 500) return 'Something went wrong on our side. Try again in a moment.';
  return 'The request could not be completed.';
}

export const get = (path, opts) => api(path, { ...opts, method: 'GET' });
export const post = (path, body, opts) => api(path, { ...opts, method: 'POST', body });
export const put = (path, body, opts) => api(path, { ...opts, method: 'PUT', body });
export const patch = (path, body, opts) => api(path, { ...opts, method: 'PATCH', body });
export const del = (path, opts) => api(path, { ...opts, method: 'DELETE' });

export function isUnauthenticated(err) {
  return err instanceof ApiError && (err.status === 401 || err.code === 'unauthenticated');
}
