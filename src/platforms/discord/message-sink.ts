import type { REST, RawFile } from '@discordjs/rest';
import { Routes, type APIMessage, type APIChannel } from 'discord-api-types/v10';
import type { Atelier } from '../../core/atelier.ts';
import { isFinal, supersedes, type Job } from '../../core/job.ts';
import type { ImageTools, Logger } from '../../core/ports.ts';
import type { ChannelBudget } from './channel-budget.ts';
import { inputThumbnails, MAX_FILES, previewFile, renamed, resultFiles } from './job-files.ts';
import { saveRef, type DiscordMessageRef } from './message-ref.ts';
import { render, type DiscordPayload, type RenderFile } from './render.ts';
import { CODES, discordCode, httpStatus, isRateLimit, settled } from './rest.ts';

/** Discord: interaction tokens live 15 minutes; we stop using one a minute early so no write races its death. */
export const TOKEN_LIFETIME_MS = 15 * 60_000;
export const TOKEN_MARGIN_MS = 60_000;
/** At most one edit per message this often; in-between states are coalesced into the next edit. */
export const MIN_EDIT_INTERVAL_MS = 1_500;
const FINAL_ATTEMPTS = 3;

export interface SinkDeps {
  rest: REST;
  atelier: Atelier;
  images: ImageTools;
  logger: Logger;
  budget: ChannelBudget;
  /** Without a bot token there is no fallback once the interaction token is gone. */
  hasBotToken: boolean;
  now?: () => number;
  minIntervalMs?: number;
  /** The smallest per-file size worth re-encoding to when Discord refuses files as too large. */
  minFileBytes?: number;
}

/** Below this a 2×2 grid is no longer worth looking at: a message goes without files rather than with mush. */
export const MIN_FILE_BYTES = 256 * 1024;

/** Capabilities used to draw buttons when a job's provider is no longer configured: offer nothing it can't do. */
/**
 * One job's message on Discord. Job snapshots are pushed in; at most one write is in flight and at most
 * one happens per `minIntervalMs`, always of the newest snapshot. Once a final state is written nothing
 * older can overwrite it. Writes go through the interaction webhook while its token lives, then through
 * the bot token (channel messages within a per-channel budget), and a private result whose token died
 * goes by DM.
 */
export class JobMessage {
  private latest?: Job;
  /** What was last written: a version and, while waiting, the place in line it showed. */
  private sent: Pick<Job, 'version' | 'progress'> = { version: -1, progress: {} };
  private sentFinal = false;
  private timer?: ReturnType<typeof setTimeout>;
  private flight?: Promise<void>;
  private lastWriteAt = 0;
  private finalFiles?: RenderFile[];
  private thumbnails?: RenderFile[];
  private deleted = false;
  private readonly now: () => number;
  private readonly interval: number;

  constructor(
    private readonly deps: SinkDeps,
    readonly jobId: string,
    private ref: DiscordMessageRef,
  ) {
    this.now = deps.now ?? Date.now;
    this.interval = deps.minIntervalMs ?? MIN_EDIT_INTERVAL_MS;
  }

  get messageRef(): DiscordMessageRef {
    return this.ref;
  }

  push(job: Job): void {
    if (this.deleted || this.sentFinal) return;
    if (this.latest && (!supersedes(job, this.latest) || (isFinal(this.latest.state) && !isFinal(job.state)))) return;
    this.latest = job;
    this.schedule();
  }

  /** Resolves when every snapshot pushed so far has been written (or given up on). */
  async idle(): Promise<void> {
    while (this.timer || this.flight) {
      if (this.flight) await this.flight;
      else await new Promise((r) => setTimeout(r, Math.max(0, this.lastWriteAt + this.interval - this.now()) + 1));
    }
  }

  get finished(): boolean {
    return this.sentFinal || this.deleted;
  }

  private schedule(): void {
    if (this.timer || this.flight || this.deleted) return;
    // The final state goes at once: it is the last write of this message, the one the user waits for, and
    // the REST client still queues it behind a rate limit if Discord asks. Progress edits are coalesced.
    const final = this.latest !== undefined && isFinal(this.latest.state);
    const wait = final ? 0 : Math.max(0, this.lastWriteAt + this.interval - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flight = this.flush().finally(() => {
        this.flight = undefined;
        if (this.latest && supersedes(this.latest, this.sent) && !this.sentFinal) this.schedule();
      });
    }, wait);
  }

  private async flush(): Promise<void> {
    const job = this.latest;
    if (!job || !supersedes(job, this.sent) || this.deleted) return;
    const final = isFinal(job.state);
    for (let attempt = 1; ; attempt++) {
      try {
        const payload = await this.payload(job);
        if (this.deleted) return;
        // Another process (the worker running the job) may already have written the result: a progress
        // snapshot from here must not land on top of it.
        if (!final && (await this.supersededInStore(job))) {
          this.sent = job;
          return;
        }
        await this.write(payload, job, final);
        break;
      } catch (err) {
        this.lastWriteAt = this.now();
        // A progress edit that fails is superseded by the next one; the final state is worth retrying.
        if (!final || attempt >= FINAL_ATTEMPTS) {
          this.deps.logger.warn({ jobId: this.jobId, code: discordCode(err), status: httpStatus(err), err: errText(err) }, 'discord: message write failed');
          if (final) this.sentFinal = true;
          this.sent = job;
          return;
        }
        const wait = isRateLimit(err) ? Math.min(err.retryAfter, 60_000) : 1_000 * attempt;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    this.sent = job;
    if (final) this.sentFinal = true;
    this.lastWriteAt = this.now();
  }

  private async supersededInStore(job: Job): Promise<boolean> {
    const stored = await this.deps.atelier.getJob(this.jobId).catch(() => undefined);
    return Boolean(stored && stored.version > job.version && isFinal(stored.state));
  }

  private async payload(job: Job): Promise<DiscordPayload> {
    const { atelier, images } = this.deps;
    let files: RenderFile[] = [];
    // The user's pictures go with every state of the message: made small once, uploaded with the first write of a
    // message, and kept by id on its later edits (see `keeping`).
    const thumbnails = (this.thumbnails ??= await inputThumbnails(atelier, images, job, this.ref.attachmentLimit).catch((err: unknown) => {
      this.deps.logger.warn({ jobId: this.jobId, err: errText(err) }, 'discord: no thumbnails of the job\'s pictures');
      return [];
    }));
    if (job.state === 'succeeded') files = this.finalFiles ??= await resultFiles(atelier, images, job, this.ref.attachmentLimit, MAX_FILES - thumbnails.length);
    else if (job.state === 'running') {
      const p = await previewFile(atelier, job, this.ref.attachmentLimit).catch(() => undefined);
      if (p) files = [p];
    }
    return render(job, files, atelier.providers.capabilities(job.provider), undefined, thumbnails);
  }

  private tokenAlive(): boolean {
    return Boolean(!this.ref.viaBot && this.ref.token && this.now() - this.ref.tokenIssuedAt < TOKEN_LIFETIME_MS - TOKEN_MARGIN_MS);
  }

  private async write(payload: DiscordPayload, job: Job, final: boolean): Promise<void> {
    // Editing a message never pings; a result that should ping its requester is posted anew instead.
    const fresh = final && (payload.allowed_mentions.users?.length ?? 0) > 0 && !this.ref.ephemeral;
    if (this.tokenAlive()) {
      try {
        await this.withFallbacks(payload, (p) => settled(() => this.writeWebhook(p, fresh), this.ref.tokenIssuedAt, this.now));
        return;
      } catch (err) {
        if (!tokenRefused(err)) throw err;
        this.deps.logger.info({ jobId: this.jobId, code: discordCode(err) }, 'discord: interaction token refused; continuing with the bot token');
      }
    }
    if (!this.ref.viaBot) {
      this.ref.viaBot = true;
      await saveRef(this.deps.atelier.store, this.jobId, this.ref);
    }
    if (!this.deps.hasBotToken) {
      if (final) this.deps.logger.warn({ jobId: this.jobId }, 'discord: result could not be delivered: the interaction token expired and no DISCORD_TOKEN is set');
      return;
    }
    if (this.ref.ephemeral) {
      // An ephemeral message can be reached only through its token; a private result goes by DM instead.
      if (final) await this.deliverByDm(payload, job);
      return;
    }
    await this.withFallbacks(payload, (p) => this.writeChannel(p, fresh));
  }

  /**
   * Missing Attach Files (50013): deliver without the files, and say so. Files too large (40005, 413):
   * the cap Discord applies here is smaller than the one it announced, so re-encode every file smaller,
   * halving down to a floor, and say what was sent.
   */
  private async withFallbacks(payload: DiscordPayload, send: (p: DiscordPayload) => Promise<void>): Promise<void> {
    try {
      await send(payload);
    } catch (err) {
      const code = discordCode(err);
      if (payload.files.length === 0 || (code !== CODES.missingPermissions && !tooLarge(err))) throw err;
      if (code === CODES.missingPermissions) {
        await send(withoutFiles(payload, "⚠️ I can't attach images in this channel: give me the **Attach Files** permission here, or press ℹ️ for details."));
        return;
      }
      await this.sendSmaller(payload, send);
    }
  }

  private async sendSmaller(payload: DiscordPayload, send: (p: DiscordPayload) => Promise<void>): Promise<void> {
    const floor = this.deps.minFileBytes ?? MIN_FILE_BYTES;
    const largest = Math.max(...payload.files.map((f) => f.data.length));
    for (let limit = Math.floor(largest / 2); limit >= floor; limit = Math.floor(limit / 2)) {
      const files = await Promise.all(payload.files.map((f) => this.refit(f, limit)));
      if (files.some((f) => !f)) break;
      const note = `-# Discord refused these images at full size here, so they are re-encoded to at most ${kib(limit)} each.`;
      try {
        await send(withFiles(payload, files as RenderFile[], note));
      } catch (err) {
        if (!tooLarge(err)) throw err;
        continue;
      }
      // Later writes of this message start from the size that worked.
      await this.remember({ attachmentLimit: limit });
      return;
    }
    await send(withoutFiles(payload, `⚠️ Discord refused these images here even re-encoded down to ${kib(floor)} each, so this message carries none. Press ℹ️ for the details of the job.`));
  }

  private async refit(f: RenderFile, limit: number): Promise<RenderFile | undefined> {
    if (f.data.length <= limit) return f;
    try {
      const fitted = await this.deps.images.fit(f.data, limit);
      return { ...f, name: renamed(f.name, fitted.mime), data: fitted.bytes, contentType: fitted.mime };
    } catch (err) {
      this.deps.logger.warn({ jobId: this.jobId, limit, err: errText(err) }, 'discord: an image could not be re-encoded that small');
      return undefined;
    }
  }

  private async writeWebhook(p: DiscordPayload, fresh: boolean): Promise<void> {
    const { rest } = this.deps;
    const { applicationId: app, token } = this.ref;
    if (this.ref.webhookMessage && !fresh) {
      const edit = this.keeping(p, this.ref.messageId);
      const msg = (await rest.patch(Routes.webhookMessage(app, token!, this.ref.webhookMessage), { body: editBody(edit), files: toRaw(edit.files), auth: false })) as APIMessage;
      if (this.ref.messageId !== msg.id) await this.remember({ messageId: msg.id });
      await this.noteThumbnails(msg);
      return;
    }
    const old = this.ref.webhookMessage;
    const msg = (await rest.post(Routes.webhook(app, token!), { body: createBody(p), files: toRaw(p.files), auth: false, query: new URLSearchParams({ wait: 'true' }) })) as APIMessage;
    await this.remember({ webhookMessage: msg.id, messageId: msg.id });
    await this.noteThumbnails(msg);
    if (old) await rest.delete(Routes.webhookMessage(app, token!, old), { auth: false }).catch(() => undefined);
  }

  private async writeChannel(p: DiscordPayload, fresh: boolean): Promise<void> {
    const { rest, budget } = this.deps;
    await budget.take(this.ref.channelId);
    const old = this.ref.messageId;
    if (old && !fresh) {
      try {
        const edit = this.keeping(p, old);
        const msg = (await rest.patch(Routes.channelMessage(this.ref.channelId, old), { body: editBody(edit), files: toRaw(edit.files) })) as APIMessage;
        await this.noteThumbnails(msg);
        return;
      } catch (err) {
        // Someone deleted our message: post the state anew rather than lose it.
        if (discordCode(err) !== CODES.unknownMessage) throw err;
      }
    }
    const msg = (await rest.post(Routes.channelMessages(this.ref.channelId), { body: createBody({ ...p, flags: undefined }), files: toRaw(p.files) })) as APIMessage;
    await this.remember({ messageId: msg.id, webhookMessage: undefined });
    await this.noteThumbnails(msg);
    if (old && fresh) await rest.delete(Routes.channelMessage(this.ref.channelId, old)).catch(() => undefined);
  }

  /**
   * An edit of `messageId` that keeps the thumbnails it already carries: listed in `attachments` by their ids and
   * not uploaded again, and the embeds that show them left out (a PATCH changes only the fields it names). Discord
   * keeps exactly the attachments an edit lists (discord-api-types RESTPatchAPIChannelMessageJSONBody: "must
   * contain all attachments that should be present after edit, including retained and new"), so a kept file
   * missing from the list would be removed. Anything else (a new message, thumbnails not all up) uploads them.
   */
  private keeping(p: DiscordPayload, messageId: string | undefined): DiscordPayload {
    const kept = this.ref.thumbnailIds;
    const names = new Set((this.thumbnails ?? []).map((t) => t.name));
    const ours = p.files.filter((f) => names.has(f.name));
    if (!kept || !messageId || kept.messageId !== messageId || !ours.length || !ours.every((f) => Object.hasOwn(kept.ids, f.name))) return p;
    const files = p.files.filter((f) => !names.has(f.name));
    return {
      ...p,
      files,
      attachments: [...files.map((f, i) => ({ id: String(i), filename: f.name, ...(f.description ? { description: f.description } : {}) })), ...ours.map((f) => ({ id: kept.ids[f.name]! }))],
      embeds: undefined,
    };
  }

  /** Which thumbnails the message now carries (none after a write without files), for the next edit to keep. */
  private async noteThumbnails(msg: APIMessage): Promise<void> {
    const names = new Set((this.thumbnails ?? []).map((t) => t.name));
    if (!names.size) return;
    const ids = Object.fromEntries((msg.attachments ?? []).filter((a) => names.has(a.filename)).map((a) => [a.filename, a.id]));
    const before = this.ref.thumbnailIds;
    if (before?.messageId === msg.id && JSON.stringify(before.ids) === JSON.stringify(ids)) return;
    await this.remember({ thumbnailIds: { messageId: msg.id, ids } });
  }

  private async deliverByDm(p: DiscordPayload, job: Job): Promise<void> {
    const { rest, logger } = this.deps;
    try {
      if (!this.ref.dmChannelId) {
        const dm = (await rest.post(Routes.userChannels(), { body: { recipient_id: job.owner.userId } })) as APIChannel;
        await this.remember({ dmChannelId: dm.id });
      }
      const note = '-# Your private result outlived its 15-minute reply window in the channel, so here it is by DM.';
      await rest.post(Routes.channelMessages(this.ref.dmChannelId!), { body: createBody({ ...p, content: `${p.content}\n${note}`.slice(0, 2000), flags: undefined }), files: toRaw(p.files) });
    } catch (err) {
      if (discordCode(err) !== CODES.cannotDmUser) throw err;
      logger.warn({ jobId: this.jobId }, 'discord: private result could not be delivered: its token expired and the user does not accept DMs');
    }
  }

  /** Removes the message (the job was deleted). */
  async remove(): Promise<void> {
    this.deleted = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flight;
    const { rest } = this.deps;
    const ignoreGone = (err: unknown) => {
      if (discordCode(err) !== CODES.unknownMessage) throw err;
    };
    if (this.tokenAlive() && this.ref.webhookMessage) {
      try {
        await rest.delete(Routes.webhookMessage(this.ref.applicationId, this.ref.token!, this.ref.webhookMessage), { auth: false });
        return;
      } catch (err) {
        if (!tokenRefused(err)) return ignoreGone(err);
      }
    }
    if (this.ref.messageId && !this.ref.ephemeral && this.deps.hasBotToken) {
      await this.deps.budget.take(this.ref.channelId);
      await rest.delete(Routes.channelMessage(this.ref.channelId, this.ref.messageId)).catch(ignoreGone);
    }
  }

  private async remember(patch: Partial<DiscordMessageRef>): Promise<void> {
    this.ref = { ...this.ref, ...patch };
    await saveRef(this.deps.atelier.store, this.jobId, this.ref);
  }
}

/** The interaction token is dead: expired (50027), its webhook unknown (10015), or refused outright. */
export function tokenRefused(err: unknown): boolean {
  const code = discordCode(err);
  return code === CODES.invalidWebhookToken || code === CODES.unknownWebhook || code === CODES.unknownInteraction || httpStatus(err) === 401;
}

const tooLarge = (err: unknown): boolean => discordCode(err) === CODES.entityTooLarge || httpStatus(err) === 413;
const kib = (bytes: number): string => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.floor(bytes / 1024)} KiB`);

function withFiles(p: DiscordPayload, files: RenderFile[], note: string): DiscordPayload {
  return {
    ...p,
    content: `${p.content}\n${note}`.slice(0, 2000),
    files,
    attachments: files.map((f, i) => ({ id: String(i), filename: f.name, ...(f.description ? { description: f.description } : {}) })),
  };
}

function withoutFiles(p: DiscordPayload, why: string): DiscordPayload {
  // The thumbnails' embeds point at files no longer sent: they go too; the text still names the pictures.
  return { ...p, content: `${p.content}\n${why}`.slice(0, 2000), files: [], attachments: [], embeds: [] };
}

function toRaw(files: readonly RenderFile[]): RawFile[] {
  return files.map((f) => ({ name: f.name, data: f.data, contentType: f.contentType }));
}

function editBody(p: DiscordPayload): Record<string, unknown> {
  return { content: p.content, components: p.components, allowed_mentions: p.allowed_mentions, attachments: p.attachments, embeds: p.embeds };
}

function createBody(p: DiscordPayload): Record<string, unknown> {
  return { ...editBody(p), ...(p.flags ? { flags: p.flags } : {}) };
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
