import type { ChildProcess } from 'node:child_process';
import { countJobs, sigkill, spawnApp } from './spawn-app.ts';
import { describeMessages } from './message-watch.ts';
import { SelfHostedFakes } from './self-hosted.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alice, bob, mod, type Ack, type ContractDriver, type TestImage, type TestUser, type ViewButton, type ViewMessage } from './driver.ts';
import { SocketModeFake } from '../fakes/slack/socket-mode-fake.ts';
import { BOT_TOKEN, SIGNING_SECRET, SlackFake, blockActionBody, postSigned, slashCommandBody, viewSubmissionBody, type FakeUser, type SlackMessage } from '../fakes/slack/slack-fake.ts';

interface OpenedView {
  id: string;
  callback_id: string;
  private_metadata: string;
  blocks: { type: string; block_id?: string; element?: { type?: string; action_id?: string; initial_value?: string; options?: { text: unknown; value: string }[] } }[];
}

/** Buttons whose press opens a form (FORM_BUTTONS in src/core/present.ts), as a user sees them. */
const FORM_LABELS = new Set(['Remix', 'Custom Zoom', 'Vary (Region)']);

/**
 * A submitted view's `state.values` as Slack builds it: every input block, keyed by block_id then action_id,
 * with the element's type and its value, or null / empty when left blank (docs.slack.dev view_submission
 * payload; @slack/bolt ViewStateValue; the captured payload in talosgh/omega-slackbot:tmp.py, where a file
 * input's value is `files`). A select can only submit one of its own options.
 */
function stateFor(view: OpenedView, values: Record<string, string | number | boolean>, files: Record<string, unknown[]> = {}): Record<string, Record<string, unknown>> {
  const state: Record<string, Record<string, unknown>> = {};
  for (const b of view.blocks) {
    if (b.type !== 'input' || !b.block_id || !b.element) continue;
    const e = b.element;
    const action = e.action_id ?? b.block_id;
    const given = values[b.block_id];
    let v: Record<string, unknown>;
    switch (e.type) {
      case 'file_input':
        v = { type: 'file_input', files: files[b.block_id] ?? [] };
        break;
      case 'static_select': {
        const chosen = given === undefined ? undefined : e.options?.find((o) => o.value === String(given));
        if (given !== undefined && !chosen) throw new Error(`${b.block_id} offers ${e.options?.map((o) => o.value).join(', ')}, not ${String(given)}`);
        v = { type: 'static_select', selected_option: chosen ?? null };
        break;
      }
      case 'checkboxes': {
        const on = given === true || given === 'true';
        v = { type: 'checkboxes', selected_options: on ? (e.options ?? []).slice(0, 1) : [] };
        break;
      }
      default:
        v = { type: e.type ?? 'plain_text_input', value: given === undefined || given === '' ? null : String(given) };
    }
    state[b.block_id] = { [action]: v };
  }
  return state;
}

/**
 * The contract suite's Slack: the app in a child process (HTTP mode) against the emulator behind the
 * spec-checking proxy. Commands, presses and submissions are POSTed signed, as Slack sends them; what
 * users see is read back from the emulator (channel, threads) and the proxy (ephemeral answers).
 */
export function createSlackDriver(mode: 'http' | 'socket' = 'http'): ContractDriver & { fake: SlackFake } {
  const fake = new SlackFake();
  const socket = mode === 'socket' ? new SocketModeFake() : undefined;
  let dataDir = '';
  const hosted = new SelfHostedFakes();
  let child: ChildProcess | undefined;
  let eventsUrl = '';
  let snapshot: ViewMessage[] = [];
  let poller: ReturnType<typeof setInterval> | undefined;
  const threadFiles = new Map<string, ViewMessage['files']>();
  /** response_url id -> who it answers. */
  const responseOwners = new Map<string, TestUser>();
  const views = new Map<string, OpenedView>();

  const fakeUser = (u: TestUser): FakeUser => (u.id === alice.id ? fake.users.alice : u.id === bob.id ? fake.users.bob : u.id === mod.id ? fake.users.mod : { id: u.id, name: u.name });
  const testUserByFakeId = (id: string): TestUser | undefined => [alice, bob, mod].find((u) => fakeUser(u).id === id);

  async function launch(): Promise<void> {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      PLAYGROUND: 'off',
      LOG_LEVEL: 'silent',
      ...hosted.env(),
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      SLACK_FILES_URL: fake.files.url,
      ...(socket ? { SLACK_APP_TOKEN: 'xapp-1-A000000001-contract' } : {}),
    };
    const connectionsBefore = socket?.connections ?? 0;
    const { proc, url } = await spawnApp(env);
    child = proc;
    eventsUrl = `${url}/slack/events`;
    await socket?.connected(30_000, connectionsBefore + 1);
  }

  /**
   * One request as Slack delivers it: a signed HTTP POST, or in Socket Mode an envelope whose ack
   * payload plays the part of the HTTP answer.
   */
  async function deliver(formBody: string): Promise<{ status: number; body: string }> {
    if (!socket) return postSigned(eventsUrl, formBody);
    const form = Object.fromEntries(new URLSearchParams(formBody));
    const interactive = typeof form.payload === 'string';
    const ack = await socket.send(interactive ? 'interactive' : 'slash_commands', interactive ? (JSON.parse(form.payload!) as Record<string, unknown>) : form);
    const payload = ack.payload ?? {};
    return { status: 200, body: Object.keys(payload).length ? JSON.stringify(payload) : '' };
  }

  const textOf = (m: SlackMessage): string =>
    [m.text ?? '', ...(m.blocks ?? []).filter((b) => b.type !== 'actions').flatMap((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : (e.text?.text ?? '')))])].join('\n');

  function buttonsOf(m: SlackMessage): ViewButton[] {
    return (m.blocks ?? [])
      .filter((b) => b.type === 'actions')
      .flatMap((b) => b.elements ?? [])
      .map((e) => {
        const text = typeof e.text === 'string' ? e.text : (e.text?.text ?? '');
        const sp = text.indexOf(' ');
        const first = sp > 0 ? text.slice(0, sp) : '';
        const emoji = first && !/^[\w]/.test(first) ? first : undefined;
        return { id: e.action_id!, label: emoji ? text.slice(sp + 1) : text, ...(emoji ? { emoji } : {}) };
      });
  }

  const pingsOf = (text: string): string[] => [...text.matchAll(/<@(U\w+)>/g)].map((m) => testUserByFakeId(m[1]!)?.id ?? m[1]!);

  async function refresh(): Promise<void> {
    const history = await fake.history();
    const channel: ViewMessage[] = [];
    for (const m of history) {
      if (m.user !== fake.users.bot.id) continue;
      let files = threadFiles.get(m.ts);
      if (!files) {
        const replies = await fake.replies(m.ts);
        const found = replies.flatMap((r) => r.files ?? []).map((f) => ({ name: f.name, bytes: f.size ?? 0, ...(f.mimetype ? { contentType: f.mimetype } : {}) }));
        files = found;
        // Files are uploaded once, all together: once seen they do not change.
        if (found.length) threadFiles.set(m.ts, found);
      }
      const text = textOf(m);
      channel.push({ id: m.ts, text, files, buttons: buttonsOf(m), ephemeral: false, pings: pingsOf(m.text ?? '') });
    }
    const ephemeral: ViewMessage[] = [];
    for (const r of fake.proxy.responses) {
      const owner = responseOwners.get(r.id);
      const text = String(r.body.text ?? '');
      ephemeral.push({ id: `resp-${r.id}-${ephemeral.length}`, text, files: [], buttons: [], ephemeral: r.body.response_type !== 'in_channel', ...(owner ? { visibleTo: owner.id } : {}), pings: [] });
    }
    fake.proxy.callsOf('chat.postEphemeral').forEach((c, i) => {
      if (!c.answer.ok) return;
      const owner = testUserByFakeId(String(c.args.user));
      ephemeral.push({ id: `eph-${i}`, text: String(c.args.text ?? ''), files: [], buttons: [], ephemeral: true, ...(owner ? { visibleTo: owner.id } : {}), pings: [] });
    });
    snapshot = [...channel, ...ephemeral];
  }

  async function commandAck(res: { status: number; body: string }, user: TestUser): Promise<Ack> {
    if (res.status !== 200) return { kind: 'rejected', status: res.status };
    if (!res.body) return { kind: 'deferred' };
    const body = JSON.parse(res.body) as { text?: string; response_type?: string };
    return { kind: 'message', message: { id: `ack-${Date.now()}`, text: body.text ?? '', files: [], buttons: [], ephemeral: body.response_type !== 'in_channel', visibleTo: user.id, pings: [] } };
  }

  /** Slash command text the way a person types it: the prompt, then `--option value`. */
  function commandText(options: Record<string, string | number | boolean>): string {
    const parts: string[] = [];
    if (typeof options.prompt === 'string') parts.push(options.prompt);
    for (const [k, v] of Object.entries(options)) {
      if (k === 'prompt') continue;
      const value = String(v);
      parts.push(`--${k}`, /\s/.test(value) ? `"${value}"` : value);
    }
    return parts.join(' ');
  }

  async function waitForNewView(before: number, timeoutMs = 5_000): Promise<OpenedView | undefined> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const opened = fake.proxy.callsOf('views.open').slice(before).find((c) => c.answer.ok);
      if (opened) return opened.answer.view as OpenedView;
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  }

  async function submit(user: TestUser, view: OpenedView, values: Record<string, string | number | boolean>, files: Record<string, unknown[]> = {}): Promise<Ack> {
    const res = await deliver(viewSubmissionBody({ user: fakeUser(user), teamId: fake.teamId, view, values: stateFor(view, values, files) }));
    if (res.status !== 200) return { kind: 'rejected', status: res.status };
    if (!res.body) return { kind: 'deferred' };
    const body = JSON.parse(res.body) as { errors?: Record<string, string> };
    return { kind: 'message', message: { id: `ack-${Date.now()}`, text: Object.values(body.errors ?? {}).join('\n'), files: [], buttons: [], ephemeral: true, visibleTo: user.id, pings: [] } };
  }

  async function viaForm(user: TestUser, name: string, images: TestImage[], values: Record<string, string | number | boolean>): Promise<Ack> {
    const before = fake.proxy.callsOf('views.open').length;
    const opened = await driver.command(user, name, {});
    if (opened.kind !== 'deferred') return opened;
    const view = await waitForNewView(before);
    if (!view) throw new Error(`/${name} opened no form; violations: ${fake.proxy.violations.join('\n')}`);
    const files = images.map((img) => fake.files.add(fakeUser(user).id, { name: img.name, bytes: img.bytes }));
    return submit(user, view, values, { images: files });
  }

  const driver: ContractDriver & { fake: SlackFake } = {
    name: socket ? 'slack (socket mode)' : 'slack',
    fake,
    capabilities: { modals: true, signatures: !socket, tokenExpiry: false, restart: true },
    async start() {
      await fake.start();
      await hosted.start();
      if (socket) fake.proxy.socketUrl = await socket.listen();
      dataDir = await mkdtemp(join(tmpdir(), 'atelier-slack-contract-'));
      await launch();
      poller = setInterval(() => void refresh().catch(() => undefined), 150);
    },
    async stop() {
      if (poller) clearInterval(poller);
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await socket?.close();
      await fake.stop();
      await hosted.close();
      await rm(dataDir, { recursive: true, force: true });
    },
    async command(user, name, options) {
      const response = fake.responseUrl();
      responseOwners.set(response.id, user);
      const u = fakeUser(user);
      const body = slashCommandBody({ command: `/${name}`, text: commandText(options), user: u, teamId: fake.teamId, channel: fake.channel, triggerId: await fake.triggerFor(u.id), responseUrl: response.url });
      return commandAck(await deliver(body), user);
    },
    // Slack's way: the command opens a form, the user uploads the pictures into its file input (Slack stores
    // them on files.slack.com, here the fake's file host), then submits.
    imagineWithImages: (user, prompt, images, options = {}) => viaForm(user, 'imagine', images, { prompt, ...options }),
    blend: (user, images, options = {}) => viaForm(user, 'blend', images, options),
    async press(user, message, button) {
      const response = fake.responseUrl();
      responseOwners.set(response.id, user);
      const u = fakeUser(user);
      const viewsBefore = fake.proxy.callsOf('views.open').length;
      const body = blockActionBody({ user: u, teamId: fake.teamId, channel: fake.channel, messageTs: message.id, actionId: button.id, triggerId: await fake.triggerFor(u.id), responseUrl: response.url });
      const res = await deliver(body);
      if (res.status !== 200) return { kind: 'rejected', status: res.status };
      if (FORM_LABELS.has(button.label)) {
        const view = await waitForNewView(viewsBefore);
        if (view) {
          views.set(view.id, view);
          const fields: Record<string, string> = {};
          for (const b of view.blocks) if (b.type === 'input' && b.block_id) fields[b.block_id] = b.element?.initial_value ?? '';
          return { kind: 'modal', modalId: view.id, fields };
        }
      }
      return { kind: 'update' };
    },
    async submitModal(user, modal, values) {
      const view = views.get(modal.modalId);
      if (!view) throw new Error(`no open modal ${modal.modalId}`);
      return submit(user, view, { ...modal.fields, ...values });
    },
    messages: () => snapshot,
    async waitFor(predicate, description, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        await refresh();
        const hit = snapshot.find(predicate);
        if (hit) return hit;
        if (Date.now() > end) {
          throw new Error(`timed out waiting for ${description}; messages:\n${describeMessages(snapshot)}\nviolations: ${fake.proxy.violations.join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    jobCount: () => countJobs(dataDir),
    async killAndRestart() {
      await sigkill(child!);
      await launch();
    },
    async probeSignature(kind) {
      const u = fake.users.alice;
      const body = slashCommandBody({ command: '/help', text: '', user: u, teamId: fake.teamId, channel: fake.channel, triggerId: 'unused', responseUrl: fake.responseUrl().url });
      const now = Math.floor(Date.now() / 1000);
      const opts = kind === 'forged' ? { secret: 'not-the-secret' } : kind === 'stale' ? { timestamp: now - 600 } : kind === 'future' ? { timestamp: now + 600 } : {};
      return { status: (await postSigned(eventsUrl, body, opts)).status };
    },
  };
  return driver;
}
