import type { Ack, ContractDriver, TestImage, TestUser, ViewButton, ViewMessage } from './driver.ts';
import { parseRegionPercent } from '../../src/core/edits.ts';
import { alice, bob, mod } from './driver.ts';
import { contractProviders } from './providers.ts';
import { SelfHostedFakes } from './self-hosted.ts';
import { createMessageWatch, describeMessages } from './message-watch.ts';
import type { FeedEvent, TextMessage } from '../../src/platforms/web/feed.ts';
import type { JobMessage } from '../../src/platforms/web/render.ts';
import type { ApiAnswer } from '../../src/platforms/web/api.ts';
import { startPlayground, type Playground } from '../platforms/web/harness.ts';

/**
 * The playground as the contract suite sees it: the real app with the page's own HTTP API and one
 * server-sent-events stream per test user, exactly what the browser uses, without a browser.
 */
export function createWebDriver(): ContractDriver {
  let pg: Playground | undefined;
  const hosted = new SelfHostedFakes();
  const streams: AbortController[] = [];
  /** Insertion-ordered: oldest first. */
  const views = new Map<string, ViewMessage>();
  const versions = new Map<string, number>();
  const watch = createMessageWatch(() => [...views.values()]);
  const changed = () => watch.changed();
  const webUser = (u: TestUser) => ({ name: u.name, moderator: u.canManage === true });
  /** Each test user is one browser: the session cookie the server issued it, and the id it derives. */
  const sessions = new Map<string, { cookie: string; webId: string }>();
  const session = (u: TestUser) => sessions.get(u.id)!;
  const testIdOf = (webId: string) => [...sessions].find(([, s]) => s.webId === webId)?.[0] ?? webId;

  const url = (path: string) => `${pg!.url}${path}`;

  async function openSession(u: TestUser): Promise<void> {
    const res = await fetch(url('/api/session'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const cookie = res.headers.get('set-cookie')?.split(';')[0];
    const { user } = (await res.json()) as { user: { id: string } };
    if (!res.ok || !cookie) throw new Error(`/api/session answered ${res.status} without a cookie`);
    sessions.set(u.id, { cookie, webId: user.id });
  }

  async function post(user: TestUser, path: string, body: unknown): Promise<{ status: number; data: ApiAnswer & { error?: { message: string } } }> {
    const res = await fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json', cookie: session(user).cookie }, body: JSON.stringify(body) });
    return { status: res.status, data: (await res.json()) as ApiAnswer & { error?: { message: string } } };
  }

  /** Sizes of a job's files, read the way the page reads them: GET each image URL, as its owner's browser. */
  async function filesOf(m: JobMessage): Promise<ViewMessage['files']> {
    const owner = [...sessions.values()].find((s) => s.webId === m.owner.id);
    return Promise.all(
      m.images.map(async (img) => {
        const res = await fetch(url(img.url), { headers: owner ? { cookie: owner.cookie } : {} });
        const bytes = res.ok ? (await res.arrayBuffer()).byteLength : 0;
        return { name: `image-${img.index}`, bytes, contentType: res.headers.get('content-type') ?? undefined };
      }),
    );
  }

  async function showJob(m: JobMessage): Promise<void> {
    if ((versions.get(m.id) ?? -1) >= m.version) return;
    versions.set(m.id, m.version);
    const files = await filesOf(m);
    // A newer snapshot may have landed while the files were read.
    if (versions.get(m.id) !== m.version) return;
    views.set(m.id, {
      id: m.id,
      text: [m.attribution, m.prompt, m.inputsText, m.status, m.footer, ...(m.error ? [m.error] : []), ...m.notes].filter(Boolean).join('\n'),
      files,
      buttons: m.buttons.flat().map((b) => ({ label: b.label, ...(b.emoji ? { emoji: b.emoji } : {}), id: b.id })),
      ephemeral: m.private,
      ...(m.private ? { visibleTo: testIdOf(m.owner.id) } : {}),
      pings: [],
    });
    changed();
  }

  function showText(m: TextMessage): void {
    const head = m.invokedBy ? `${m.invokedBy.name} used ${m.invokedBy.command}\n` : '';
    views.set(m.id, { id: m.id, text: head + m.text, files: [], buttons: [], ephemeral: false, pings: [] });
    changed();
  }

  let localIds = 0;
  function ephemeral(user: TestUser, text: string): ViewMessage {
    const view: ViewMessage = { id: `local-${++localIds}`, text, files: [], buttons: [], ephemeral: true, visibleTo: user.id, pings: [] };
    views.set(view.id, view);
    changed();
    return view;
  }

  async function onEvent(event: FeedEvent): Promise<void> {
    if (event.type === 'hello') {
      for (const m of event.messages) await (m.kind === 'job' ? showJob(m) : showText(m));
    } else if (event.type === 'job') await showJob(event.message);
    else if (event.type === 'text') showText(event.message);
    else if (event.type === 'deleted') {
      views.delete(event.id);
      changed();
    }
  }

  /** Reads one user's event stream until stopped; events are applied in order. */
  async function follow(user: TestUser): Promise<void> {
    const abort = new AbortController();
    streams.push(abort);
    const res = await fetch(url('/api/events'), { headers: { cookie: session(user).cookie }, signal: abort.signal });
    if (!res.ok || !res.body) throw new Error(`event stream answered ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let opened!: () => void;
    const ready = new Promise<void>((r) => (opened = r));
    void (async () => {
      let buffer = '';
      let chain = Promise.resolve();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
            if (!data) continue;
            const event = JSON.parse(data) as FeedEvent;
            chain = chain.then(() => onEvent(event));
            if (event.type === 'hello') void chain.then(opened);
          }
        }
      } catch {
        // Aborted at stop.
      }
    })();
    await ready;
  }

  function ackOf(user: TestUser, status: number, data: ApiAnswer & { error?: { message: string } }): Ack {
    if (status === 401) return { kind: 'rejected', status };
    if (data.error) return { kind: 'message', message: ephemeral(user, data.error.message) };
    switch (data.type) {
      case 'job':
        void showJob(data.message);
        return { kind: 'deferred' };
      case 'text':
        return { kind: 'message', message: data.ephemeral ? ephemeral(user, data.text) : { id: 'public', text: data.text, files: [], buttons: [], ephemeral: false, pings: [] } };
      case 'remix':
        return { kind: 'modal', modalId: `remix:${data.jobId}`, fields: { prompt: data.prompt } };
      // The page's forms: the factor and an optional new prompt; the region drawn on the picture (as percent here).
      case 'zoom':
        return { kind: 'modal', modalId: `zoom:${data.index}:${data.jobId}`, fields: { zoom: '2', prompt: '' } };
      case 'region':
        return { kind: 'modal', modalId: `region:${data.index}:${data.jobId}`, fields: { region: '', prompt: '' } };
      case 'ok':
        return { kind: 'update' };
    }
  }

  /** Each picture as the page uploads it: its bytes as the body, its type and name; the ids for the command. */
  async function uploadAll(user: TestUser, images: TestImage[]): Promise<string[] | { rejected: Ack }> {
    const ids: string[] = [];
    for (const img of images) {
      const res = await fetch(url(`/api/uploads?name=${encodeURIComponent(img.name)}`), { method: 'POST', headers: { 'content-type': img.contentType, cookie: session(user).cookie }, body: new Uint8Array(img.bytes) });
      const data = (await res.json()) as { upload?: { id: string }; error?: { message: string } };
      if (res.status === 401) return { rejected: { kind: 'rejected', status: res.status } };
      if (!data.upload) return { rejected: { kind: 'message', message: ephemeral(user, data.error?.message ?? `upload answered ${res.status}`) } };
      ids.push(data.upload.id);
    }
    return ids;
  }

  /** Options as the composer takes them: the positional prompt first, then `--name value`. */
  function commandText(name: string, options: Record<string, string | number | boolean>): string {
    const quote = (v: string) => (/\s/.test(v) ? `"${v}"` : v);
    const parts = [`/${name}`];
    if (typeof options.prompt === 'string') parts.push(options.prompt);
    for (const [k, v] of Object.entries(options)) if (k !== 'prompt') parts.push(`--${k}`, quote(String(v)));
    return parts.join(' ');
  }

  return {
    name: 'playground',
    capabilities: { modals: true, signatures: false, tokenExpiry: false, restart: false },

    async start() {
      await hosted.start();
      pg = await startPlayground(hosted.env(), contractProviders);
      for (const u of [alice, bob, mod]) {
        await openSession(u);
        await follow(u);
      }
    },

    async stop() {
      for (const s of streams.splice(0)) s.abort();
      await pg?.stop();
      await hosted.close();
    },

    async command(user, name, options) {
      const { status, data } = await post(user, '/api/command', { user: webUser(user), text: commandText(name, options) });
      return ackOf(user, status, data);
    },

    // As the page does: each picture uploaded as its own body, then the command naming them.
    async imagineWithImages(user, prompt, images, options = {}) {
      const uploads = await uploadAll(user, images);
      if ('rejected' in uploads) return uploads.rejected;
      const { status, data } = await post(user, '/api/command', { user: webUser(user), text: commandText('imagine', { prompt, ...options }), uploads });
      return ackOf(user, status, data);
    },

    async blend(user, images, options = {}) {
      const uploads = await uploadAll(user, images);
      if ('rejected' in uploads) return uploads.rejected;
      const { status, data } = await post(user, '/api/command', { user: webUser(user), text: commandText('blend', options), uploads });
      return ackOf(user, status, data);
    },

    async press(user, _message, button: ViewButton) {
      const { status, data } = await post(user, '/api/press', { user: webUser(user), id: button.id });
      return ackOf(user, status, data);
    },

    async submitModal(user, modal, values) {
      const [form, ...rest] = modal.modalId.split(':');
      const fields = { ...modal.fields, ...values };
      let sent;
      if (form === 'remix') sent = await post(user, '/api/remix', { user: webUser(user), jobId: rest.join(':'), prompt: fields.prompt });
      else {
        const [index, ...id] = rest;
        const common = { user: webUser(user), jobId: id.join(':'), index: Number(index), prompt: fields.prompt ?? '' };
        // The page sends the rectangle drawn on the picture as fractions; a test gives it in percent, as the other platforms' forms take it.
        sent = form === 'zoom' ? await post(user, '/api/zoom', { ...common, factor: fields.zoom }) : await post(user, '/api/region', { ...common, region: parseRegionPercent(fields.region ?? '') });
      }
      return ackOf(user, sent.status, sent.data);
    },

    messages: () => [...views.values()],

    waitFor(predicate, description, timeoutMs = 20_000) {
      return watch.waitFor(predicate, description, timeoutMs, () => `saw:\n${describeMessages([...views.values()])}`);
    },

    async jobCount() {
      return (await pg!.atelier.store.listJobs({})).length;
    },
  };
}
