import { spawnChild, type Child } from './child.ts';

/** A result in the channel: when (wall clock, ms), how many bytes and files it uploaded. */
export interface Landed {
  at: number;
  bytes: number;
  files: number;
}

export interface DiscordRig {
  discord: Child;
  /** The bot under test: Atelier, or the minimal peer. */
  atelier: Child;
  /** Posts job `n` and resolves when its files are in the channel. */
  job(n: number, user: number): Promise<Landed>;
  /** Posts job `n` and resolves once the bot has deferred it. */
  post(n: number, user: number): Promise<void>;
  /** Resolves when posted job `n`'s files are in the channel. */
  wait(n: number, timeoutMs?: number): Promise<Landed>;
  stop(): Promise<void>;
}

/** The fake Discord and Atelier in two processes, wired together. */
export async function discordRig(provider: Record<string, unknown>, env: Record<string, string> = {}, bot: 'atelier' | 'peer' = 'atelier'): Promise<DiscordRig> {
  const discord = await spawnChild('fake-discord');
  const d = discord.ready as { apiUrl: string; applicationId: string; botToken: string; publicKeyHex: string };
  const atelier =
    bot === 'peer'
      ? await spawnChild('peer', { BENCH_PUBLIC_KEY: d.publicKeyHex, BENCH_API_URL: d.apiUrl, BENCH_PROVIDER: JSON.stringify(provider) })
      : await spawnChild('atelier', {
          BENCH_ENV: JSON.stringify({ DISCORD_API_URL: d.apiUrl, DISCORD_APPLICATION_ID: d.applicationId, DISCORD_TOKEN: d.botToken, DISCORD_PUBLIC_KEY: d.publicKeyHex, DEFAULT_PROVIDER: 'bench', ...env }),
          BENCH_PROVIDER: JSON.stringify(provider),
        });
  await discord.call('target', `${String(atelier.ready.url)}/discord/interactions`);
  const waiting = new Map<number, (r: Landed) => void>();
  discord.on('result', (m) => waiting.get(Number(m.n))?.(m as unknown as Landed));
  const landed = new Map<number, Promise<Landed>>();
  const post = async (n: number, user: number) => {
    landed.set(n, new Promise<Landed>((r) => waiting.set(n, r)));
    const ack = await discord.call<{ status: number; type: number }>('imagine', { n, user, provider: 'bench' });
    if (ack.status !== 200 || ack.type !== 5) throw new Error(`job ${n}: the bot answered ${ack.status} type ${ack.type}, not a deferral`);
  };
  const wait = async (n: number, timeoutMs = 120_000) => {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([landed.get(n)!, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`job ${n}: no result in the channel within ${timeoutMs / 1000} s`)), timeoutMs)))]);
    clearTimeout(timer);
    waiting.delete(n);
    landed.delete(n);
    return r;
  };
  return {
    discord,
    atelier,
    post,
    wait,
    async job(n, user) {
      await post(n, user);
      return wait(n);
    },
    async stop() {
      await atelier.stop();
      await discord.stop();
    },
  };
}
