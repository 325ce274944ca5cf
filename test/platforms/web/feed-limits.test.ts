import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelFeed } from '../../../src/platforms/web/feed.ts';
import { startPlayground, type Playground } from './harness.ts';

let cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A session cookie as the playground issues one (any well-formed secret is a session of its own). */
const session = () => `atelier_session=${randomBytes(32).toString('base64url')}`;

/** Opens the live feed on a raw socket; resolves with the status line once the server answers. */
function openFeed(url: string, user: string, cookie?: string): Promise<{ socket: Socket; status: string; closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('data', (d: Buffer) => resolve({ socket, status: d.toString('latin1').split('\r\n')[0]!, closed }));
    socket.once('error', reject);
    socket.connect(Number(port), hostname, () =>
      socket.write(`GET /api/events?user=${user} HTTP/1.1\r\nHost: localhost:${port}\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}\r\n`),
    );
  });
}

describe('the playground live feed is bounded', () => {
  let pg: Playground;

  it('caps streams per client (its session), and another session on the same address is another client', async () => {
    pg = await startPlayground();
    cleanup.push(() => pg.stop());
    const open: Socket[] = [];
    cleanup.push(() => open.forEach((s) => s.destroy()));
    const mine = session();
    for (let i = 0; i < 6; i++) {
      const s = await openFeed(pg.url, `tab-${i}`, mine);
      expect(s.status).toBe('HTTP/1.1 200 OK');
      open.push(s.socket);
    }
    const seventh = await openFeed(pg.url, 'tab-7', mine);
    open.push(seventh.socket);
    expect(seventh.status).toBe('HTTP/1.1 429 Too Many Requests');
    const other = await openFeed(pg.url, 'other', session());
    open.push(other.socket);
    expect(other.status).toBe('HTTP/1.1 200 OK');
  });

  it('caps streams in all', async () => {
    pg = await startPlayground();
    cleanup.push(() => pg.stop());
    const open: Socket[] = [];
    cleanup.push(() => open.forEach((s) => s.destroy()));
    const statuses: string[] = [];
    for (let i = 0; i < 201; i++) {
      const s = await openFeed(pg.url, `user-${i}`, session());
      open.push(s.socket);
      statuses.push(s.status);
    }
    expect(statuses.slice(0, 200).every((s) => s === 'HTTP/1.1 200 OK')).toBe(true);
    expect(statuses[200]).toBe('HTTP/1.1 429 Too Many Requests');
  }, 60_000);

  it('drops a stream that does not read, and keeps serving one that does', async () => {
    const feed = new ChannelFeed();
    const server: Server = createServer((req, res) => feed.open(res, new URL(req.url!, 'http://x').searchParams.get('user')!, req.url!, { type: 'hello', messages: [] }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)), () => server.closeAllConnections(), () => feed.close());
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const stalled = await openFeed(url, 'stalled');
    stalled.socket.pause();
    const reader = await openFeed(url, 'reader');
    let read = 0;
    reader.socket.on('data', (d: Buffer) => (read += d.length));
    expect(feed.size).toBe(2);
    const text = 'x'.repeat(64 * 1024);
    let sent = 0;
    // Keep talking until the feed gives up on the stalled stream (bounded: 256 MiB would be a failure).
    while (feed.size === 2 && sent < 4096) {
      feed.send({ type: 'text', message: { kind: 'text', id: String(sent), text, createdAt: 0 } });
      sent++;
      await new Promise((r) => setImmediate(r));
    }
    expect(feed.size).toBe(1);
    // The server hung up on it: once it reads again, it finds the stream closed.
    stalled.socket.resume();
    await stalled.closed;
    // The reader got everything sent (its socket drains as it reads).
    for (let i = 0; i < 100 && read <= sent * text.length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(read).toBeGreaterThan(sent * text.length);
    console.log(`stalled stream dropped after ${sent} events of 64 KiB (${((sent * 64) / 1024).toFixed(1)} MiB sent)`);
  }, 60_000);
});
