// Drawing the channel: one <article> per message, rebuilt from the server's snapshot on every change.
// User text only ever goes in through textContent.

import { withAuth } from './client.js';

/** Builds an element: h('p', { class: 'x', 'aria-label': 'y' }, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false || v === null) continue;
    if (k === 'on') for (const [type, fn] of Object.entries(v)) el.addEventListener(type, fn);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c);
  return el;
}

const time = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function header(author, createdAt, bot) {
  return h(
    'header',
    { class: 'msg-head' },
    h('span', { class: 'author' }, author),
    bot ? h('span', { class: 'badge' }, 'APP') : undefined,
    h('time', { datetime: new Date(createdAt).toISOString() }, time(createdAt)),
  );
}

/**
 * A job's message. `actions.press(button, message)` and `actions.view(message, index)` are the page's
 * handlers. A private job reaches only its owner's session, so it always carries the "only you" note.
 */
export function jobMessage(m, actions) {
  const body = h('div', { class: 'msg-body' }, header('Atelier', m.createdAt, true));
  body.append(
    h(
      'p',
      { class: 'line' },
      h('strong', { class: 'prompt' }, m.prompt),
      ' — ',
      h('span', { class: 'attribution' }, m.attribution),
      m.private ? h('span', { class: 'private-note' }, ' · only you can see this') : undefined,
    ),
  );
  if (m.inputs?.length) {
    // What the job was given: the line every platform shows, and the pictures themselves, small.
    body.append(
      h(
        'div',
        { class: 'inputs' },
        h('p', { class: 'inputs-text' }, m.inputsText),
        h(
          'ul',
          { class: 'input-thumbs', 'aria-label': 'Pictures it started from' },
          m.inputs.map((p, i) =>
            h(
              'li',
              {},
              h('a', { href: withAuth(p.url), target: '_blank', rel: 'noopener', 'aria-label': `Open picture ${i + 1} it started from: ${p.name}` }, h('img', { src: withAuth(p.url), alt: '', loading: 'lazy' })),
            ),
          ),
        ),
      ),
    );
  }
  body.append(h('p', { class: `status state-${m.state}`, 'data-testid': 'status' }, m.status));
  if (m.state === 'running') {
    body.append(
      m.percent === undefined
        ? h('progress', { class: 'bar', 'aria-label': 'Progress' })
        : h('progress', { class: 'bar', max: '100', value: String(m.percent), 'aria-label': `Progress ${m.percent}%` }),
    );
  }
  if (m.previewUrl) body.append(h('img', { class: 'preview', src: withAuth(m.previewUrl), alt: 'Preview of the images so far' }));
  if (m.error && m.state === 'failed') body.append(h('p', { class: 'error-text' }, m.error));
  for (const n of m.notes) body.append(h('p', { class: 'note' }, n));

  if (m.images.length > 0) {
    const main = m.gridUrl ?? m.images[0].url;
    body.append(
      h(
        'button',
        { type: 'button', class: 'result', 'aria-label': m.images.length > 1 ? 'Open image 1 full size' : 'Open the image full size', on: { click: () => actions.view(m, 0) } },
        h('img', { class: 'grid', src: withAuth(main), alt: `${m.images.length > 1 ? 'Grid of images' : 'Image'} for “${m.prompt}”`, loading: 'lazy' }),
      ),
    );
    if (m.images.length > 1) {
      body.append(
        h(
          'ul',
          { class: 'thumbs', 'aria-label': 'Images' },
          m.images.map((img, i) =>
            h(
              'li',
              {},
              h('button', { type: 'button', class: 'thumb', 'aria-label': `Open image ${img.index} full size`, on: { click: () => actions.view(m, i) } }, h('img', { src: withAuth(img.url), alt: '', loading: 'lazy' })),
              h('a', { class: 'dl', href: withAuth(img.downloadUrl), download: '', 'aria-label': `Download image ${img.index}` }, '⬇'),
            ),
          ),
        ),
      );
    }
  }

  for (const row of m.buttons) {
    body.append(
      h(
        'div',
        { class: 'button-row', role: 'group', 'aria-label': 'Actions' },
        row.map((b) =>
          h(
            'button',
            { type: 'button', class: `action ${b.style}`, 'data-kind': b.kind, 'aria-label': b.emoji ? b.label : undefined, title: b.label, on: { click: (e) => actions.press(b, m, e.currentTarget) } },
            b.emoji ? h('span', { 'aria-hidden': 'true' }, b.emoji) : b.label,
            b.emoji && (b.kind === 'remix' || b.kind === 'cancel') ? h('span', { class: 'action-label' }, b.label) : undefined,
          ),
        ),
      ),
    );
  }
  if (m.footer) body.append(h('p', { class: 'footer' }, m.footer));
  return h('article', { class: `msg job state-${m.state}`, id: `m-${m.id}`, 'data-job': m.id, 'data-state': m.state, 'aria-busy': m.state === 'queued' || m.state === 'running' ? 'true' : undefined, 'aria-label': `${m.attribution}: ${m.prompt}` }, h('div', { class: 'avatar bot', 'aria-hidden': 'true' }, 'A'), body);
}

/** A command's public answer, or (ephemeral) something only I see, such as an error or ℹ️ details. */
export function textMessage(m, ephemeral, onDismiss) {
  const body = h('div', { class: 'msg-body' }, header('Atelier', m.createdAt, true));
  if (m.invokedBy) body.append(h('p', { class: 'invoked' }, `${m.invokedBy.name} used `, h('code', {}, m.invokedBy.command)));
  body.append(h('pre', { class: 'text' }, m.text));
  if (ephemeral) {
    body.append(
      h(
        'p',
        { class: 'ephemeral-note' },
        '👁 Only you can see this · ',
        h('button', { type: 'button', class: 'link', on: { click: onDismiss } }, 'Dismiss message'),
      ),
    );
  }
  return h('article', { class: `msg text${ephemeral ? ' ephemeral' : ''}`, id: `m-${m.id}` }, h('div', { class: 'avatar bot', 'aria-hidden': 'true' }, 'A'), body);
}
