/**
 * The load process for the ack bench: fires pre-signed /imagine interactions at a fixed rate at a URL on
 * loopback and times each answer from the moment it was sent. Signing happens before the clock starts.
 * Bounded: every request times out after 10 s, and the run gives up 15 s after its last scheduled send.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { Pool } from 'undici';
import { slashCommand } from '../../test/fakes/discord/interactions.ts';
import { serveParent } from '../child.ts';

interface Fire {
  url: string;
  rate: number;
  count: number;
  privateKeyPem: string;
  applicationId: string;
  members?: number;
}

async function fire(o: Fire): Promise<{ latencies: number[]; bySend: number[]; failed: number; lateMs: number; wallMs: number }> {
  const key = createPrivateKey(o.privateKeyPem);
  const members = o.members ?? 100;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const requests = Array.from({ length: o.count }, (_, n) => {
    const u = n % members;
    const body = JSON.stringify(slashCommand(o.applicationId, { id: String(100000000000000000n + BigInt(u)), name: `member${u}` }, 'imagine', { prompt: `bench-${n} lighthouse`, provider: 'bench', count: 4 }));
    const signature = sign(null, Buffer.from(timestamp + body), key).toString('hex');
    return { body, headers: { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp } };
  });
  const url = new URL(o.url);
  const pool = new Pool(url.origin, { connections: 256, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const latencies: number[] = [];
  /** Each answer's latency in the order the requests were sent (NaN: none), to see where in a burst the slow ones are. */
  const bySend: number[] = Array.from({ length: o.count }, () => NaN);
  let failed = 0;
  let lateMs = 0;
  const t0 = performance.now() + 50;
  const sends: Promise<void>[] = [];
  let next = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (next < requests.length && t0 + (next * 1000) / o.rate <= now) {
        lateMs = Math.max(lateMs, now - (t0 + (next * 1000) / o.rate));
        const index = next;
        const r = requests[next++]!;
        const s = performance.now();
        sends.push(
          pool
            .request({ path: url.pathname, method: 'POST', headers: r.headers, body: r.body })
            .then(async (res) => {
              const text = await res.body.text();
              latencies.push(performance.now() - s);
              bySend[index] = performance.now() - s;
              if (res.statusCode !== 200 || !text.includes('"type":5')) failed++;
            })
            .catch(() => {
              failed++;
            }),
        );
      }
      if (next >= requests.length) return done();
      setTimeout(tick, Math.max(0, t0 + (next * 1000) / o.rate - performance.now()));
    };
    tick();
  });
  const bound = new Promise<void>((r) => setTimeout(r, 15_000).unref());
  await Promise.race([Promise.all(sends), bound]);
  const wallMs = performance.now() - t0;
  failed += o.count - latencies.length - failed > 0 ? o.count - latencies.length - failed : 0;
  await pool.destroy();
  return { latencies, bySend, failed, lateMs, wallMs };
}

serveParent({}, { fire: (o: Fire) => fire(o) });
