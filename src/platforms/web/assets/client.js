// Talking to the server: who I am, the access token, and the JSON API.

const USER_KEY = 'atelier.user';
const token = new window.URLSearchParams(location.search).get('token') ?? '';

/** This browser's identity: a random id kept in localStorage, and the display name chosen in the page. */
export function loadUser() {
  try {
    const saved = JSON.parse(localStorage.getItem(USER_KEY) ?? 'null');
    if (saved && typeof saved.id === 'string' && /^[\w-]{6,64}$/.test(saved.id) && typeof saved.name === 'string') {
      return { id: saved.id, name: saved.name, moderator: saved.moderator === true };
    }
  } catch {
    // A corrupt entry is replaced below.
  }
  const id = window.crypto.randomUUID();
  const user = { id, name: `guest-${id.slice(0, 4)}`, moderator: false };
  localStorage.setItem(USER_KEY, JSON.stringify(user));
  return user;
}

export function saveUser(user) {
  localStorage.setItem(USER_KEY, JSON.stringify(user));
}

/** A same-origin URL with the access token (and my id, for private images) added where needed. */
export function withAuth(path, user) {
  const url = new URL(path, location.origin);
  if (token) url.searchParams.set('token', token);
  if (user) url.searchParams.set('user', user.id);
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

async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError('Atelier is not reachable: is it still running?', 0, 'NETWORK');
  }
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) throw new ApiError('This playground needs its access token: open it as /?token=<PLAYGROUND_TOKEN>.', 401, 'NOT_ALLOWED');
  if (!res.ok) throw new ApiError(data.error?.message ?? `The server answered ${res.status}.`, res.status, data.error?.code);
  return data;
}

export const api = {
  commands: () => call('GET', '/api/commands'),
  command: (user, text) => call('POST', '/api/command', { user, text }),
  press: (user, id) => call('POST', '/api/press', { user, id }),
  remix: (user, jobId, prompt) => call('POST', '/api/remix', { user, jobId, prompt }),
  feedUrl: (user) => withAuth(`/api/events?user=${encodeURIComponent(user.id)}`),
};
