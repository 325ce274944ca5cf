// Talking to the server: the access token, the display name, and the JSON API. Who I am is the
// session cookie the server set (HttpOnly: this script never sees it; the browser sends it).

const USER_KEY = 'atelier.user';
const token = new window.URLSearchParams(location.search).get('token') ?? '';

/** The display name chosen in the page and the moderator switch, kept in localStorage. */
export function loadUser() {
  try {
    const saved = JSON.parse(localStorage.getItem(USER_KEY) ?? 'null');
    if (saved && typeof saved.name === 'string') return { name: saved.name, moderator: saved.moderator === true };
  } catch {
    // A corrupt entry is replaced below.
  }
  const user = { name: `guest-${window.crypto.randomUUID().slice(0, 4)}`, moderator: false };
  localStorage.setItem(USER_KEY, JSON.stringify(user));
  return user;
}

export function saveUser(user) {
  localStorage.setItem(USER_KEY, JSON.stringify({ name: user.name, moderator: user.moderator === true }));
}

/** A same-origin URL with the access token added where needed (the session cookie goes by itself). */
export function withAuth(path) {
  const url = new URL(path, location.origin);
  if (token) url.searchParams.set('token', token);
  return url.pathname + url.search;
}

/** Error raised for a 4xx / 5xx: `message` is written for the user. */
export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** `body` goes as JSON; a File or Blob goes as it is, with its own type (a picture upload). */
async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  const raw = body instanceof window.Blob;
  if (raw) headers['content-type'] = body.type || 'application/octet-stream';
  else if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined || raw ? body : JSON.stringify(body) });
  } catch {
    throw new ApiError('Atelier is not reachable: is it still running?', 0, 'NETWORK');
  }
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && data.error?.code === 'NO_SESSION') throw new ApiError(data.error.message, 401, 'NO_SESSION');
  if (res.status === 401) throw new ApiError('This playground needs its access token: open it as /?token=<PLAYGROUND_TOKEN>.', 401, 'NOT_ALLOWED');
  if (!res.ok) throw new ApiError(data.error?.message ?? `The server answered ${res.status}.`, res.status, data.error?.code);
  return data;
}

export const api = {
  /** Makes sure this browser has a session (the page load normally gave it one). */
  session: () => call('POST', '/api/session', {}),
  commands: () => call('GET', '/api/commands'),
  /** `uploads`: ids of pictures sent just before with `upload`, for /imagine and /blend. */
  command: (user, text, uploads = []) => call('POST', '/api/command', { user, text, ...(uploads.length ? { uploads } : {}) }),
  /** One picture, its bytes as the body; answers { upload: { id, name, size } }. */
  upload: (file, name) => call('POST', `/api/uploads?name=${encodeURIComponent(name)}`, file),
  press: (user, id) => call('POST', '/api/press', { user, id }),
  remix: (user, jobId, prompt) => call('POST', '/api/remix', { user, jobId, prompt }),
  zoom: (user, jobId, index, factor, prompt) => call('POST', '/api/zoom', { user, jobId, index, factor, prompt }),
  region: (user, jobId, index, region, prompt) => call('POST', '/api/region', { user, jobId, index, region, prompt }),
  feedUrl: () => withAuth('/api/events'),
};
