/**
 * The floor for the ack: a minimal server that only reads the body, verifies Discord's Ed25519 signature
 * and defers (type 5). BENCH_PUBLIC_KEY: the 32-byte public key in hex.
 */
import { createPublicKey, verify } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveParent } from '../child.ts';

const raw = Buffer.from(process.env.BENCH_PUBLIC_KEY ?? '', 'hex');
const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const sig = Buffer.from(String(req.headers['x-signature-ed25519'] ?? ''), 'hex');
    const ok = verify(null, Buffer.concat([Buffer.from(String(req.headers['x-signature-timestamp'] ?? '')), body]), key, sig);
    if (!ok) {
      res.writeHead(401).end();
      return;
    }
    JSON.parse(body.toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"type":5}');
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
serveParent({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, {});
