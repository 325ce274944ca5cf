import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ackFigures, fireBurst, startBenchApp } from './ack-helpers.ts';
import { signSlackRequest } from '../src/platforms/slack/signature.ts';
import { spawn } from 'node:child_process';
import { BOT_TOKEN, SIGNING_SECRET, slashCommandBody } from '../test/fakes/slack/slack-fake.ts';

/**
 * Ack latency of Slack slash commands over HTTP under a burst: `count` signed `/imagine` commands from
 * distinct users, spread evenly over one second, against the real app (signature check, Bolt routing,
 * text parsing, the empty 200) while the jobs they queue are posted to the Slack emulator in the
 * background. Two figures: in-process, from the route's first look at the request to the answer, and
 * the client's round trip on loopback.
 */
export async function benchSlackAck(count = 500): Promise<Record<string, number>> {
  const fake = await startFakeProcess();
  const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-slack-'));
  const { app, pool, inProcess } = await startBenchApp({ DATA_DIR: dir, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: fake.apiUrl }, '/slack/events');

  // Signing is Slack's work, not ours: done before the clock starts.
  const requests = Array.from({ length: count }, (_, n) => {
    const body = slashCommandBody({
      command: '/imagine',
      text: `bench lighthouse ${n} --provider idle --count 1`,
      user: { id: `UBENCH${n}`, name: `user${n}` },
      teamId: fake.teamId,
      channel: fake.channel,
      triggerId: `bench.${n}`,
      responseUrl: `${fake.proxyUrl}/_response/bench${n}`,
    });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-signature': signSlackRequest(SIGNING_SECRET, timestamp, body), 'x-slack-request-timestamp': String(timestamp) };
    return { body, headers };
  });

  // An accepted command is acked with an empty 200; anything else is a refusal.
  const { wallMs: wall, failed, roundTrip } = await fireBurst(pool, '/slack/events', requests, (status, text) => status === 200 && text === '');

  const figures = ackFigures('slack ack', count, wall, failed, inProcess, roundTrip, 'Slack allows 3000 ms');

  await pool.close();
  await app.stop();
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
  return figures;
}

interface FakeProcess {
  apiUrl: string;
  proxyUrl: string;
  teamId: string;
  channel: string;
  stop(): Promise<void>;
}

/** The Slack emulator in its own process, so its work does not land in the app's figures. */
async function startFakeProcess(): Promise<FakeProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../test/fakes/slack/fake-process.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const info = await new Promise<Omit<FakeProcess, 'stop'>>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Slack fake did not start within 30 s: ${stderr}`)), 30_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\{.*\})\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]!) as Omit<FakeProcess, 'stop'>);
      }
    });
    proc.once('exit', (code) => reject(new Error(`Slack fake exited with ${code}: ${stderr}`)));
  });
  return {
    ...info,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

