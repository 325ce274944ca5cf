// The playground page: a channel fed by the server's event stream, a composer with completion,
// the job buttons, the remix dialog and the full-size viewer.

import { ApiError, api, loadUser, saveUser, withAuth } from './client.js';
import { suggest } from './complete.js';
import { h, jobMessage, textMessage } from './messages.js';

const $ = (id) => document.getElementById(id);
const list = $('messages');
const input = $('input');
const errorBox = $('composer-error');
const suggestions = $('suggestions');
const nameInput = $('name');
const statusEl = $('status');

const user = loadUser();
nameInput.value = user.name;
const modInput = $('moderator');
modInput.checked = user.moderator === true;
modInput.addEventListener('change', () => {
  user.moderator = modInput.checked;
  saveUser(user);
});
nameInput.addEventListener('input', () => {
  user.name = nameInput.value.trim();
  if (user.name) saveUser(user);
});

/** id -> { data, el }: what the channel shows now. Ephemeral entries exist only in this page. */
const shown = new Map();
let catalog = { commands: [], promptFlags: [] };

// ---- the channel ---------------------------------------------------------------------------------

// Follow new messages while the reader is at the bottom; leave them alone once they scroll up to read.
let pinned = true;
const nearBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 120;
const follow = () => {
  if (pinned) list.scrollTop = list.scrollHeight;
};
list.addEventListener('scroll', () => (pinned = nearBottom()));
// Images arrive after their message and push it up; `load` does not bubble, so listen while capturing.
list.addEventListener('load', follow, true);

function place(id, el, data) {
  const old = shown.get(id);
  if (old) {
    // Keep keyboard focus on the same control across a re-render.
    const focused = old.el.contains(document.activeElement) ? document.activeElement.getAttribute('title') : undefined;
    old.el.replaceWith(el);
    if (focused) el.querySelector(`[title="${window.CSS.escape(focused)}"]`)?.focus();
  } else {
    list.append(el);
  }
  shown.set(id, { data, el });
  $('empty').hidden = shown.size > 0;
  follow();
}

function showJob(m) {
  const old = shown.get(m.id);
  // Same version, new place in line: positions are computed on the server, not written, so they do not bump it.
  const moved = old && old.data.version === m.version && m.queuePosition !== undefined && m.queuePosition !== old.data.queuePosition;
  if (old && old.data.version >= m.version && !moved) return;
  place(m.id, jobMessage(m, { press, view }), m);
}

function showText(m, ephemeral = false) {
  place(m.id, textMessage(m, ephemeral, () => remove(m.id)), m);
}

/** Something only I see: an error from a button, ℹ️ details, /help. */
function showEphemeral(text, isError = false) {
  const m = { id: `local-${window.crypto.randomUUID()}`, text, createdAt: Date.now() };
  showText(m, true);
  if (isError) shown.get(m.id).el.classList.add('is-error');
}

function remove(id) {
  shown.get(id)?.el.remove();
  shown.delete(id);
  $('empty').hidden = shown.size > 0;
}

function connect() {
  const source = new EventSource(api.feedUrl());
  source.addEventListener('open', () => setStatus('live', 'live'));
  source.addEventListener('error', () => {
    // EventSource retries by itself unless the server refused the stream (a missing token).
    if (source.readyState === EventSource.CLOSED) setStatus('offline', 'offline: reload the page');
    else setStatus('reconnecting', 'reconnecting…');
  });
  source.addEventListener('message', (e) => {
    const event = JSON.parse(e.data);
    if (event.type === 'hello') {
      for (const id of [...shown.keys()]) if (!id.startsWith('local-')) remove(id);
      for (const m of event.messages) (m.kind === 'job' ? showJob : showText)(m);
      document.body.dataset.ready = 'true';
    } else if (event.type === 'job') showJob(event.message);
    else if (event.type === 'text') showText(event.message);
    else if (event.type === 'deleted') remove(event.id);
  });
}

function setStatus(state, text) {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
}

// ---- buttons, remix, viewer ----------------------------------------------------------------------

async function press(button, _message, el) {
  if (!identityOk()) return;
  el.disabled = true;
  try {
    const out = await api.press(user, button.id);
    if (out.type === 'job') showJob(out.message);
    else if (out.type === 'text') showEphemeral(out.text);
    else if (out.type === 'remix') openRemix(out.jobId, out.prompt);
  } catch (err) {
    showEphemeral(err instanceof ApiError ? err.message : String(err), true);
  } finally {
    el.disabled = false;
  }
}

const remixDialog = $('remix');
const remixPrompt = $('remix-prompt');
const remixError = $('remix-error');
let remixJob;

function openRemix(jobId, prompt) {
  remixJob = jobId;
  remixPrompt.value = prompt;
  remixError.hidden = true;
  remixDialog.showModal();
  remixPrompt.focus();
  remixPrompt.select();
}

$('remix-cancel').addEventListener('click', () => remixDialog.close());
$('remix-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const submit = $('remix-submit');
  submit.disabled = true;
  try {
    const out = await api.remix(user, remixJob, remixPrompt.value);
    remixDialog.close();
    if (out.type === 'job') showJob(out.message);
  } catch (err) {
    remixError.textContent = err instanceof ApiError ? err.message : String(err);
    remixError.hidden = false;
  } finally {
    submit.disabled = false;
  }
});

const viewer = $('viewer');
let viewing = { message: undefined, index: 0 };

function view(message, index) {
  viewing = { message, index };
  drawViewer();
  if (!viewer.open) viewer.showModal();
  $('viewer-close').focus();
}

function drawViewer() {
  const { message, index } = viewing;
  const img = message.images[index];
  const many = message.images.length > 1;
  $('viewer-title').textContent = many ? `Image ${img.index} of ${message.images.length}` : 'Image';
  $('viewer-image').src = withAuth(img.url);
  $('viewer-image').alt = `Image ${img.index} for “${message.prompt}”`;
  $('viewer-download').href = withAuth(img.downloadUrl);
  $('viewer-download').setAttribute('aria-label', `Download image ${img.index}`);
  $('viewer-open').href = withAuth(img.url);
  $('viewer-prev').hidden = !many;
  $('viewer-next').hidden = !many;
}

const step = (d) => {
  const n = viewing.message.images.length;
  viewing.index = (viewing.index + d + n) % n;
  drawViewer();
};
$('viewer-prev').addEventListener('click', () => step(-1));
$('viewer-next').addEventListener('click', () => step(1));
$('viewer-close').addEventListener('click', () => viewer.close());
viewer.addEventListener('keydown', (e) => {
  if (e.key === 'ArrowLeft') step(-1);
  else if (e.key === 'ArrowRight') step(1);
});
// A click on the backdrop (the dialog itself, outside its content) closes it.
for (const d of [viewer, remixDialog]) d.addEventListener('click', (e) => e.target === d && d.close());

// ---- composer --------------------------------------------------------------------------------------

let offer; // { items, from, to, active }

function identityOk() {
  if (user.name) return true;
  showError('Choose a display name first (top right).');
  nameInput.focus();
  return false;
}

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = false;
}

function refreshSuggestions() {
  const s = suggest(input.value, input.selectionStart ?? input.value.length, catalog);
  offer = s && { ...s, active: s.autoSelect ? 0 : -1 };
  drawSuggestions();
}

function drawSuggestions() {
  suggestions.replaceChildren();
  if (!offer) {
    suggestions.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    return;
  }
  offer.items.forEach((item, i) => {
    suggestions.append(
      h(
        'li',
        { id: `sugg-${i}`, role: 'option', 'aria-selected': i === offer.active ? 'true' : 'false', on: { mousedown: (e) => (e.preventDefault(), accept(i)) } },
        h('span', { class: 'sugg-label' }, item.label),
        h('span', { class: 'sugg-detail' }, item.detail ?? ''),
      ),
    );
  });
  suggestions.hidden = false;
  input.setAttribute('aria-expanded', 'true');
  if (offer.active >= 0) {
    input.setAttribute('aria-activedescendant', `sugg-${offer.active}`);
    $(`sugg-${offer.active}`)?.scrollIntoView({ block: 'nearest' });
  } else input.removeAttribute('aria-activedescendant');
}

function accept(i) {
  const item = offer.items[i];
  const v = input.value;
  input.value = v.slice(0, offer.from) + item.value + v.slice(offer.to).replace(/^\s+/, '');
  const caret = offer.from + item.value.length;
  input.setSelectionRange(caret, caret);
  input.focus();
  refreshSuggestions();
}

input.addEventListener('input', () => {
  errorBox.hidden = true;
  refreshSuggestions();
});
input.addEventListener('click', refreshSuggestions);
input.addEventListener('blur', () => {
  offer = undefined;
  drawSuggestions();
});
input.addEventListener('keydown', (e) => {
  if (!offer) return;
  const n = offer.items.length;
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    const down = e.key === 'ArrowDown';
    offer.active = offer.active < 0 ? (down ? 0 : n - 1) : (offer.active + (down ? 1 : -1) + n) % n;
    drawSuggestions();
  } else if (e.key === 'Tab' && !e.shiftKey) {
    e.preventDefault();
    accept(Math.max(0, offer.active));
  } else if (e.key === 'Enter' && offer.active >= 0) {
    e.preventDefault();
    accept(offer.active);
  } else if (e.key === 'Escape') {
    e.preventDefault();
    offer = undefined;
    drawSuggestions();
  }
});

$('composer').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text || !identityOk()) return;
  const send = $('composer').querySelector('.send');
  send.disabled = true;
  try {
    const out = await api.command(user, text);
    input.value = '';
    errorBox.hidden = true;
    // Whoever just sent something wants to see what it did.
    pinned = true;
    if (out.type === 'job') showJob(out.message);
    else if (out.type === 'text' && out.ephemeral) showEphemeral(out.text);
  } catch (err) {
    showError(err instanceof ApiError ? err.message : String(err));
  } finally {
    send.disabled = false;
    input.focus();
  }
});

async function loadCatalog() {
  try {
    catalog = await api.commands();
    $('command-list').textContent = catalog.commands.map((c) => `/${c.name}`).join(' ');
  } catch (err) {
    showError(err instanceof ApiError ? err.message : String(err));
  }
}

loadCatalog();
// The feed is opened only once the browser surely holds its session, or it would be refused.
api
  .session()
  .catch((err) => showError(err instanceof ApiError ? err.message : String(err)))
  .finally(connect);
input.focus();
