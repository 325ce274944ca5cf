/**
 * `npm run bench`: every benchmark in one run, figures printed as lines a note can quote.
 * Benchmarks that need a service (Redis) or a platform part that is not there are reported as skipped.
 */
import { loadConfig } from '../src/config.ts';
import { benchCore } from './core.ts';

type Bench = { file: string; fn: string; needs?: 'REDIS_URL' | 'DATABASE_URL' };
const config = loadConfig();
const others: Bench[] = [
  { file: './discord.ts', fn: 'benchDiscordAck' },
  { file: './slack.ts', fn: 'benchSlackAck' },
  { file: './queue.ts', fn: 'benchQueue', needs: 'REDIS_URL' },
];

const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);

if (wanted('core')) await benchCore(40);
for (const b of others) {
  const name = b.file.replace(/^\.\/|\.ts$/g, '');
  if (!wanted(name)) continue;
  if (b.needs && !config[b.needs]) {
    console.log(`${name}: skipped (set ${b.needs})`);
    continue;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(b.file)) as Record<string, unknown>;
  } catch (err) {
    console.log(`${name}: skipped (${(err as Error).message.split('\n')[0]})`);
    continue;
  }
  await (mod[b.fn] as () => Promise<unknown>)();
}
process.exit(0);
