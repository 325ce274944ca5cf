import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ackFigures, fireBurst, startBenchApp } from './ack-helpers.ts';
import { FakeDiscord } from '../test/fakes/discord/fake-discord.ts';
import { slashCommand } from '../test/fakes/discord/interactions.ts';

/**
 * Ack latency of HTTP interactions under a burst: `count` signed /imagine interactions from distinct
 * users, spread evenly over one second, against the real app (verification, parsing, the deferred
 * answer), while the work behind each answer (persisting and queueing the job, its message) runs in
 * the same process. The default `idle` provider takes no CPU, so the figures are the adapter's and the
 * core's; pass 'local' to add rendering. Two figures: in-process, from the route handler receiving the
 * (fully read) request to the answer being returned ("receipt to answer"), and the client's round trip
 * on loopback, which also counts socket and event-loop queueing (the client shares the process).
 */
export async function benchDiscordAck(count = 500, provider: 'idle' | 'local' = 'idle'): Promise<Record<string, number>> {
  // The fake's keys and interaction builders are used here; Discord's REST side is a plain responder in a
  // worker thread, so the bot's process carries only its own work (the tests do the validating).
  const fake = new FakeDiscord();
  const rest = await startResponder();
  const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-discord-'));
  const { app, pool, inProcess } = await startBenchApp(
    { DATA_DIR: dir, DISCORD_API_URL: rest.url, DISCORD_TOKEN: fake.botToken, DISCORD_APPLICATION_ID: fake.applicationId, DISCORD_PUBLIC_KEY: fake.keys.publicKeyHex },
    '/discord/interactions',
  );

  // Signing is Discord's work, not ours: done before the clock starts.
  const requests = Array.from({ length: count }, (_, n) => {
    const i = slashCommand(fake.applicationId, { id: String(100000000000000000n + BigInt(n)), name: `user${n}` }, 'imagine', { prompt: `bench lighthouse ${n}`, provider, count: 1 });
    fake.register(i);
    const body = JSON.stringify(i);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign(null, Buffer.from(timestamp + body), fake.keys.privateKey).toString('hex');
    return { body, headers: { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp } };
  });

  // Warm-up: a few interactions end to end, so lazy module loading happens before the clock starts.
  fake.interactionsUrl = `${app.server.url}/discord/interactions`;
  for (let w = 0; w < 5; w++) await fake.post(slashCommand(fake.applicationId, { id: String(90 + w), name: 'warm' }, 'imagine', { prompt: 'warm-up', provider, count: 1 }));
  await new Promise((r) => setTimeout(r, 500));
  inProcess.length = 0;

  const { wallMs: wall, failed, roundTrip } = await fireBurst(pool, '/discord/interactions', requests, (status, text) => status === 200 && JSON.parse(text).type === 5);

  const figures = ackFigures('discord ack', count, wall, failed, inProcess, roundTrip, 'target p99 <= 25 ms');

  await pool.close();
  await app.stop();
  await rest.stop();
  rmSync(dir, { recursive: true, force: true });
  return figures;
}

/** Answers every REST call as Discord would in shape (a message, or 204), from a worker thread. */
async function startResponder(): Promise<{ url: string; stop: () => Promise<number> }> {
  const code = `
    const { parentPort } = require('node:worker_threads');
    const http = require('node:http');
    let n = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'DELETE') { res.writeHead(204); res.end(); return; }
        const id = String(600000000000000000n + BigInt(++n));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id, channel_id: '1', content: '', attachments: [], components: [], type: 0 }));
      });
    });
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    parentPort.on('message', () => server.close(() => process.exit(0)));
  `;
  const worker = new Worker(code, { eval: true });
  const port = await new Promise<number>((r) => worker.once('message', r));
  return { url: `http://127.0.0.1:${port}/api`, stop: () => (worker.postMessage('stop'), new Promise((r) => worker.once('exit', r))) };
}
