import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';

/** Addresses no provider image URL may point at: loopback, private, link-local (cloud metadata), CGNAT, multicast, reserved. */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['2001:db8::', 32],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** True for an address we never connect to on a provider's say-so. */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  const family = isIP(ip);
  if (family === 4) return blocked.check(ip, 'ipv4');
  if (family === 6) return blocked.check(ip, 'ipv6');
  // Not an IP at all: the caller passed a name, which is never a safe answer.
  return true;
}

/** The one origin that may be private: the provider's own configured base URL (a self-hosted or test server). */
export interface AddressPolicy {
  exemptHost?: string;
  exemptPort?: number;
}

export function policyForBaseUrl(baseUrl: string): AddressPolicy {
  const u = new URL(baseUrl);
  return { exemptHost: u.hostname.replace(/^\[|\]$/g, '').toLowerCase(), exemptPort: effectivePort(u) };
}

export function effectivePort(u: URL): number {
  return u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
}

export const isExempt = (policy: AddressPolicy, host: string, port: number): boolean =>
  policy.exemptHost !== undefined && policy.exemptHost === host.replace(/^\[|\]$/g, '').toLowerCase() && policy.exemptPort === port;

export class BlockedAddressError extends Error {
  override readonly name = 'BlockedAddressError';
  readonly code = 'ATELIER_BLOCKED_ADDRESS';
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`${host} resolves to ${address}, a private or reserved address`);
  }
}

/**
 * An undici Agent that checks every connection's address as it is resolved (so DNS rebinding after a
 * check cannot slip through) and again once the socket is open.
 */
export function createGuardedAgent(policy: AddressPolicy, options: { connectTimeoutMs?: number; headersTimeoutMs?: number; bodyTimeoutMs?: number } = {}): Agent {
  const timeout = options.connectTimeoutMs ?? 10_000;
  const connect: buildConnector.connector = (opts, callback) => {
    const host = opts.hostname.replace(/^\[|\]$/g, '');
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    const exempt = isExempt(policy, host, port);
    if (!exempt && isIP(host) && isPrivateAddress(host)) {
      callback(new BlockedAddressError(host, host), null);
      return;
    }
    const lookup: LookupFunction = (hostname, lookupOptions, done) => {
      dnsLookup(hostname, { all: true, family: lookupOptions.family ?? 0 }, (err, addresses: LookupAddress[]) => {
        if (err) return done(err, '', 0);
        const bad = exempt ? undefined : addresses.find((a) => isPrivateAddress(a.address));
        if (bad || addresses.length === 0) return done(new BlockedAddressError(hostname, bad?.address ?? 'nothing'), '', 0);
        if (lookupOptions.all) (done as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        else done(null, addresses[0]!.address, addresses[0]!.family);
      });
    };
    const connector = buildConnector({ timeout, lookup } as buildConnector.BuildOptions);
    connector(opts, (err, socket) => {
      if (err || !socket) {
        callback(err ?? new Error('connect failed'), null);
        return;
      }
      const remote = socket.remoteAddress ?? '';
      if (!exempt && isPrivateAddress(remote)) {
        socket.destroy();
        callback(new BlockedAddressError(host, remote), null);
        return;
      }
      callback(null, socket);
    });
  };
  return new Agent({ connect, headersTimeout: options.headersTimeoutMs ?? 30_000, bodyTimeout: options.bodyTimeoutMs ?? 30_000 });
}

/** The BlockedAddressError behind a failed request, however deep undici wrapped it. */
export function findBlocked(err: unknown): BlockedAddressError | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof BlockedAddressError) return e;
  }
  return undefined;
}

/** Stops reading a body we refuse; undici reports the abort as an error nobody else listens for. */
export function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => {});
  body.destroy();
}

/**
 * Reads a response body up to `maxBytes`, refusing early on a declared length over it and stopping the
 * stream the moment it passes it (a hostile server may send forever). `tooLarge` makes the caller's error;
 * `failed` maps a network error while reading.
 */
export async function readCapped(
  res: { headers: Record<string, string | string[] | undefined>; body: NodeJS.ReadableStream & { destroy(): void } },
  maxBytes: number,
  tooLarge: () => Error,
  failed: (err: unknown) => unknown,
): Promise<Buffer> {
  if (Number(res.headers['content-length'] ?? NaN) > maxBytes) {
    discard(res.body);
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) break;
      chunks.push(chunk);
    }
  } catch (err) {
    throw failed(err);
  }
  if (size > maxBytes) {
    discard(res.body);
    throw tooLarge();
  }
  return Buffer.concat(chunks);
}
