import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord } from './fake-discord.ts';
import { slashCommand } from './interactions.ts';

/** The fake must refuse what Discord refuses, or the bot's tests prove nothing. */
describe('fake Discord', () => {
  const fake = new FakeDiscord({ rateLimit: { limit: 3, windowMs: 60_000 } });
  let token = '';
  let interactionId = '';
  beforeAll(async () => {
    await fake.start();
    const i = slashCommand(fake.applicationId, { id: '1', name: 'u' }, 'imagine', { prompt: 'x' });
    fake.register(i);
    token = i.token;
    interactionId = i.id;
  });
  afterAll(() => fake.stop());

  const api = (path: string) => `${fake.apiUrl}/v10${path}`;
  const call = async (method: string, path: string, body?: unknown, bot = false) => {
    const res = await fetch(api(path), { method, headers: { 'content-type': 'application/json', ...(bot ? { authorization: `Bot ${fake.botToken}` } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
  const channel = '400000000000000001';

  it('answers a deferred callback, then refuses a second one with 40060', async () => {
    expect((await call('POST', `/interactions/${interactionId}/${token}/callback`, { type: 5 })).status).toBe(204);
    const again = await call('POST', `/interactions/${interactionId}/${token}/callback`, { type: 5 });
    expect(again.status).toBe(400);
    expect(again.body?.code).toBe(40060);
  });

  it('routes %40original like @original', async () => {
    const r = await call('PATCH', `/webhooks/${fake.applicationId}/${token}/messages/%40original`, { content: 'hello' });
    expect(r.status).toBe(200);
    expect(r.body?.content).toBe('hello');
  });

  it('refuses fields the spec does not define, and documented limits the spec leaves open', async () => {
    const bad = [
      { content: 'x', colour: 'red' },
      { content: 'x'.repeat(2001) },
      { components: [{ type: 1, components: Array.from({ length: 6 }, (_, k) => ({ type: 2, style: 2, custom_id: `b${k}`, label: 'L' })) }] },
      { components: [{ type: 1, components: [{ type: 2, style: 2, custom_id: 'c'.repeat(101), label: 'L' }] }] },
      { components: [{ type: 1, components: [{ type: 2, style: 2, custom_id: 'c', label: 'L'.repeat(81) }] }] },
      { components: Array.from({ length: 6 }, (_, r) => ({ type: 1, components: [{ type: 2, style: 2, custom_id: `r${r}`, label: 'L' }] })) },
      { components: [{ type: 1, components: [{ type: 2, style: 2, custom_id: 'same', label: 'A' }, { type: 2, style: 2, custom_id: 'same', label: 'B' }] }] },
    ];
    for (const body of bad) {
      const r = await call('POST', `/channels/${channel}/messages`, body, true);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body?.code).toBe(50035);
    }
    expect(fake.violations.length).toBe(bad.length);
    fake.violations.length = 0;
  });

  it('checks multipart attachments against files[n], and refuses files over the cap with 40005', async () => {
    const form = (attachments: unknown[], files: [string, number][]) => {
      const f = new FormData();
      f.append('payload_json', JSON.stringify({ content: 'x', attachments }));
      for (const [key, size] of files) f.append(key, new Blob([new Uint8Array(size)], { type: 'image/png' }), 'a.png');
      return f;
    };
    const post = (f: FormData) => fetch(api(`/channels/${channel}/messages`), { method: 'POST', headers: { authorization: `Bot ${fake.botToken}` }, body: f });
    expect((await post(form([{ id: '0', filename: 'a.png' }], [['files[0]', 10]]))).status).toBe(200);
    expect((await post(form([{ id: '1', filename: 'a.png' }], [['files[0]', 10]]))).status).toBe(400);
    fake.violations.length = 0;
    fake.attachmentLimit = 100;
    const big = await post(form([{ id: '0', filename: 'a.png' }], [['files[0]', 101]]));
    fake.attachmentLimit = 10 * 1024 * 1024;
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: number }).code).toBe(40005);
  });

  it('an edit keeps exactly the attachments it lists by id, removes those it omits, keeps all without a list, and refuses an unknown id with 50035', async () => {
    const ch = '400000000000000002';
    const f = new FormData();
    f.append('payload_json', JSON.stringify({ content: 'two files', attachments: [{ id: '0', filename: 'a.png' }, { id: '1', filename: 'b.png' }] }));
    f.append('files[0]', new Blob([new Uint8Array(10)], { type: 'image/png' }), 'a.png');
    f.append('files[1]', new Blob([new Uint8Array(20)], { type: 'image/png' }), 'b.png');
    const created = (await (await fetch(api(`/channels/${ch}/messages`), { method: 'POST', headers: { authorization: `Bot ${fake.botToken}` }, body: f })).json()) as { id: string; attachments: { id: string; filename: string }[] };
    const [a, b] = created.attachments;
    expect([a?.filename, b?.filename]).toEqual(['a.png', 'b.png']);
    expect(fake.uploads.filter((u) => u.messageId === created.id).map((u) => u.filename)).toEqual(['a.png', 'b.png']);

    const path = `/channels/${ch}/messages/${created.id}`;
    const kept = await call('PATCH', path, { content: 'one kept', attachments: [{ id: a!.id }] }, true);
    expect(kept.status).toBe(200);
    expect((kept.body?.attachments as { id: string }[]).map((x) => x.id)).toEqual([a!.id]);
    expect(fake.messages.get(created.id)!.attachments.map((x) => x.id)).toEqual([a!.id]);
    // No list: the files stay as they are.
    expect((await call('PATCH', path, { content: 'no list' }, true)).status).toBe(200);
    expect(fake.messages.get(created.id)!.attachments.map((x) => x.id)).toEqual([a!.id]);

    // b was removed by the first edit; the last id was never this message's. Nothing of the edit is applied.
    const r = await call('PATCH', path, { content: 'refused', attachments: [{ id: a!.id }, { id: b!.id }, { id: '123456789012345678' }] }, true);
    expect(r.status).toBe(400);
    expect(r.body?.code).toBe(50035);
    expect(fake.violations).toEqual([expect.stringMatching(new RegExp(`attachments\\[1\\]\\.id ${b!.id} .*; attachments\\[2\\]\\.id 123456789012345678 `))]);
    expect(fake.messages.get(created.id)!.content).toBe('no list');
    expect(fake.messages.get(created.id)!.attachments.map((x) => x.id)).toEqual([a!.id]);
    fake.violations.length = 0;
  });

  it('needs the bot token for channel routes, and refuses an expired interaction token with 50027', async () => {
    expect((await call('POST', `/channels/${channel}/messages`, { content: 'x' })).status).toBe(401);
    fake.expireTokens();
    const r = await call('PATCH', `/webhooks/${fake.applicationId}/${token}/messages/@original`, { content: 'late' });
    expect(r.status).toBe(401);
    expect(r.body?.code).toBe(50027);
  });

  it('rate limits a route with 429, retry_after and X-RateLimit headers', async () => {
    const path = `/channels/400000000000000009/messages`;
    const first = await call('POST', path, { content: '1' }, true);
    expect(first.headers.get('x-ratelimit-limit')).toBe('3');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('2');
    await call('POST', path, { content: '2' }, true);
    await call('POST', path, { content: '3' }, true);
    const limited = await call('POST', path, { content: '4' }, true);
    expect(limited.status).toBe(429);
    expect(limited.body?.retry_after).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
