import type { ChildProcess } from 'node:child_process';
import { countJobs, sigkill, spawnApp } from './spawn-app.ts';
import { SelfHostedFakes } from './self-hosted.ts';
import { createMessageWatch, describeMessages } from './message-watch.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIInteraction } from 'discord-api-types/v10';
import type { Ack, ContractDriver, TestImage, TestUser, ViewMessage } from './driver.ts';
import { alice, bob, mod } from './driver.ts';
import { FakeDiscord, type FakeMessage } from '../fakes/discord/fake-discord.ts';
import { buttonPress, modalSubmit, ping, slashCommand, slashCommandWithFiles, type FakeMember } from '../fakes/discord/interactions.ts';

export type DiscordMode = 'http' | 'gateway';

/**
 * Discord as the contract suite sees it: the app runs as a child process (so it can be SIGKILLed and
 * restarted on the same data) against the loopback fake; commands and presses are real interaction
 * payloads, delivered signed over HTTP or over the fake gateway to a real discord.js Client.
 */
export function createDiscordDriver(mode: DiscordMode): ContractDriver & { fake: FakeDiscord } {
  const fake = new FakeDiscord();
  let dataDir = '';
  const hosted = new SelfHostedFakes();
  let child: ChildProcess | undefined;
  const watch = createMessageWatch(() => messages());
  fake.onChange = () => watch.changed();
  const users = new Map([alice, bob, mod].map((u) => [u.id, u]));
  const modalSource = new Map<string, string | undefined>();

  const member = (u: TestUser): FakeMember => ({ id: u.id, name: u.name, canManage: u.canManage });

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
      DISCORD_API_URL: fake.apiUrl,
      DISCORD_TOKEN: fake.botToken,
      DISCORD_APPLICATION_ID: fake.applicationId,
      // Attachments are fetched from the fake's CDN, as from cdn.discordapp.com.
      DISCORD_CDN_URL: fake.cdnUrl,
      ...(mode === 'http' ? { DISCORD_PUBLIC_KEY: fake.keys.publicKeyHex } : {}),
    };
    const identifiedBefore = fake.gateway.identified.length;
    const { proc, url } = await spawnApp(env);
    child = proc;
    fake.interactionsUrl = `${url}/discord/interactions`;
    if (mode === 'gateway') {
      while (fake.gateway.identified.length === identifiedBefore) await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function deliver(i: APIInteraction): Promise<Ack> {
    let answer: Record<string, unknown> | undefined;
    if (mode === 'http') {
      const res = await fake.post(i);
      if (res.status !== 200) return { kind: 'rejected', status: res.status };
      answer = res.body;
    } else {
      answer = await fake.dispatch(i);
      if (!answer) return { kind: 'rejected', status: 0 };
    }
    const data = (answer?.data ?? {}) as { components?: { components?: { custom_id: string; value?: string }[] }[] };
    switch (answer?.type) {
      case 5:
        return { kind: 'deferred' };
      case 4: {
        const original = [...fake.messages.values()].reverse().find((m) => m.token === i.token);
        return { kind: 'message', message: view(original!) };
      }
      case 9: {
        const fields: Record<string, string> = {};
        for (const row of data.components ?? []) for (const c of row.components ?? []) fields[c.custom_id] = c.value ?? '';
        return { kind: 'modal', modalId: i.id, fields };
      }
      default:
        return { kind: 'update' };
    }
  }

  function view(m: FakeMessage): ViewMessage {
    const text = m.loading ? 'Atelier is thinking…' : m.content.replace(/<@!?(\d+)>/g, (_s, id: string) => `@${users.get(id)?.name ?? id}`);
    return {
      id: m.id,
      text,
      files: m.attachments.map((a) => ({ name: a.filename, bytes: a.size, ...(a.content_type ? { contentType: a.content_type } : {}) })),
      buttons: m.components.flatMap((row) => row.components.filter((c) => c.type === 2 && c.custom_id).map((c) => ({ label: c.label ?? '', ...(c.emoji?.name ? { emoji: c.emoji.name } : {}), id: c.custom_id! }))),
      ephemeral: m.ephemeral,
      ...(m.visibleTo ? { visibleTo: m.visibleTo } : {}),
      pings: m.pings,
      ...(m.dm ? { direct: true } : {}),
    };
  }

  /** The pictures as a user attaches them: each hosted on the fake CDN, in the command's attachment options. */
  function withFiles(user: TestUser, name: string, options: Record<string, string | number | boolean>, images: TestImage[], names: string[]): Promise<Ack> {
    if (images.length > names.length) throw new Error(`/${name} has ${names.length} attachment options; ${images.length} pictures given`);
    const files = Object.fromEntries(images.map((img, k) => [names[k]!, fake.hostAttachment({ name: img.name, bytes: img.bytes, contentType: img.contentType })]));
    return deliver(slashCommandWithFiles(fake.applicationId, member(user), name, options, files, fake.attachmentLimit));
  }

  const messages = () => [...fake.messages.values()].filter((m) => !m.deleted).map(view);

  return {
    name: `discord-${mode}`,
    fake,
    capabilities: { modals: true, signatures: mode === 'http', tokenExpiry: true, restart: true },
    async start() {
      await fake.start();
      await hosted.start();
      dataDir = await mkdtemp(join(tmpdir(), 'atelier-discord-'));
      await launch();
    },
    async stop() {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await fake.stop();
      await hosted.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
    command: (user, name, options) => deliver(slashCommand(fake.applicationId, member(user), name, options, fake.attachmentLimit)),
    imagineWithImages: (user, prompt, images, options = {}) => withFiles(user, 'imagine', { prompt, ...options }, images, ['image', 'image2', 'image3']),
    blend: (user, images, options = {}) => withFiles(user, 'blend', options, images, ['image1', 'image2', 'image3', 'image4', 'image5']),
    press: (user, message, button) => {
      const i = buttonPress(fake.applicationId, member(user), fake.apiMessage(message.id), button.id, fake.attachmentLimit);
      modalSource.set(i.id, message.id);
      return deliver(i);
    },
    submitModal: (user, modal, values) => {
      const sent = fake.modalOf(modal.modalId);
      if (!sent) throw new Error(`no modal was opened by interaction ${modal.modalId}`);
      const source = modalSource.get(modal.modalId);
      // Discord submits every text input of the form: those the test leaves alone keep what the form showed.
      const shown: Record<string, string> = {};
      for (const row of sent.components as { components?: { custom_id: string; value?: string }[] }[]) for (const c of row.components ?? []) shown[c.custom_id] = c.value ?? '';
      return deliver(modalSubmit(fake.applicationId, member(user), sent.custom_id, { ...shown, ...values }, source ? fake.apiMessage(source) : undefined));
    },
    messages,
    waitFor(predicate, description, timeoutMs = 20_000) {
      const lastRequests = () => fake.requests.slice(-25).map((r) => `  ${r.method} ${r.path.slice(0, 90)} ${r.status}`).join('\n');
      return watch.waitFor(predicate, description, timeoutMs, () => `messages:\n${describeMessages(messages())}\nviolations: ${fake.violations.join('\n')}\nlast requests:\n${lastRequests()}`);
    },
    jobCount: () => countJobs(dataDir),
    async killAndRestart() {
      await sigkill(child!);
      await launch();
    },
    expireTokens: () => fake.expireTokens(),
    async probeSignature(kind) {
      const res = await fake.post(ping(fake.applicationId), kind);
      return { status: res.status };
    },
  };
}
