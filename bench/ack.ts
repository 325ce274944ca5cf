import { generateKeyPairSync } from 'node:crypto';
import { spawnChild } from './child.ts';
import { fmt, percentile } from './stats.ts';

/**
 * The acknowledgement under a burst, from a separate load process (bench/children/ack-load.ts) firing
 * pre-signed /imagine at fixed rates on loopback: against the floor (verify-and-defer only) and against
 * Atelier (its own process; Discord's REST side a plain responder in a third; a provider that never
 * finishes, so rendering does not compete). A fresh server per rate, warmed first. 100 members, as in issue 14.
 */
export async function benchAck(): Promise<Record<string, number>> {
  const steps = [
    { rate: 200, seconds: 2 },
    { rate: 500, seconds: 2 },
    { rate: 1000, seconds: 1 },
  ];
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const publicKeyHex = Buffer.from(spki.subarray(spki.length - 32)).toString('hex');
  const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const applicationId = '200000000000000001';
  const load = await spawnChild('ack-load');
  const out: Record<string, number> = {};
  try {
    for (const { rate, seconds } of steps) {
      const count = rate * seconds;
      const fire = (url: string, r = rate, n = count) => load.call<{ latencies: number[]; failed: number; lateMs: number; wallMs: number }>('fire', { url, rate: r, count: n, privateKeyPem, applicationId }, 60_000);
      // Each server answers 100 /imagine at 50/s first and settles: a bot meets a burst warm (code compiled,
      // statements prepared, connections open); its start-up is not what this measures.
      const warm = async (url: string) => {
        await fire(url, 50, 100);
        await new Promise((r) => setTimeout(r, 2_000));
      };

      const floorServer = await spawnChild('ack-floor', { BENCH_PUBLIC_KEY: publicKeyHex });
      await warm(`${String(floorServer.ready.url)}/discord/interactions`);
      const floor = await fire(`${String(floorServer.ready.url)}/discord/interactions`);
      await floorServer.stop();

      const responder = await spawnChild('responder');
      const atelier = await spawnChild('atelier', {
        // Every /imagine of the burst is queued (none refused as "studio busy"), so each costs the full work.
        BENCH_ENV: JSON.stringify({ DISCORD_API_URL: String(responder.ready.apiUrl), DISCORD_APPLICATION_ID: applicationId, DISCORD_TOKEN: 'bench-token', DISCORD_PUBLIC_KEY: publicKeyHex, DEFAULT_PROVIDER: 'bench', MAX_QUEUED_TOTAL: '100000' }),
        BENCH_PROVIDER: JSON.stringify({ files: [], delayMs: -1 }),
      });
      await warm(`${String(atelier.ready.url)}/discord/interactions`);
      const a = await fire(`${String(atelier.ready.url)}/discord/interactions`);
      await atelier.stop();
      await responder.stop();

      const f = { p50: percentile(floor.latencies, 50), p99: percentile(floor.latencies, 99), max: Math.max(...floor.latencies) };
      const at = { p50: percentile(a.latencies, 50), p99: percentile(a.latencies, 99), max: Math.max(...a.latencies) };
      const ratio = at.p99 / f.p99;
      const target = rate === 500 ? ' (target ≤ 3×)' : rate === 1000 ? ' (target: nothing near 3 s)' : '';
      console.log(
        `ack ${rate}/s × ${seconds} s (${count} /imagine, separate load process): floor p50 ${fmt(f.p50, 1)} ms, p99 ${fmt(f.p99, 1)} ms, max ${fmt(f.max, 1)} ms, ${floor.failed} failed; ` +
          `Atelier p50 ${fmt(at.p50, 1)} ms, p99 ${fmt(at.p99, 1)} ms, max ${fmt(at.max, 1)} ms, ${a.failed} failed; p99 ratio ${fmt(ratio)}×${target}; load generator lag ≤ ${fmt(Math.max(floor.lateMs, a.lateMs), 0)} ms`,
      );
      Object.assign(out, { [`p99Ratio${rate}`]: ratio, [`maxMs${rate}`]: at.max });
    }
  } finally {
    await load.stop();
  }
  return out;
}
