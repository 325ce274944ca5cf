/**
 * The Slack fake in a process of its own, for benchmarks: the emulator's work then does not share
 * the app's event loop, so latency figures are the app's. Prints `READY <json>` with what callers need.
 */
import { SlackFake } from './slack-fake.ts';

const fake = new SlackFake();
await fake.start();
process.stdout.write(`READY ${JSON.stringify({ apiUrl: fake.apiUrl, proxyUrl: fake.proxy.url, teamId: fake.teamId, channel: fake.channel })}\n`);
const stop = () => {
  void fake.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
