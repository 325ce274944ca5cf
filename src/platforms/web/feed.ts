import type { ServerResponse } from 'node:http';
import type { JobMessage } from './render.ts';

/** A line of text in the channel: a command's public answer. */
export interface TextMessage {
  kind: 'text';
  id: string;
  text: string;
  /** Who ran the command that produced it, e.g. { name: 'Ann', command: '/queue' }. */
  invokedBy?: { name: string; command: string };
  createdAt: number;
}

export type FeedEvent =
  | { type: 'hello'; messages: (JobMessage | TextMessage)[] }
  | { type: 'job'; message: JobMessage }
  | { type: 'text'; message: TextMessage }
  | { type: 'deleted'; id: string };

interface Client {
  res: ServerResponse;
  userId: string;
  /** Who holds the stream (see clientKey), for the per-client cap. */
  key: string;
}

export interface FeedLimits {
  /** Streams one client may hold: a person with a few tabs open. */
  perClient: number;
  /** Streams in all, kept below the server's connection cap so the page and API still answer. */
  total: number;
  /** Bytes queued for a stream that does not read; past this it is dropped (EventSource reconnects and gets the channel again). */
  maxBufferedBytes: number;
  keepAliveMs: number;
}

export const FEED_LIMITS: FeedLimits = { perClient: 6, total: 200, maxBufferedBytes: 256 * 1024, keepAliveMs: 20_000 };

/**
 * The live channel: every open page holds one server-sent-events stream. Private jobs go only to
 * their owner's streams; everything else to all of them. Streams are capped per client and in all,
 * and a stream that stops reading is dropped instead of buffering without end.
 */
export class ChannelFeed {
  private readonly clients = new Set<Client>();
  private readonly keepAlive: NodeJS.Timeout;
  private readonly limits: FeedLimits;

  constructor(limits: Partial<FeedLimits> = {}) {
    this.limits = { ...FEED_LIMITS, ...limits };
    const keepAliveMs = this.limits.keepAliveMs;
    // Proxies close idle streams; a comment line every so often keeps them open.
    this.keepAlive = setInterval(() => this.each(() => true, ': keep-alive\n\n'), keepAliveMs);
    this.keepAlive.unref();
  }

  /** Why a new stream for `key` is refused, or undefined when it may open. */
  refusal(key: string): string | undefined {
    if (this.clients.size >= this.limits.total) return 'The playground has too many open pages right now; it reconnects on its own shortly.';
    let mine = 0;
    for (const c of this.clients) if (c.key === key) mine++;
    if (mine >= this.limits.perClient) return `At most ${this.limits.perClient} playground tabs per browser: close one.`;
    return undefined;
  }

  /** Takes over the response as an event stream and sends the channel so far. */
  open(res: ServerResponse, userId: string, key: string, hello: FeedEvent): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers responses unless told otherwise, which would hold every update back.
      'x-accel-buffering': 'no',
    });
    // Tell EventSource to come back soon after a restart.
    res.write('retry: 1000\n\n');
    const client: Client = { res, userId, key };
    this.clients.add(client);
    res.on('close', () => this.clients.delete(client));
    this.write(client, frame(hello));
  }

  /** `onlyUser` limits the event to one person's pages (a private job). */
  send(event: FeedEvent, onlyUser?: string): void {
    this.each((c) => onlyUser === undefined || c.userId === onlyUser, frame(event));
  }

  close(): void {
    clearInterval(this.keepAlive);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  private each(match: (c: Client) => boolean, data: string): void {
    for (const c of this.clients) if (match(c)) this.write(c, data);
  }

  private write(c: Client, data: string): void {
    if (c.res.writableEnded || c.res.destroyed) {
      this.clients.delete(c);
      return;
    }
    // A reader that keeps up leaves nothing queued; one that does not would make us hold every event for it.
    if (c.res.writableLength > this.limits.maxBufferedBytes) {
      this.clients.delete(c);
      c.res.destroy();
      return;
    }
    c.res.write(data);
  }

  get size(): number {
    return this.clients.size;
  }
}

const frame = (event: FeedEvent): string => `data: ${JSON.stringify(event)}\n\n`;
