import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Discord's Ed25519 public key (32 bytes, hex) as a key object. */
export const discordKey = (hex: string): KeyObject =>
  createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });

/** Reads the whole body and checks its signature, as the minimal servers do; a bad one is answered 401. */
export function onVerifiedBody(req: IncomingMessage, res: ServerResponse, key: KeyObject, then: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const sig = Buffer.from(String(req.headers['x-signature-ed25519'] ?? ''), 'hex');
    if (!verify(null, Buffer.concat([Buffer.from(String(req.headers['x-signature-timestamp'] ?? '')), body]), key, sig)) {
      res.writeHead(401).end();
      return;
    }
    then(body);
  });
}
