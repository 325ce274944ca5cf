/**
 * The loopback fake Discord (test/fakes/discord) in its own process, so its spec validation costs the bot
 * nothing. It posts the signed interactions itself (it tracks their tokens) and reports every message
 * write that carries files: when, how many bytes, and which `bench-N` job it belongs to.
 */
import { FakeDiscord } from '../../test/fakes/discord/fake-discord.ts';
import { slashCommand } from '../../test/fakes/discord/interactions.ts';
import { serveParent, wallNow } from '../child.ts';

interface Upload {
  filename: string;
  size: number;
}
const fake = new FakeDiscord({ rateLimit: { limit: 5, windowMs: 5_000 } });
await fake.start();
const results = new Map<number, { at: number; bytes: number; files: number }>();
let resultCount = 0;
// Hook the fake's message write: the moment Discord would show the files in the channel.
const proto = FakeDiscord.prototype as unknown as { write: (m: { content: string }, body: Record<string, unknown>, uploads?: Upload[]) => void };
const write = proto.write;
proto.write = function (this: unknown, m, body, uploads = []) {
  write.call(this, m, body, uploads);
  if (!uploads.some((u) => u.filename.startsWith('grid') || u.filename.startsWith('image-'))) return;
  const n = Number(/bench-(\d+)\b/.exec(m.content)?.[1] ?? -1);
  const entry = { at: wallNow(), bytes: uploads.reduce((s, u) => s + u.size, 0), files: uploads.length };
  if (!results.has(n)) resultCount++;
  results.set(n, entry);
  process.send!({ type: 'result', n, ...entry });
};

serveParent(
  { apiUrl: fake.apiUrl, applicationId: fake.applicationId, botToken: fake.botToken, publicKeyHex: fake.keys.publicKeyHex },
  {
    target: (url: string) => {
      fake.interactionsUrl = url;
      return {};
    },
    /** Posts /imagine for job `n` from user `user`; answers with the ack's status and time. */
    imagine: async (a: { n: number; user: number; provider: string; count?: number }) => {
      const i = slashCommand(fake.applicationId, { id: String(100000000000000000n + BigInt(a.user)), name: `user${a.user}` }, 'imagine', { prompt: `bench-${a.n} a harbour at dusk`, provider: a.provider, count: a.count ?? 4 });
      const s = wallNow();
      const r = await fake.post(i);
      return { status: r.status, type: r.body?.type, ackMs: wallNow() - s };
    },
    results: () => ({ count: resultCount, results: Object.fromEntries(results) }),
    violations: () => fake.violations.slice(0, 20),
    forget: () => {
      results.clear();
      resultCount = 0;
      fake.messages.clear();
      fake.requests.length = 0;
      return {};
    },
  },
);
