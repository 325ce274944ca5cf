// The playground page: a channel fed by the server's event stream, a composer with completion and
// pictures (drop, paste, 📎), the job buttons, the remix / Custom Zoom / Vary (Region) dialogs and the
// full-size viewer.

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
let catalog = { commands: [], promptFlags: [], uploads: { maxBytes: 20 * 1024 * 1024, maxFiles: 5 } };

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
    else if (out.type === 'zoom') openZoom(out);
    else if (out.type === 'region') openRegion(out);
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

// Custom Zoom: a factor from 1.1 to 2 and, optionally, a new prompt. The server reads the factor.
const zoomDialog = $('zoom');
let zoomFor;

function openZoom(form) {
  zoomFor = form;
  $('zoom-factor').value = '2';
  $('zoom-prompt').value = '';
  $('zoom-prompt').placeholder = form.prompt;
  $('zoom-error').hidden = true;
  zoomDialog.showModal();
  $('zoom-factor').focus();
  $('zoom-factor').select();
}

$('zoom-cancel').addEventListener('click', () => zoomDialog.close());
$('zoom-form').addEventListener('submit', (e) => {
  e.preventDefault();
  submitForm(zoomDialog, $('zoom-submit'), $('zoom-error'), () => api.zoom(user, zoomFor.jobId, zoomFor.index, $('zoom-factor').value, $('zoom-prompt').value));
});

async function submitForm(dialog, submit, error, send) {
  submit.disabled = true;
  try {
    const out = await send();
    dialog.close();
    if (out.type === 'job') showJob(out.message);
  } catch (err) {
    error.textContent = err instanceof ApiError ? err.message : String(err);
    error.hidden = false;
  } finally {
    submit.disabled = false;
  }
}

// Vary (Region): the person drags a rectangle over the picture, or types it in percent; both stay in step.
// The server gets fractions of the picture's sides.
const regionDialog = $('region');
const stage = $('region-stage');
const regionBox = $('region-box');
const regionFields = { x: $('region-x'), y: $('region-y'), width: $('region-w'), height: $('region-h') };
let regionFor;
/** { x, y, width, height } in fractions, or undefined before anything is marked. */
let area;
let drag;
let dragged = false;

function openRegion(form) {
  regionFor = form;
  area = undefined;
  drawArea();
  $('region-image').src = withAuth(form.imageUrl);
  $('region-image').alt = `Image ${form.index} for “${form.prompt}”: drag over it to mark the area`;
  $('region-prompt').value = '';
  $('region-prompt').placeholder = form.prompt;
  $('region-error').hidden = true;
  regionDialog.showModal();
  regionFields.x.focus();
}

const clamp01 = (n) => Math.max(0, Math.min(1, n));
const round = (n) => Math.round(n * 1000) / 1000;

/** `typing`: the field being typed in keeps what the person typed. */
function drawArea(typing) {
  regionBox.hidden = !area;
  for (const [k, input] of Object.entries(regionFields)) if (input !== typing) input.value = area ? String(Math.round(area[k] * 1000) / 10) : '';
  if (!area) return;
  // CSSOM, not a style attribute: the page's content security policy allows no inline styles.
  regionBox.style.left = `${area.x * 100}%`;
  regionBox.style.top = `${area.y * 100}%`;
  regionBox.style.width = `${area.width * 100}%`;
  regionBox.style.height = `${area.height * 100}%`;
}

function pointAt(e) {
  const r = $('region-image').getBoundingClientRect();
  return { x: clamp01((e.clientX - r.left) / r.width), y: clamp01((e.clientY - r.top) / r.height) };
}

stage.addEventListener('pointerdown', (e) => {
  if (e.button !== 0) return;
  e.preventDefault();
  stage.setPointerCapture(e.pointerId);
  drag = pointAt(e);
  dragged = true;
});
stage.addEventListener('pointermove', (e) => {
  if (!drag) return;
  const p = pointAt(e);
  area = { x: round(Math.min(drag.x, p.x)), y: round(Math.min(drag.y, p.y)), width: round(Math.abs(p.x - drag.x)), height: round(Math.abs(p.y - drag.y)) };
  drawArea();
});
const endDrag = () => {
  drag = undefined;
  // The click that ends a drag outside the picture lands on the dialog: it must not read as a backdrop click.
  setTimeout(() => (dragged = false), 0);
};
stage.addEventListener('pointerup', endDrag);
stage.addEventListener('pointercancel', endDrag);

for (const input of Object.values(regionFields)) {
  input.addEventListener('input', () => {
    const v = Object.fromEntries(Object.entries(regionFields).map(([k, el]) => [k, Number(el.value) / 100]));
    if (Object.values(regionFields).every((el) => el.value !== '') && Object.values(v).every(Number.isFinite)) {
      area = v;
      drawArea(input);
    }
  });
}

$('region-cancel').addEventListener('click', () => regionDialog.close());
$('region-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!area) {
    $('region-error').textContent = 'Drag over the picture to mark the area to repaint, or type it in percent.';
    $('region-error').hidden = false;
    return;
  }
  submitForm(regionDialog, $('region-submit'), $('region-error'), () => api.region(user, regionFor.jobId, regionFor.index, area, $('region-prompt').value));
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
for (const d of [viewer, remixDialog, zoomDialog, regionDialog]) d.addEventListener('click', (e) => e.target === d && !dragged && d.close());

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

// ---- pictures in the composer -----------------------------------------------------------------------
// Dropped anywhere on the page, pasted, or chosen with 📎: shown as thumbnails until sent, each removable.
// They are uploaded only when the message is sent, one body each, and the command names them.

const ACCEPTED = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);
const tray = $('attachments');
const fileInput = $('file-input');
/** [{ file, url }]: url is an object URL for the thumbnail, revoked when the picture goes. */
let pictures = [];
const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function addPictures(files) {
  const problems = [];
  for (const file of files) {
    const name = file.name || 'pasted picture';
    if (!ACCEPTED.has(file.type)) problems.push(`${name} is not a PNG, JPEG, WebP or GIF picture.`);
    else if (file.size > catalog.uploads.maxBytes) problems.push(`${name} is ${mib(file.size)}; pictures may be at most ${mib(catalog.uploads.maxBytes)}.`);
    else if (pictures.length >= catalog.uploads.maxFiles) problems.push(`At most ${catalog.uploads.maxFiles} pictures at a time: ${name} was left out.`);
    else pictures.push({ file, name, url: window.URL.createObjectURL(file) });
  }
  drawTray();
  if (problems.length) showError(problems.join('\n'));
  else errorBox.hidden = true;
}

function removePicture(i) {
  const [gone] = pictures.splice(i, 1);
  if (gone) window.URL.revokeObjectURL(gone.url);
  drawTray();
  // Focus stays in the tray while there is something left to remove, else goes back to the message.
  const next = tray.querySelectorAll('.remove')[Math.min(i, pictures.length - 1)];
  (next ?? input).focus();
}

function clearPictures() {
  for (const p of pictures) window.URL.revokeObjectURL(p.url);
  pictures = [];
  drawTray();
}

function drawTray() {
  tray.replaceChildren(
    ...pictures.map((p, i) =>
      h(
        'li',
        { class: 'attachment' },
        h('img', { src: p.url, alt: `Picture ${i + 1} to send: ${p.name}` }),
        h('span', { class: 'attachment-name' }, p.name),
        h('button', { type: 'button', class: 'remove', 'aria-label': `Remove ${p.name}`, title: `Remove ${p.name}`, on: { click: () => removePicture(i) } }, '✕'),
      ),
    ),
  );
  tray.hidden = pictures.length === 0;
  // Said to screen readers: the tray itself changes silently.
  $('attachments-status').textContent = pictures.length ? `${pictures.length} picture${pictures.length === 1 ? '' : 's'} to send: ${pictures.map((p) => p.name).join(', ')}` : '';
}

$('attach').addEventListener('click', () => fileInput.click());
fileInput.addEventListener('change', () => {
  addPictures([...fileInput.files]);
  fileInput.value = '';
  input.focus();
});

const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
let dragDepth = 0;
// The whole page takes a drop: a picture dropped beside the box must not replace the page with the file.
document.addEventListener('dragenter', (e) => {
  if (!hasFiles(e)) return;
  dragDepth++;
  $('composer').classList.add('dropping');
});
document.addEventListener('dragleave', (e) => {
  if (!hasFiles(e)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) $('composer').classList.remove('dropping');
});
document.addEventListener('dragover', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  e.dataTransfer.dropEffect = 'copy';
});
document.addEventListener('drop', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth = 0;
  $('composer').classList.remove('dropping');
  addPictures([...e.dataTransfer.files]);
  input.focus();
});
// A pasted picture (a screenshot, "copy image") joins the message; pasted text is left to the box.
document.addEventListener('paste', (e) => {
  const files = [...(e.clipboardData?.items ?? [])].filter((i) => i.kind === 'file').map((i) => i.getAsFile()).filter(Boolean);
  if (!files.length || document.querySelector('dialog[open]')) return;
  e.preventDefault();
  addPictures(files);
});

$('composer').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text || !identityOk()) return;
  // Said before anything is uploaded; the server checks the same again.
  const name = /^\/(\S+)/.exec(text)?.[1]?.toLowerCase();
  const takes = catalog.commands.find((c) => c.name === name)?.pictures;
  if (pictures.length && takes && pictures.length > takes.most) {
    showError(`/${name} takes at most ${takes.most} pictures, and ${pictures.length} are attached: remove ${pictures.length - takes.most}.`);
    return;
  }
  const send = $('composer').querySelector('.send');
  send.disabled = true;
  try {
    const uploads = [];
    for (const p of pictures) uploads.push((await api.upload(p.file, p.name)).upload.id);
    const out = await api.command(user, text, uploads);
    clearPictures();
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
