import type { WebClient } from '@slack/web-api';
import type { Atelier } from '../../core/atelier.ts';
import type { JobEvent } from '../../core/events.ts';
import { isFinal, supersedes, type Job } from '../../core/job.ts';
import type { ImageTools, Logger } from '../../core/ports.ts';
import { escapeMrkdwn, IMAGE_URL_MAX, MAX_THUMBS, mention, renderJobMessage, shouldPing, type InputThumb, type MessagePayload } from './blocks.ts';
import type { UpdateBudget } from './update-budget.ts';
import { uploadFiles, type UploadFile } from './uploads.ts';
import { slackErrorCode, withRetryAfter } from './web-client.ts';

/** What is persisted per job so buttons and edits keep working after a restart. */
export interface SlackMessageRef {
  channel: string;
  ts: string;
  team: string;
  uploaded: boolean;
  /** The uploaded grid (or single image), shown inline in the job message. */
  previewFileId?: string;
  /** Every file the bot uploaded into the message's thread: 🗑️ deletes them with the message. */
  fileIds?: string[];
  /** The requester of a long job was notified: never twice, even after a restart. */
  pinged?: boolean;
  /** The pictures the job started from, shown small beside "Started from…": decided once, when the message is posted. */
  thumbs?: InputThumb[];
}

interface Tracked extends SlackMessageRef {
  jobId: string;
  latest?: Job;
  deleted?: boolean;
  uploading?: Promise<void>;
}

export type OpenResult = { ok: true; ref: SlackMessageRef } | { ok: false; code: string };

/** Slack takes files up to 1 GB; a cap keeps memory bounded and uploads quick. */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
const EARLY_MAX = 500;
const FINISHED_MAX = 5_000;
const PLATFORM = 'slack';
/** What Slack's image blocks draw (image block reference: png, jpg, jpeg, gif); a WebP is only named. */
const SHOWN_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif']);


export interface JobMessagesDeps {
  atelier: Atelier;
  client: WebClient;
  images: ImageTools;
  budget: UpdateBudget;
  logger: Logger;
  /** A signed public link to a stored picture (PUBLIC_URL/files/…); absent when PUBLIC_URL is not set. */
  publicImageUrl?: (imageId: string) => Promise<string>;
}

/**
 * One channel message per job, rendered from job snapshots: posted when the command is handled,
 * edited through the per-workspace budget, and on success the images are uploaded into its thread
 * before the final edit adds the buttons, so the thread never shows buttons for images not there yet.
 */
export class JobMessages {
  private readonly tracked = new Map<string, Tracked>();
  /** Snapshots of jobs whose message is not open yet (events can beat the command handler). */
  private readonly early = new Map<string, Job>();
  /** Where finished jobs' messages are, most recent last: the store drops a job's refs with the job. */
  private readonly finished = new Map<string, SlackMessageRef>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: JobMessagesDeps) {}

  start(): void {
    this.unsubscribe = this.deps.atelier.events.subscribe((e) => this.onEvent(e));
  }

  stop(): void {
    this.unsubscribe?.();
    this.deps.budget.close();
  }

  /**
   * Posts the job's message in its channel, joining a public channel first when the bot is not in it.
   * `slackFiles`: the Slack file (`url_private`) each of the job's first pictures came from, in order, where Slack
   * can show it; the rest are shown by address (see `thumbsFor`).
   */
  async open(job: Job, extra: { slackFiles?: readonly (string | undefined)[] } = {}): Promise<OpenResult> {
    const existing = this.tracked.get(job.id);
    if (existing) return { ok: true, ref: existing };
    const snapshot = this.newest(job, this.early.get(job.id));
    let thumbs = await this.thumbsFor(job, extra.slackFiles ?? []);
    let payload = await this.render(snapshot, { uploaded: false, ...(thumbs ? { thumbs } : {}) });
    let channel = job.where.channelId;
    // A private job lives in a direct message with its requester: Slack cannot show files to one
    // person inside a channel, and ephemeral messages cannot be edited.
    if (job.private) {
      try {
        const dm = await withRetryAfter(() => this.deps.client.conversations.open({ users: job.owner.userId }));
        if (!dm.channel?.id) return { ok: false, code: 'dm_unavailable' };
        channel = dm.channel.id;
      } catch (err) {
        return { ok: false, code: slackErrorCode(err) ?? 'dm_unavailable' };
      }
    }
    let ts: string;
    try {
      ts = await this.post(channel, payload).catch(async (err: unknown) => {
        // Slack refuses an image it cannot show (a file the bot may not read, a type it does not draw, an
        // image_url it could not download): the message goes without the thumbnails, and "Started from…" still
        // names the pictures.
        if (!thumbs || slackErrorCode(err) !== 'invalid_blocks') throw err;
        thumbs = undefined;
        payload = await this.render(snapshot, { uploaded: false });
        return this.post(channel, payload);
      });
    } catch (err) {
      const code = slackErrorCode(err);
      if (code !== 'not_in_channel') return { ok: false, code: code ?? 'post_failed' };
      const joined = await this.join(channel);
      if (!joined.ok) return joined;
      try {
        ts = await this.post(channel, payload);
      } catch (again) {
        return { ok: false, code: slackErrorCode(again) ?? 'post_failed' };
      }
    }
    const t: Tracked = { jobId: job.id, channel, ts, team: job.where.serverId ?? 'default', uploaded: false, latest: snapshot, ...(thumbs ? { thumbs } : {}) };
    this.tracked.set(job.id, t);
    // The job may have moved on (or finished) while the post was in flight: those events were kept.
    const newest = this.newest(snapshot, this.early.get(job.id));
    this.early.delete(job.id);
    await this.persist(t);
    if (newest !== snapshot || isFinal(newest.state)) this.apply(t, newest, true);
    return { ok: true, ref: t };
  }

  /** The message of a job, from memory or the store (after a restart). */
  async ref(jobId: string): Promise<SlackMessageRef | undefined> {
    const t = this.tracked.get(jobId) ?? this.finished.get(jobId);
    if (t) return t;
    const stored = (await this.deps.atelier.store.getMessageRef(jobId, PLATFORM)) as Partial<SlackMessageRef> | undefined;
    if (!stored || typeof stored.channel !== 'string' || typeof stored.ts !== 'string') return undefined;
    return {
      channel: stored.channel,
      ts: stored.ts,
      team: stored.team ?? 'default',
      uploaded: Boolean(stored.uploaded),
      ...(typeof stored.previewFileId === 'string' ? { previewFileId: stored.previewFileId } : {}),
      ...(Array.isArray(stored.fileIds) ? { fileIds: stored.fileIds.filter((f): f is string => typeof f === 'string') } : {}),
      ...(stored.pinged ? { pinged: true } : {}),
      ...(Array.isArray(stored.thumbs) ? { thumbs: storedThumbs(stored.thumbs) } : {}),
    };
  }

  /**
   * Called before a job is deleted: deleting it deletes its stored ref, so what the ref knows (its
   * thread's files) is read now, and the press tells us which message to remove even without a ref.
   */
  async locate(jobId: string, channel: string, ts: string): Promise<void> {
    if (this.tracked.has(jobId) || this.finished.has(jobId)) return;
    const stored = await this.ref(jobId).catch(() => undefined);
    this.keepFinished(jobId, stored ?? { channel, ts, team: 'default', uploaded: true });
  }

  private keepFinished(jobId: string, ref: SlackMessageRef): void {
    this.finished.delete(jobId);
    this.finished.set(jobId, ref);
    if (this.finished.size > FINISHED_MAX) this.finished.delete(this.finished.keys().next().value!);
  }

  /** Resolves when nothing is waiting to be sent (tests, shutdown). */
  async settled(): Promise<void> {
    for (;;) {
      const uploads = [...this.tracked.values()].map((t) => t.uploading).filter(Boolean);
      await Promise.all(uploads);
      if (this.deps.budget.idle() && uploads.length === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private onEvent(e: JobEvent): void {
    if (e.job.where.platform !== PLATFORM) return;
    const t = this.tracked.get(e.job.id);
    if (e.type === 'job.deleted') {
      void this.remove(e.job);
      return;
    }
    if (t) {
      this.apply(t, e.job, false);
      return;
    }
    this.remember(e.job);
    // After a restart the message exists but is not in memory: adopt it from the stored ref.
    void this.ref(e.job.id).then(
      (ref) => {
        if (!ref || this.tracked.has(e.job.id)) return;
        const adopted: Tracked = { ...ref, jobId: e.job.id };
        this.tracked.set(e.job.id, adopted);
        const latest = this.early.get(e.job.id) ?? e.job;
        this.early.delete(e.job.id);
        this.apply(adopted, latest, true);
      },
      (err: unknown) => this.deps.logger.warn({ err, jobId: e.job.id }, 'slack: message ref lookup failed'),
    );
  }

  private remember(job: Job): void {
    this.early.set(job.id, this.newest(job, this.early.get(job.id)));
    if (this.early.size > EARLY_MAX) this.early.delete(this.early.keys().next().value!);
  }

  private newest(a: Job, b: Job | undefined): Job {
    return b && supersedes(b, a) ? b : a;
  }

  private apply(t: Tracked, job: Job, force: boolean): void {
    if (t.deleted) return;
    if (!force && t.latest && !supersedes(job, t.latest)) return;
    t.latest = this.newest(job, t.latest);
    const snapshot = t.latest;
    if (snapshot.state === 'succeeded' && !t.uploaded) {
      t.uploading ??= this.upload(t, snapshot).finally(() => {
        t.uploading = undefined;
        if (t.latest) this.submit(t, t.latest);
      });
      return;
    }
    if (t.uploading) return;
    this.submit(t, snapshot);
  }

  private submit(t: Tracked, job: Job): void {
    const final = isFinal(job.state);
    this.deps.budget
      .submit(t.team, `${t.channel}:${t.ts}`, async () => {
        if (t.deleted) return;
        const payload = await this.render(job, t);
        try {
          await this.deps.client.chat.update({ channel: t.channel, ts: t.ts, text: payload.text, blocks: payload.blocks as never });
        } catch (err) {
          // Slack may refuse an image block for a file it is still processing (the thread has the files), or a
          // thumbnail of a file it will not show: the text says the same.
          if (slackErrorCode(err) !== 'invalid_blocks' || (!t.previewFileId && !t.thumbs)) throw err;
          const plain = await this.render(job, { uploaded: t.uploaded });
          await this.deps.client.chat.update({ channel: t.channel, ts: t.ts, text: plain.text, blocks: plain.blocks as never });
        }
      }, final)
      .then(() => (final && shouldPing(job) ? this.ping(t, job) : undefined))
      .then(() => this.forget(t, job))
      .catch((err: unknown) => this.deps.logger.warn({ jobId: t.jobId, code: slackErrorCode(err) ?? String(err) }, 'slack: job message update failed'));
  }

  /**
   * A finished job's message needs nothing more from memory: a later event (a delete, a note) adopts it
   * again from the stored ref, so the map does not grow with every job ever run.
   */
  private forget(t: Tracked, job: Job): void {
    if (!isFinal(job.state) || t.uploading || t.latest?.version !== job.version || this.tracked.get(t.jobId) !== t) return;
    this.tracked.delete(t.jobId);
    const { channel, ts, team, uploaded, previewFileId, fileIds, pinged, thumbs } = t;
    this.keepFinished(t.jobId, { channel, ts, team, uploaded, ...(previewFileId ? { previewFileId } : {}), ...(fileIds ? { fileIds } : {}), ...(pinged ? { pinged } : {}), ...(thumbs ? { thumbs } : {}) });
  }

  /** A long job's requester hears about the result: a thread reply notifies, an edit does not. */
  private async ping(t: Tracked, job: Job): Promise<void> {
    if (t.pinged || t.deleted) return;
    t.pinged = true;
    await this.persist(t);
    const text = job.state === 'succeeded' ? `${mention(job.owner.userId)} your images are ready.` : `${mention(job.owner.userId)} your job failed: ${escapeMrkdwn(job.error?.message ?? 'unknown error')}`;
    await withRetryAfter(() => this.deps.client.chat.postMessage({ channel: t.channel, thread_ts: t.ts, text }));
  }

  /**
   * How each picture the job started from is shown small, decided once when its message is posted:
   * - the user's Slack file, when it came from one (`slackFiles`, by position);
   * - else the public https URL the user typed: Slack fetches it itself (`image_url`, at most 3000 characters);
   * - else, for a stored copy with neither (a child's copy of a Slack file, an upscale's source…), the signed
   *   public link to it (PUBLIC_URL/files/…). It expires (an hour by default), but Slack fetches the picture when
   *   the message is posted, and every later edit sends the same link; should Slack refuse it on a late edit, the
   *   invalid_blocks fallback in `submit` sends that edit without images and the text still names the pictures;
   * - else (no PUBLIC_URL, or a type Slack does not draw) no thumbnail: "Started from…" still names the picture.
   */
  private async thumbsFor(job: Job, slackFiles: readonly (string | undefined)[]): Promise<InputThumb[] | undefined> {
    const inputs = (job.inputs ?? []).slice(0, MAX_THUMBS);
    if (!inputs.length) return undefined;
    try {
      const stored = new Map((await this.deps.atelier.inputs(job.id)).map((h) => [h.meta.id, h.meta.mime]));
      const out: InputThumb[] = [];
      for (const [i, input] of inputs.entries()) {
        const name = input.source;
        const file = slackFiles[i];
        if (file) out.push({ name, slackFile: file });
        else if (!SHOWN_TYPES.has(stored.get(input.imageId) ?? '')) continue;
        else if (input.url && /^https:\/\//i.test(input.url) && input.url.length <= IMAGE_URL_MAX) out.push({ name, imageUrl: input.url });
        else if (this.deps.publicImageUrl) {
          const link = await this.deps.publicImageUrl(input.imageId);
          if (link.length <= IMAGE_URL_MAX) out.push({ name, imageUrl: link });
        }
      }
      return out.length ? out : undefined;
    } catch (err) {
      this.deps.logger.warn({ err, jobId: job.id }, 'slack: no thumbnails of the job\'s pictures');
      return undefined;
    }
  }

  private async render(job: Job, shown: Pick<SlackMessageRef, 'uploaded' | 'previewFileId' | 'thumbs'>): Promise<MessagePayload> {
    const caps = this.deps.atelier.providers.capabilities(job.provider);
    const count = job.result?.imageIds.length ?? 0;
    const note = job.state === 'succeeded' && count > 0 ? (shown.uploaded ? `${count} image${count === 1 ? '' : 's'} in the thread` : 'Uploading images…') : undefined;
    return renderJobMessage(job, caps, count, {
      ...(note ? { imagesNote: note } : {}),
      ...(shown.uploaded && shown.previewFileId ? { previewFileId: shown.previewFileId } : {}),
      ...(shown.thumbs ? { thumbs: shown.thumbs } : {}),
    });
  }

  private async upload(t: Tracked, job: Job): Promise<void> {
    try {
      const handles = await this.deps.atelier.images(job.id);
      // The grid first, then the images in order: the order they show in the thread.
      handles.sort((a, b) => (a.meta.kind === b.meta.kind ? a.meta.index - b.meta.index : a.meta.kind === 'grid' ? -1 : 1));
      const files: UploadFile[] = [];
      for (const h of handles) {
        const fitted = await this.deps.images.fit(await h.bytes(), MAX_UPLOAD_BYTES);
        const ext = fitted.mime === 'image/jpeg' ? 'jpg' : fitted.mime === 'image/webp' ? 'webp' : 'png';
        const name = h.meta.kind === 'grid' ? 'grid' : `image-${h.meta.index}`;
        files.push({ filename: `${job.id}-${name}.${ext}`, title: h.meta.kind === 'grid' ? 'Grid' : `Image ${h.meta.index}`, bytes: fitted.bytes, altText: job.request.prompt });
      }
      // A long job's mention rides on the file message itself: a separate reply could land before the
      // files, because Slack shares uploads only after scanning them.
      const comment = shouldPing(job) ? `${mention(job.owner.userId)} your images are ready.` : undefined;
      if (files.length) {
        const ids = await uploadFiles(this.deps.client, files, { channelId: t.channel, threadTs: t.ts, ...(comment ? { comment } : {}) });
        t.previewFileId = ids[0];
        t.fileIds = ids;
      }
      if (files.length && comment) t.pinged = true;
      t.uploaded = true;
      await this.persist(t);
    } catch (err) {
      this.deps.logger.error({ err, jobId: job.id, code: slackErrorCode(err) }, 'slack: image upload failed');
    }
  }

  private async remove(job: Job): Promise<void> {
    const ref = await this.ref(job.id);
    const t = this.tracked.get(job.id);
    if (t) t.deleted = true;
    this.early.delete(job.id);
    if (!ref) return;
    try {
      await withRetryAfter(() => this.deps.client.chat.delete({ channel: ref.channel, ts: ref.ts }));
    } catch (err) {
      this.deps.logger.warn({ jobId: job.id, code: slackErrorCode(err) }, 'slack: deleting the job message failed');
    }
    // The images stay in the workspace (and in search) after their thread's parent is gone: the bot
    // deletes the files it uploaded itself.
    for (const file of ref.fileIds ?? []) {
      try {
        await withRetryAfter(() => this.deps.client.files.delete({ file }));
      } catch (err) {
        const code = slackErrorCode(err);
        if (code !== 'file_not_found' && code !== 'file_deleted') this.deps.logger.warn({ jobId: job.id, file, code }, 'slack: deleting an uploaded file failed');
      }
    }
    this.tracked.delete(job.id);
    this.finished.delete(job.id);
  }

  private async post(channel: string, payload: MessagePayload): Promise<string> {
    const res = await withRetryAfter(() => this.deps.client.chat.postMessage({ channel, text: payload.text, blocks: payload.blocks as never }));
    if (!res.ts) throw new Error('chat.postMessage returned no ts');
    return res.ts;
  }

  /** A public channel can be joined with `channels:join`; a private one needs an invitation. */
  private async join(channel: string): Promise<{ ok: true } | { ok: false; code: string }> {
    try {
      await withRetryAfter(() => this.deps.client.conversations.join({ channel }));
      return { ok: true };
    } catch (err) {
      return { ok: false, code: slackErrorCode(err) === 'missing_scope' ? 'cannot_join' : 'not_in_channel' };
    }
  }

  private async persist(t: Tracked): Promise<void> {
    const ref: SlackMessageRef = {
      channel: t.channel,
      ts: t.ts,
      team: t.team,
      uploaded: t.uploaded,
      ...(t.previewFileId ? { previewFileId: t.previewFileId } : {}),
      ...(t.fileIds ? { fileIds: t.fileIds } : {}),
      ...(t.pinged ? { pinged: true } : {}),
      ...(t.thumbs ? { thumbs: t.thumbs } : {}),
    };
    try {
      await this.deps.atelier.store.setMessageRef(t.jobId, PLATFORM, { ...ref });
    } catch (err) {
      this.deps.logger.warn({ err, jobId: t.jobId }, 'slack: saving the message ref failed');
    }
  }
}

/** Thumbnails as a stored ref keeps them; refs written before `imageUrl` existed hold a Slack file as `{ url, name }`. */
function storedThumbs(raw: unknown[]): InputThumb[] {
  const out: InputThumb[] = [];
  for (const t of raw as { name?: unknown; slackFile?: unknown; imageUrl?: unknown; url?: unknown }[]) {
    if (typeof t?.name !== 'string') continue;
    const file = typeof t.slackFile === 'string' ? t.slackFile : typeof t.url === 'string' ? t.url : undefined;
    if (file) out.push({ name: t.name, slackFile: file });
    else if (typeof t.imageUrl === 'string') out.push({ name: t.name, imageUrl: t.imageUrl });
  }
  return out;
}
