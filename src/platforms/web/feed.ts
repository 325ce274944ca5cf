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
}

/**
 * The live channel: every open page holds one server-sent-events stream. Private jobs go only to
 * their owner's streams; everything else to all of them.
 */
export class ChannelFeed {
  private readonly clients = new Set<Client>();
  private readonly keepAlive: NodeJS.Timeout;

  constructor(keepAliveMs = 20_000) {
    // Proxies close idle streams; a comment line every so often keeps them open.
    this.keepAlive = setInterval(() => this.each(() => true, ': keep-alive\n\n'), keepAliveMs);
    this.keepAlive.unref();
  }

  /** Takes over the response as an event stream and sends the channel so far. */
  open(res: ServerResponse, userId: string, hello: FeedEvent): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers responses unless told otherwise, which would hold every update back.
      'x-accel-buffering': 'no',
    });
    // Tell EventSource to come back soon after a restart.
    res.write('retry: 1000\n\n');
    const client: Client = { res, userId };
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
    c.res.write(data);
  }
}

const frame = (event: FeedEvent): string => `data: ${JSON.stringify(event)}\n\n`;
