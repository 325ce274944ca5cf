import type { WebClient } from '@slack/web-api';
import { boundedPost } from './http-post.ts';
import { withRetryAfter } from './web-client.ts';

export interface UploadFile {
  filename: string;
  title: string;
  bytes: Uint8Array;
  altText?: string;
}

/**
 * Slack's external upload flow: a URL per file, the bytes POSTed there, then one
 * `files.completeUploadExternal` for all of them. Completing them in one call keeps them in one
 * message, in this order (grid first): separate calls finish in whatever order Slack's scanning does.
 */
export async function uploadFiles(client: WebClient, files: readonly UploadFile[], where: { channelId: string; threadTs?: string; comment?: string }): Promise<string[]> {
  const done: { id: string; title: string }[] = [];
  for (const f of files) {
    const slot = await withRetryAfter(() =>
      client.files.getUploadURLExternal({ filename: f.filename, length: f.bytes.byteLength, ...(f.altText ? { alt_txt: f.altText.slice(0, 1000) } : {}) }),
    );
    if (!slot.upload_url || !slot.file_id) throw new Error('files.getUploadURLExternal returned no upload_url');
    await boundedPost(slot.upload_url, f.bytes, { 'content-type': 'application/octet-stream' }, { timeoutMs: 60_000, attempts: 3 });
    done.push({ id: slot.file_id, title: f.title });
  }
  // The SDK's argument type wants both `files` and a destination union; channel_id + thread_ts is one of them.
  const args = {
    files: done as [{ id: string; title: string }, ...{ id: string; title: string }[]],
    channel_id: where.channelId,
    ...(where.threadTs ? { thread_ts: where.threadTs } : {}),
    ...(where.comment ? { initial_comment: where.comment } : {}),
  };
  await withRetryAfter(() => client.files.completeUploadExternal(args));
  return done.map((d) => d.id);
}
