import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type HttpServer } from '../src/server.ts';

let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('the one HTTP server', () => {
  it('answers GET /healthz', async () => {
    server = createServer({ host: '127.0.0.1', port: 0 });
    const url = await server.listen();
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('gives routes the raw body bytes exactly as sent', async () => {
    server = createServer({ host: '127.0.0.1', port: 0 });
    let seen: Buffer | undefined;
    server.route('POST', '/echo', (req) => {
      seen = req.body;
      return { status: 200, body: req.body.toString('hex') };
    });
    const url = await server.listen();
    const body = Buffer.from('{"a": 1,  "b":"é"}\n', 'utf8');
    const res = await fetch(`${url}/echo`, { method: 'POST', body });
    expect(await res.text()).toBe(body.toString('hex'));
    expect(seen?.equals(body)).toBe(true);
  });

  it('routes by prefix, and says 404 / 405 otherwise', async () => {
    server = createServer({ host: '127.0.0.1', port: 0 });
    server.routePrefix('GET', '/files/', (req) => ({ status: 200, body: req.path.slice('/files/'.length) }));
    server.route('POST', '/only-post', () => ({ status: 204 }));
    const url = await server.listen();
    expect(await (await fetch(`${url}/files/a/b.png`)).text()).toBe('a/b.png');
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
    expect((await fetch(`${url}/only-post`)).status).toBe(405);
  });

  it('refuses bodies over the cap with 413', async () => {
    server = createServer({ host: '127.0.0.1', port: 0, maxBodyBytes: 1024 });
    server.route('POST', '/in', () => ({ status: 200 }));
    const url = await server.listen();
    const res = await fetch(`${url}/in`, { method: 'POST', body: Buffer.alloc(4096) });
    expect(res.status).toBe(413);
  });

  it('turns a throwing handler into a 500 without a stack trace', async () => {
    server = createServer({ host: '127.0.0.1', port: 0 });
    server.route('GET', '/boom', () => {
      throw new Error('secret internals');
    });
    const url = await server.listen();
    const res = await fetch(`${url}/boom`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('secret');
  });
});
