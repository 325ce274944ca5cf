import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/providers/circuit-breaker.ts';
import { isProviderSideFailure } from '../../src/providers/failover.ts';
import { createHttpClient, type HttpClient, type HttpClientOptions } from '../../src/providers/http.ts';
import { ProviderHttpError } from '../../src/providers/provider-error.ts';
import { parseRetryAfter } from '../../src/providers/timing.ts';
import { FakeServer } from '../fakes/providers/fake-server.ts';
import { caught } from './helpers.ts';

let server: FakeServer;
let client: HttpClient;

const make = (over: Partial<HttpClientOptions> = {}) =>
  createHttpClient({
    provider: 'TestVendor',
    baseUrl: server.url + '/api',
    headers: { 'x-key': 'secret-123' },
    keySetting: 'TEST_KEY',
    headersTimeoutMs: 300,
    bodyTimeoutMs: 300,
    maxAttempts: 3,
    baseDelayMs: 1,
    maxDelayMs: 5,
    maxRetryAfterMs: 1_000,
    ...over,
  });

beforeEach(async () => {
  server = await new FakeServer((req) => (req.headers['x-key'] === 'secret-123' ? { status: 200, body: { ok: true, path: req.path } } : { status: 401, body: { message: 'bad key' } })).start();
  client = make();
});
afterEach(async () => {
  await client.close();
  await server.close();
});

const get = (c = client) => c.call<{ ok: boolean }>({ method: 'GET', path: '/thing', idempotent: true });
const create = (c = client) => c.call({ method: 'POST', path: '/create', json: { a: 1 }, idempotent: false });

describe('http client', () => {
  it('sends fixed headers under the base path and parses JSON', async () => {
    expect(await get()).toEqual({ ok: true, path: '/api/thing' });
  });

  it('retries an idempotent call after 500s, then succeeds', async () => {
    server.inject({ route: 'GET /api/thing', kind: 'status', status: 500, body: { message: 'boom' }, times: 2 });
    expect(await get()).toMatchObject({ ok: true });
    expect(server.count('GET /api/thing')).toBe(3);
  });

  it('gives up after the bounded attempts with PROVIDER_UNAVAILABLE and the vendor text', async () => {
    server.inject({ route: 'GET /api/thing', kind: 'status', status: 503, body: { message: 'maintenance' }, times: 5 });
    const err = await caught(() => get());
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(err.message).toMatch(/HTTP 503: maintenance/);
    expect(server.count('GET /api/thing')).toBe(3);
    expect(isProviderSideFailure(err)).toBe(true);
  });

  it('honours Retry-After on 429 and retries', async () => {
    server.inject({ route: 'GET /api/thing', kind: 'status', status: 429, headers: { 'retry-after': '0' }, body: { message: 'slow' } });
    expect(await get()).toMatchObject({ ok: true });
    expect(server.count('GET /api/thing')).toBe(2);
  });

  it('a Retry-After beyond the cap is not waited out: RATE_LIMITED with retryAfterMs', async () => {
    server.inject({ route: 'GET /api/thing', kind: 'status', status: 429, headers: { 'retry-after': '120' }, body: { message: 'slow' } });
    const err = await caught(() => get());
    expect(err).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterMs: 120_000 } });
    expect(server.count('GET /api/thing')).toBe(1);
  });

  it('never repeats a billable create after a 500: one request, outcome unknown', async () => {
    server.inject({ route: 'POST /api/create', kind: 'status', status: 500, body: { message: 'boom' }, times: 3 });
    const err = await caught(() => create());
    expect(err).toBeInstanceOf(ProviderHttpError);
    expect(err.outcomeUnknown).toBe(true);
    expect(server.count('POST /api/create')).toBe(1);
  });

  it('never repeats a create whose response was lost', async () => {
    server.inject({ route: 'POST /api/create', kind: 'lose' });
    const err = await caught(() => create());
    expect(err.outcomeUnknown).toBe(true);
    expect(server.count('POST /api/create')).toBe(1);
  });

  it('does repeat a create refused with 429: nothing was made', async () => {
    server.inject({ route: 'POST /api/create', kind: 'status', status: 429, headers: { 'retry-after': '0' }, body: {} });
    expect(await create()).toMatchObject({ ok: true });
    expect(server.count('POST /api/create')).toBe(2);
  });

  it('repeats a create whose connection was refused (it never left), then reports it as not sent', async () => {
    const closed = make({ baseUrl: 'http://127.0.0.1:1' });
    const err = await caught(() => create(closed));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', info: { phase: 'not-sent' } });
    expect(err.outcomeUnknown).toBe(false);
    await closed.close();
  });

  it('a hanging provider is a PROVIDER_TIMEOUT, not a hang', async () => {
    server.inject({ route: 'GET /api/thing', kind: 'hang', times: 3 });
    const err = await caught(() => get());
    expect(err).toMatchObject({ code: 'PROVIDER_TIMEOUT' });
    expect(err.message).toMatch(/did not answer in time/);
  });

  it('a truncated body is retried and then reported', async () => {
    server.inject({ route: 'GET /api/thing', kind: 'truncated', times: 3 });
    const err = await caught(() => get());
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(server.count('GET /api/thing')).toBe(3);
  });

  it('a garbage body on a read is retried; on a create it is unreadable and not retried', async () => {
    server.inject({ route: 'GET /api/thing', kind: 'garbage' });
    expect(await get()).toMatchObject({ ok: true });
    server.inject({ route: 'POST /api/create', kind: 'garbage' });
    const err = await caught(() => create());
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', info: { unreadable: true } });
    expect(err.outcomeUnknown).toBe(true);
    expect(server.count('POST /api/create')).toBe(1);
  });

  it('caps the response size', async () => {
    server.inject({ route: 'GET /api/thing', kind: 'oversize', times: 3 });
    const err = await caught(() => get());
    expect(err.message).toMatch(/larger than 2048 KB/);
  });

  it('a 4xx is PROVIDER_REJECTED with the vendor text, not retried, and a 401 names the key setting without the key', async () => {
    server.inject({ route: 'GET /api/thing', kind: 'status', status: 400, body: { error: 'width must be a multiple of 8' } });
    const err = await caught(() => get());
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED' });
    expect(err.message).toContain('width must be a multiple of 8');
    expect(isProviderSideFailure(err)).toBe(false);
    const bad = make({ headers: { 'x-key': 'nope' } });
    const denied = await caught(() => get(bad));
    expect(denied.message).toMatch(/refused the API key \(HTTP 401: bad key\)\. Check TEST_KEY/);
    expect(denied.message).not.toContain('nope');
    await bad.close();
  });

  it('a vendor-flagged moderation refusal is MODERATION with blockedBy', async () => {
    const c = make({ readError: (_s, body) => ({ message: String((body as { error: string }).error), moderation: true }) });
    server.inject({ route: 'POST /api/create', kind: 'status', status: 400, body: { error: 'prompt violates policy' } });
    const err = await caught(() => create(c));
    expect(err).toMatchObject({ code: 'MODERATION', details: { blockedBy: 'TestVendor' } });
    expect(isProviderSideFailure(err)).toBe(false);
    await c.close();
  });

  it('opens the circuit after repeated failures and fails fast without calling', async () => {
    let t = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1_000, now: () => t });
    const c = make({ breaker, maxAttempts: 1 });
    server.inject({ route: 'GET /api/thing', kind: 'status', status: 500, body: {}, times: 2 });
    await caught(() => get(c));
    await caught(() => get(c));
    const before = server.requests.length;
    const err = await caught(() => get(c));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', info: { circuitOpen: true } });
    expect(server.requests.length).toBe(before);
    expect(isProviderSideFailure(err)).toBe(true);
    t = 1_000;
    expect(await get(c)).toMatchObject({ ok: true });
    expect(breaker.state).toBe('closed');
    await c.close();
  });
});

describe('Retry-After parsing', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
