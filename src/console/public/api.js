// The console is a client of the REST API like any other: the key the user signed in
// with goes as a Bearer token, kept in sessionStorage (gone when the tab closes).

const storageKey = 'smsgw.console';

/** @typedef {{ role: 'account' | 'admin', key: string }} Session */

/** @returns {Session | null} */
export function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(storageKey) ?? 'null');
    return s && (s.role === 'account' || s.role === 'admin') && typeof s.key === 'string' ? s : null;
  } catch {
    return null;
  }
}

/** @param {Session} session */
export function saveSession(session) {
  sessionStorage.setItem(storageKey, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(storageKey);
}

/** A refusal from the API: its `{error: {code, message, field}}` body. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {string | undefined} field
   */
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** `?a=1&b=2` of the parameters that have a value. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Which kind of key this is: an account's, an admin's, or neither (null). */
export async function roleOf(key) {
  const status = async (path) =>
    (await fetch(path, { headers: { authorization: `Bearer ${key}` }, cache: 'no-store' })).status;
  if ((await status('/v1/messages?limit=1')) === 200) return 'account';
  if ((await status('/v1/admin/connectors')) === 200) return 'admin';
  return null;
}

/**
 * Requests with one key. A 401 means the key stopped working (removed from the config):
 * `onUnauthorized` signs the user out.
 * @param {string} key
 * @param {() => void} onUnauthorized
 */
export function createClient(key, onUnauthorized) {
  const call = async (method, path, body, parse = true, contentType = 'application/json') => {
    const raw = contentType !== 'application/json';
    const res = await fetch(path, {
      method,
      cache: 'no-store',
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      body: body === undefined || raw ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.ok) return parse && text ? JSON.parse(text) : text;
    if (res.status === 401) onUnauthorized();
    let error;
    try {
      error = JSON.parse(text).error;
    } catch {}
    throw new ApiError(
      res.status,
      error?.code ?? `http_${res.status}`,
      error?.message ?? `${res.status} ${res.statusText}`,
      error?.field,
    );
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
    patch: (path, body) => call('PATCH', path, body),
    put: (path, body) => call('PUT', path, body),
    delete: (path) => call('DELETE', path),
    /** A text resource (the Prometheus metrics). */
    text: (path) => call('GET', path, undefined, false),
    /** A body sent as it is (a CSV file: the browser streams a File from disk), a JSON answer. */
    upload: (path, body, contentType) => call('POST', path, body, true, contentType),
  };
}

/** @typedef {ReturnType<typeof createClient>} Client */

/** What to tell the user about a failed request. */
export function errorText(err) {
  if (err instanceof ApiError) return `${err.message} (${err.code}${err.field ? `, ${err.field}` : ''})`;
  return `Request failed: ${err instanceof Error ? err.message : String(err)}`;
}
