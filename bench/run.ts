/**
 * `npm run bench [section ...]`: every benchmark in one run (or the named sections), figures printed as
 * lines a note can quote, ratios against their floors included. Sections: core, image, ack, busy, memory, leak,
 * idle, discord, slack, queue. Benchmarks that need a service (Redis) or a platform part that is not there
 * are reported as skipped. Every section is bounded in time; the whole run stops by itself.
 */
import { loadConfig } from '../src/config.ts';

type Bench = { name: string; file: string; fn: string; needs?: 'REDIS_URL' | 'DATABASE_URL' };
const config = loadConfig();
const benches: Bench[] = [
  { name: 'core', file: './core.ts', fn: 'benchCore' },
  { name: 'image', file: './image.ts', fn: 'benchImage' },
  { name: 'ack', file: './ack.ts', fn: 'benchAck' },
  { name: 'busy', file: './busy.ts', fn: 'benchBusy' },
  { name: 'memory', file: './memory.ts', fn: 'benchMemory' },
  { name: 'leak', file: './leak.ts', fn: 'benchLeak' },
  { name: 'idle', file: './idle.ts', fn: 'benchIdle' },
  { name: 'discord', file: './discord.ts', fn: 'benchDiscordAck' },
  { name: 'slack', file: './slack.ts', fn: 'benchSlackAck' },
  { name: 'queue', file: './queue.ts', fn: 'benchQueue', needs: 'REDIS_URL' },
];

const only = process.argv.slice(2);
const unknown = only.filter((o) => !benches.some((b) => b.name === o));
if (unknown.length) {
  console.error(`unknown section(s): ${unknown.join(', ')}; sections: ${benches.map((b) => b.name).join(' ')}`);
  process.exit(2);
}
// The whole run is bounded: a hung section cannot keep the process alive.
const limitMin = Number(process.env.BENCH_TIMEOUT_MINUTES ?? 30);
setTimeout(() => {
  console.error(`bench: stopped after ${limitMin} minutes`);
  process.exit(1);
}, limitMin * 60_000).unref();

let failed = false;
for (const b of benches) {
  if (only.length > 0 && !only.includes(b.name)) continue;
  if (b.needs && !config[b.needs]) {
    console.log(`${b.name}: skipped (set ${b.needs})`);
    continue;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(b.file)) as Record<string, unknown>;
  } catch (err) {
    console.log(`${b.name}: skipped (${(err as Error).message.split('\n')[0]})`);
    continue;
  }
  try {
    await (mod[b.fn] as () => Promise<unknown>)();
  } catch (err) {
    failed = true;
    console.log(`${b.name}: FAILED: ${(err as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
