import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, type CliProcess } from './cli-process.ts';

/** A raw HTTP/1.1 client: what a slow or hostile client does, byte for byte. */
interface Raw {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server has sent something, with it. */
  firstAnswer: Promise<string>;
  closed: Promise<void>;
}

function open(port: number, head: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let got = '';
    let answered!: (s: string) => void;
    const firstAnswer = new Promise<string>((r) => (answered = r));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      answered(got);
    });
    // A server that hangs up mid-upload makes our writes fail: that is the point, not an error.
    socket.on('error', () => undefined);
    socket.connect(port, '127.0.0.1', () => {
      socket.write(head);
      resolve({ socket, received: () => got, firstAnswer, closed });
    });
    socket.once('error', reject);
  });
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms / 1000} s`)), ms))]);

const post = (path: string, headers: Record<string, string>) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

/** Well-formed Discord signature headers (the signature itself is wrong: it is checked only after the body). */
const discordHeaders = () => ({ 'x-signature-ed25519': 'ab'.repeat(64), 'x-signature-timestamp': String(Math.floor(Date.now() / 1000)), 'content-type': 'application/json' });

/** Memory the server holds for data (V8 heap in use plus Buffers outside it), from its own /metrics. */
async function held(url: string): Promise<{ heapAndBuffers: number; rss: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\d+(?:\\.\\d+)?(?:e\\+\\d+)?)$`, 'm').exec(text)?.[1] ?? NaN);
  return { heapAndBuffers: read('atelier_nodejs_heap_size_used_bytes') + read('atelier_nodejs_external_memory_bytes'), rss: read('atelier_process_resident_memory_bytes') };
}

const MiB = 1024 * 1024;

describe('resources are bounded before anyone is trusted (a real `atelier start`)', () => {
  let app: CliProcess;
  let url = '';
  let port = 0;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-limits-'));
    const { publicKey } = generateKeyPairSync('ed25519');
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    app = spawnCli(['start'], {
      PORT: '0',
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      HTTP_TIMEOUT_SECONDS: '2',
      HTTP_MAX_CONNECTIONS: '128',
      DISCORD_APPLICATION_ID: '100000000000000001',
      DISCORD_PUBLIC_KEY: Buffer.from(spki.subarray(spki.length - 32)).toString('hex'),
      PLAYGROUND: 'off',
    });
    [, url] = (await app.waitFor(/listening on (\S+)/, 'the listening line')) as unknown as [string, string];
    port = Number(new URL(url).port);
  }, 60_000);

  afterAll(async () => {
    await app?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an unsigned POST from its headers, before the body is sent', async () => {
    const c = await open(port, post('/discord/interactions', { 'content-type': 'application/json', 'content-length': '100000' }));
    const answer = await within(c.firstAnswer, 10_000, 'answer before the body');
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    await within(c.closed, 10_000, 'close');
  });

  it('cuts a trickled body at the request timeout: the socket is closed', async () => {
    const c = await open(port, post('/discord/interactions', { ...discordHeaders(), 'content-length': '1000' }));
    const trickle = setInterval(() => c.socket.writable && c.socket.write('{'), 250);
    try {
      await within(c.closed, 30_000, 'close of the trickling socket');
    } finally {
      clearInterval(trickle);
    }
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  }, 40_000);

  it('40 unfinished unsigned 4 MiB POSTs and 40 unfinished signed-looking ones do not grow the memory it holds', async () => {
    const before = await held(url);
    const conns: Raw[] = [];
    const chunk = Buffer.alloc(4 * MiB, 0x7b);
    const flushed: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      const c = await open(port, post('/discord/interactions', { 'content-type': 'application/json', 'content-length': String(5 * MiB) }));
      flushed.push(new Promise((r) => c.socket.write(chunk, r)), c.firstAnswer);
      conns.push(c);
    }
    // Chunked, so nothing is declared up front: these are read until the per-route cap or the in-flight cap.
    for (let i = 0; i < 40; i++) {
      const c = await open(port, post('/discord/interactions', { ...discordHeaders(), 'transfer-encoding': 'chunked' }));
      const part = Buffer.alloc(200 * 1024, 0x7b);
      flushed.push(new Promise((r) => c.socket.write(`${part.length.toString(16)}\r\n`).valueOf() && c.socket.write(part, r)));
      conns.push(c);
    }
    // Every byte has left the client (or the server hung up on it) before the server is asked what it holds.
    await Promise.race([Promise.all(flushed.slice(0, 80)), new Promise((r) => setTimeout(r, 5_000))]);
    await Promise.all(flushed.slice(80));
    const during = await held(url);
    const growth = during.heapAndBuffers - before.heapAndBuffers;
    console.log(`held memory: ${(before.heapAndBuffers / MiB).toFixed(1)} -> ${(during.heapAndBuffers / MiB).toFixed(1)} MiB (heap+buffers), rss ${(before.rss / MiB).toFixed(1)} -> ${(during.rss / MiB).toFixed(1)} MiB`);
    const answers = conns.map((c) => c.received().split('\r\n')[0] ?? '');
    for (const c of conns) c.socket.destroy();
    // The unsigned ones were refused from their headers; none of the signed-looking ones was taken as genuine.
    expect(answers.slice(0, 40).every((a) => a.startsWith('HTTP/1.1 401'))).toBe(true);
    expect(answers.slice(40).some((a) => a.startsWith('HTTP/1.1 200'))).toBe(false);
    // 40 × 4 MiB would be 160 MiB (today's main held +168 MiB); what it may hold is 32 bodies in flight × 200 KiB plus GC noise.
    expect(growth).toBeLessThan(48 * MiB);
  }, 60_000);

  it('closes connections past HTTP_MAX_CONNECTIONS at once', async () => {
    const held: Raw[] = [];
    for (let i = 0; i < 128; i++) held.push(await open(port, ''));
    const extra = await open(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await within(extra.closed, 10_000, 'close of the connection past the cap');
    expect(extra.received()).toBe('');
    for (const c of held) c.socket.destroy();
  });
});
