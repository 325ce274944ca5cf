/**
 * The floor for the ack: a minimal server that only reads the body, verifies Discord's Ed25519 signature
 * and defers (type 5). BENCH_PUBLIC_KEY: the 32-byte public key in hex.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveParent } from '../child.ts';
import { discordKey, onVerifiedBody } from './verify.ts';

const key = discordKey(process.env.BENCH_PUBLIC_KEY ?? '');
const server = createServer((req, res) => {
  onVerifiedBody(req, res, key, (body) => {
    JSON.parse(body.toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"type":5}');
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
serveParent({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, {});
