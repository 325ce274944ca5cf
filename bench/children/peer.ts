/**
 * A minimal peer, as the open-source discord.js bots are: verify, defer, ask the provider, then edit the
 * deferred reply with the provider's files passed straight through (no grid, no store, no queue).
 * It runs the same bench provider as Atelier, against the same fake Discord. BENCH_PUBLIC_KEY,
 * BENCH_API_URL, BENCH_PROVIDER as for the Atelier child.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REST } from '@discordjs/rest';
import { Routes, type APIChatInputApplicationCommandInteraction } from 'discord-api-types/v10';
import { benchProvider, providerDone, type BenchProviderOptions } from '../bench-provider.ts';
import { serveParent, usage } from '../child.ts';
import { discordKey, onVerifiedBody } from './verify.ts';

const key = discordKey(process.env.BENCH_PUBLIC_KEY ?? '');
const provider = await benchProvider(JSON.parse(process.env.BENCH_PROVIDER ?? '{}') as BenchProviderOptions);
const rest = new REST({ api: process.env.BENCH_API_URL ?? '' });
const ext: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

async function work(i: APIChatInputApplicationCommandInteraction): Promise<void> {
  const option = i.data.options?.find((o) => o.name === 'prompt');
  const prompt = option && 'value' in option ? String(option.value) : '';
  const result = await provider.generate({ prompt, mode: 'simple', count: 4 } as never, { jobId: i.id, signal: new AbortController().signal, progress: () => {}, recordIntent: async () => {}, recordSubmitted: async () => {}, allowNsfw: false });
  const files = result.images.map((img, n) => ({ name: `image-${n + 1}.${ext[img.mime] ?? 'bin'}`, data: img.bytes, contentType: img.mime }));
  await rest.patch(Routes.webhookMessage(i.application_id, i.token), { auth: false, files, body: { content: `**${prompt}**`, attachments: files.map((f, n) => ({ id: String(n), filename: f.name })) } });
}

const server = createServer((req, res) => {
  onVerifiedBody(req, res, key, (body) => {
    const i = JSON.parse(body.toString('utf8')) as APIChatInputApplicationCommandInteraction;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"type":5}');
    if (i.type === 2) void work(i).catch((err: unknown) => console.error('peer: job failed', err));
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
serveParent(
  { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
  {
    stats: () => ({ ...usage(), providerDone: Object.fromEntries(providerDone) }),
    idle: async (ms: number) => {
      const before = usage().cpuMs;
      await new Promise((r) => setTimeout(r, ms));
      return { cpuMs: usage().cpuMs - before, resources: process.getActiveResourcesInfo() };
    },
  },
);
