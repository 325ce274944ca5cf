import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ComfyUiProvider } from '../../src/providers/comfyui/adapter.ts';
import { defaultWorkflow } from '../../src/providers/comfyui/workflow.ts';
import { ComfyFake } from '../fakes/providers/comfyui-fake.ts';
import { makePng } from '../fakes/providers/images.ts';
import { caught, makeCtx, providersFor, req } from './helpers.ts';

let fake: ComfyFake;
let configured: ReturnType<typeof providersFor>;
let comfy: ComfyUiProvider;
const dir = mkdtempSync(join(tmpdir(), 'atelier-comfy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tuning = { previewIntervalMs: 0, socketHandshakeTimeoutMs: 2_000 };
const reconfigure = async (env: Record<string, string> = {}, extra = {}) => {
  await configured?.close();
  configured = providersFor({ COMFYUI_URL: fake.url, ...env }, { tuning: { ...tuning, ...extra } });
  comfy = configured.providers.find((p) => p.id === 'comfyui') as ComfyUiProvider;
};

beforeEach(async () => {
  fake = await new ComfyFake().start();
  await reconfigure();
});
afterEach(async () => {
  await configured.close();
  await fake.close();
});

const prompts = () => fake.server.requests.filter((r) => r.method === 'POST' && r.path === '/prompt');
const rawPrompt = (prompt: unknown) => fetch(`${fake.url}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, client_id: 'raw' }) });
const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
};
const writeJson = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};

describe('ComfyUI adapter', () => {
  it('queues the default workflow with our values and client id, follows progress and previews, fetches images by /view', async () => {
    const ctx = makeCtx();
    const result = await comfy.generate(req({ prompt: 'a lighthouse at dusk', negativePrompt: 'people', aspectRatio: '16:9', count: 2, seed: 42, steps: 30, guidance: 5 }), ctx);
    const sent = prompts()[0]!.body as { prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }>; client_id: string };
    const byClass = (c: string) => Object.values(sent.prompt).filter((n) => n.class_type === c);
    expect(byClass('CLIPTextEncode').map((n) => n.inputs.text)).toEqual(['a lighthouse at dusk', 'people']);
    expect(byClass('EmptyLatentImage')[0]!.inputs).toMatchObject({ width: 1024, height: 576, batch_size: 2 });
    expect(byClass('KSampler')[0]!.inputs).toMatchObject({ seed: 42, steps: 30, cfg: 5 });
    expect(byClass('CheckpointLoaderSimple')[0]!.inputs.ckpt_name).toBe('sd_xl_base_1.0.safetensors');
    // The websocket was open under the same client id before the prompt went out.
    expect(fake.connections[0]).toBe(sent.client_id);
    expect(ctx.calls).toEqual(['intent', 'submitted']);
    expect(ctx.intents[0]!.key).toBe(sent.client_id);
    expect(result.images).toHaveLength(2);
    expect(result.images[0]).toMatchObject({ mime: 'image/png', width: 64, height: 64, seed: 42 });
    expect(result.seed).toBe(42);
    expect(fake.server.requests.filter((r) => r.path === '/view')).toHaveLength(2);
    const percents = ctx.progressLog.map((p) => p.percent).filter((p) => p !== undefined);
    expect(percents.length).toBeGreaterThan(0);
    expect(percents).toEqual([...percents].sort((a, b) => a! - b!));
    const preview = ctx.progressLog.find((p) => p.preview)?.preview;
    expect(preview?.mime).toBe('image/jpeg');
  });

  it('chooses and reports a seed when none was asked for', async () => {
    const result = await comfy.generate(req({ prompt: 'x', count: 1 }), makeCtx());
    const sent = prompts()[0]!.body as { prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }> };
    const seed = Object.values(sent.prompt).find((n) => n.class_type === 'KSampler')!.inputs.seed;
    expect(typeof seed).toBe('number');
    expect(result.seed).toBe(seed);
  });

  it('a workflow error names the node and the exception; it is not retried', async () => {
    fake.failWith = 'CUDA out of memory';
    const err = await caught(() => comfy.generate(req({ prompt: 'x', count: 1 }), makeCtx()));
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED' });
    expect(err.message).toMatch(/node "5" \(KSampler\) failed: CUDA out of memory/);
    expect(fake.submissions).toBe(1);
  });

  it('uploads an image for LoadImage with POST /upload/image; a second file of that name is kept apart', async () => {
    const png = await makePng(16, 16);
    const first = await comfy.uploadImage(png, 'source.png', AbortSignal.timeout(5_000));
    expect(first).toEqual({ name: 'source.png', subfolder: '', type: 'input' });
    const second = await comfy.uploadImage(png, 'source.png', AbortSignal.timeout(5_000));
    expect(second.name).toBe('source (1).png');
    expect(fake.uploads.map((u) => u.bytes)).toEqual([png.length, png.length]);
    // The uploaded names are what LoadImage now accepts.
    const info = (await (await fetch(`${fake.url}/object_info/LoadImage`)).json()) as { LoadImage: { input: { required: { image: [string[]] } } } };
    expect(info.LoadImage.input.required.image[0]).toEqual(['source.png', 'source (1).png']);
  });

  it('doctor checks the workflow against the live node definitions and the checkpoint', async () => {
    expect(await configured.doctor()).toEqual([{ provider: 'comfyui', ok: true, detail: expect.stringMatching(/reachable \(ComfyUI 0\.3\.40\); the default workflow fits its nodes; checkpoint sd_xl_base_1\.0\.safetensors present/) }]);
    await reconfigure({ COMFYUI_CHECKPOINT: 'missing.safetensors' });
    const [line] = await configured.doctor();
    expect(line).toMatchObject({ ok: false, detail: expect.stringMatching(/checkpoint "missing\.safetensors" is not on the server.*COMFYUI_CHECKPOINT/) });
  });

  it('offers the installed checkpoints as model choices', async () => {
    expect(await comfy.choices!('model', AbortSignal.timeout(5_000))).toEqual(['sd_xl_base_1.0.safetensors', 'juggernautXL_v9.safetensors']);
  });
});

describe('ComfyUI operator workflows', () => {
  const { workflow } = defaultWorkflow('sd_xl_base_1.0.safetensors');
  const mapFile = { prompt: '2.text', seed: '5.seed', width: '4.width', height: '4.height' };

  it('maps only what the map names; the capabilities say so and other fields are refused before sending', async () => {
    await reconfigure({ COMFYUI_WORKFLOW: writeJson('wf.json', workflow), COMFYUI_WORKFLOW_MAP: writeJson('map.json', mapFile) });
    expect(comfy.capabilities.fields).toEqual(['seed', 'aspectRatio', 'width', 'height']);
    expect(comfy.capabilities.maxCount).toBe(1);
    const err = await caught(() => comfy.generate(req({ prompt: 'x', steps: 20 }), makeCtx()));
    expect(err.message).toMatch(/cannot use steps/);
    const ok = await comfy.generate(req({ prompt: 'a boat', seed: 3 }), makeCtx());
    expect(ok.images).toHaveLength(1);
    expect(prompts()).toHaveLength(1);
  });

  it('a map naming a missing node or input stops start-up with a message naming it', async () => {
    const env = (map: unknown) => ({ COMFYUI_URL: fake.url, COMFYUI_WORKFLOW: writeJson('wf.json', workflow), COMFYUI_WORKFLOW_MAP: writeJson('bad.json', map) });
    expect(() => providersFor(env({ prompt: '9.text' }))).toThrow(/"prompt" points at node "9", which the workflow does not have/);
    expect(() => providersFor(env({ prompt: '2.txt' }))).toThrow(/input "txt" of node "2" \(CLIPTextEncode\), which it does not have; it has text, clip/);
    expect(() => providersFor(env({ prompt: '2.clip' }))).toThrow(/linked to node "1"/);
    expect(() => providersFor(env({ seed: '5.seed' }))).toThrow(/"prompt" is required/);
    expect(() => providersFor({ COMFYUI_URL: fake.url, COMFYUI_WORKFLOW: writeJson('wf.json', workflow) })).toThrow(/COMFYUI_WORKFLOW_MAP: required/);
  });

  it('a workflow using a node the server lacks is refused before sending, and doctor names the node', async () => {
    const custom = { ...workflow, '8': { class_type: 'UltimateSDUpscale', inputs: { image: ['6', 0] } } };
    await reconfigure({ COMFYUI_WORKFLOW: writeJson('custom.json', custom), COMFYUI_WORKFLOW_MAP: writeJson('map.json', mapFile) });
    const err = await caught(() => comfy.generate(req({ prompt: 'x' }), makeCtx()));
    expect(err).toMatchObject({ code: 'NOT_CONFIGURED' });
    expect(err.message).toMatch(/node "8" uses UltimateSDUpscale, which this ComfyUI server does not have/);
    expect(fake.submissions).toBe(0);
    expect((await configured.doctor())[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/node "8" uses UltimateSDUpscale/) });
    // ComfyUI itself refuses it the same way.
    const res = await rawPrompt(custom);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_prompt', message: expect.stringMatching(/UltimateSDUpscale does not exist/) } });
  });

  it('a mapped input of the wrong type is named with its node', async () => {
    await reconfigure({ COMFYUI_WORKFLOW: writeJson('wf.json', workflow), COMFYUI_WORKFLOW_MAP: writeJson('typed.json', { prompt: '2.text', seed: '5.sampler_name' }) });
    const err = await caught(() => comfy.generate(req({ prompt: 'x', seed: 1 }), makeCtx()));
    expect(err.message).toMatch(/"seed" maps to input "sampler_name" of node "5" \(KSampler\), which takes a choice, not INT/);
  });
});

/** Each rule ComfyUI enforces (execution.py validate_inputs): the fake rejects the raw prompt, the adapter refuses first. */
describe('ComfyUI documented rules', () => {
  const base = () => structuredClone(defaultWorkflow('sd_xl_base_1.0.safetensors').workflow);

  it('the default workflow is valid as shipped', async () => {
    expect((await rawPrompt(base())).status).toBe(200);
  });

  const raw: { rule: string; change: (w: ReturnType<typeof base>) => void; type: string; node: string }[] = [
    { rule: 'a checkpoint not installed', change: (w) => (w['1']!.inputs.ckpt_name = 'nope.safetensors'), type: 'value_not_in_list', node: '1' },
    { rule: 'steps above the node maximum', change: (w) => (w['5']!.inputs.steps = 10001), type: 'value_bigger_than_max', node: '5' },
    { rule: 'width below the node minimum', change: (w) => (w['4']!.inputs.width = 8), type: 'value_smaller_than_min', node: '4' },
    { rule: 'a required input missing', change: (w) => delete w['5']!.inputs.cfg, type: 'required_input_missing', node: '5' },
    { rule: 'a number that is not one', change: (w) => (w['5']!.inputs.seed = 'abc'), type: 'invalid_input_type', node: '5' },
    { rule: 'a link to the wrong output type', change: (w) => (w['2']!.inputs.clip = ['1', 0]), type: 'return_type_mismatch', node: '2' },
  ];
  for (const r of raw) {
    it(`${r.rule}: the fake refuses with ${r.type} on node ${r.node}`, async () => {
      const w = base();
      r.change(w);
      const res = await rawPrompt(w);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { type: string }; node_errors: Record<string, { errors: { type: string }[] }> };
      expect(body.error.type).toBe('prompt_outputs_failed_validation');
      expect(body.node_errors[r.node]!.errors[0]!.type).toBe(r.type);
    });
  }

  it('no output node: prompt_no_outputs', async () => {
    const w = base();
    delete w['7'];
    expect(await (await rawPrompt(w)).json()).toMatchObject({ error: { type: 'prompt_no_outputs' } });
  });

  it('the adapter refuses what the server declares out of range or absent, before sending', async () => {
    fake.defs.KSampler!.input.required.steps = ['INT', { default: 20, min: 1, max: 50 }];
    fake.defs.EmptyLatentImage!.input.required.width = ['INT', { default: 512, min: 64, max: 2048, step: 8 }];
    fake.defs.EmptyLatentImage!.input.required.height = ['INT', { default: 512, min: 64, max: 2048, step: 8 }];
    const cases: [Parameters<typeof req>[0], RegExp][] = [
      [{ prompt: 'x', model: 'nope.safetensors' }, /no model \(checkpoint\) "nope\.safetensors"\. Available: sd_xl_base_1\.0\.safetensors, juggernautXL_v9\.safetensors/],
      [{ prompt: 'x', steps: 60 }, /steps must be at most 50 on this ComfyUI workflow \(node "5" input "steps"\)/],
      [{ prompt: 'x', width: 32, height: 512 }, /width must be at least 64/],
      [{ prompt: 'x', width: 512 }, /both width and height/],
      [{ prompt: 'x --weird 2' }, /remove "--weird"/],
      [{ prompt: 'x', chaos: 5 }, /cannot use chaos/],
      [{ prompt: 'x', mode: 'advanced', rawPrompt: 'x --v 6' }, /no advanced/],
    ];
    for (const [input, says] of cases) expect((await caught(() => comfy.generate(req(input), makeCtx()))).message).toMatch(says);
    expect(fake.submissions).toBe(0);
  });
});

describe('ComfyUI faults', () => {
  it('429 on /prompt is retried; one prompt is queued', async () => {
    fake.server.inject({ route: 'POST /prompt', kind: 'status', status: 429, body: { error: 'busy' } });
    const result = await comfy.generate(req({ prompt: 'x', count: 1 }), makeCtx());
    expect(result.images).toHaveLength(1);
    expect(fake.history.size).toBe(1);
  });

  it('a lost /prompt answer is found again by its client id, never queued twice', async () => {
    fake.server.inject({ route: 'POST /prompt', kind: 'lose' });
    const ctx = makeCtx();
    const result = await comfy.generate(req({ prompt: 'x', count: 1 }), ctx);
    expect(result.images).toHaveLength(1);
    expect(fake.submissions).toBe(1);
    expect(ctx.submitted).toEqual([result.providerJobId]);
  });

  it('a garbled /prompt answer is found again the same way', async () => {
    fake.server.inject({ route: 'POST /prompt', kind: 'garble' });
    const result = await comfy.generate(req({ prompt: 'x', count: 1 }), makeCtx());
    expect(result.images).toHaveLength(1);
    expect(fake.history.size).toBe(1);
  });

  it('a 500 before anything was queued: the lookup proves it, and it is sent once more', async () => {
    fake.server.inject({ route: 'POST /prompt', kind: 'status', status: 500, body: { error: 'on_prompt handler crashed' } });
    const result = await comfy.generate(req({ prompt: 'x', count: 1 }), makeCtx());
    expect(result.images).toHaveLength(1);
    expect(fake.submissions).toBe(2);
    expect(fake.history.size).toBe(1);
  });

  it('garbage and a hang while following history are waited out', async () => {
    await reconfigure({}, { headersTimeoutMs: 300, bodyTimeoutMs: 300 });
    fake.server.inject({ route: 'GET /history/*', kind: 'garbage' });
    fake.server.inject({ route: 'GET /history/*', kind: 'hang' });
    const result = await comfy.generate(req({ prompt: 'x', count: 1 }), makeCtx());
    expect(result.images).toHaveLength(1);
  });

  it('a websocket that drops mid-job is reopened, and history still finishes the job', async () => {
    fake.mode = 'hold';
    const ctx = makeCtx();
    const running = comfy.generate(req({ prompt: 'x', count: 1 }), ctx);
    await until(() => ctx.progressLog.some((p) => p.percent !== undefined));
    fake.dropSockets();
    await until(() => fake.connections.length >= 2);
    fake.release();
    expect((await running).images).toHaveLength(1);
  });

  it('with no websocket at all the job still finishes by history', async () => {
    fake.refuseSockets = true;
    const result = await comfy.generate(req({ prompt: 'x', count: 1 }), makeCtx());
    expect(result.images).toHaveLength(1);
  });
});

describe('ComfyUI cancel', () => {
  it('a queued prompt of ours is deleted from the queue', async () => {
    fake.mode = 'paused';
    const ac = new AbortController();
    const ctx = makeCtx({ signal: ac.signal });
    const running = comfy.generate(req({ prompt: 'x', count: 1 }), ctx);
    await until(() => fake.pending.length === 1 && ctx.submitted.length === 1);
    ac.abort();
    await caught(() => running);
    const del = fake.server.requests.find((r) => r.method === 'POST' && r.path === '/queue');
    expect(del?.body).toEqual({ delete: [expect.any(String)] });
    expect(fake.pending).toHaveLength(0);
    expect(fake.server.count('POST /interrupt')).toBe(0);
  });

  it('canceled while /prompt had not answered yet: the queued prompt is found by its client id and deleted', async () => {
    fake.mode = 'paused';
    fake.server.inject({ route: 'POST /prompt', kind: 'slow' });
    const ac = new AbortController();
    const ctx = makeCtx({ signal: ac.signal });
    const running = comfy.generate(req({ prompt: 'x', count: 1 }), ctx);
    await until(() => fake.pending.length === 1);
    ac.abort();
    await caught(() => running);
    expect(ctx.submitted).toEqual([]);
    expect(fake.pending).toHaveLength(0);
  });

  it('our running prompt is interrupted', async () => {
    fake.mode = 'hold';
    const ac = new AbortController();
    const ctx = makeCtx({ signal: ac.signal });
    const running = comfy.generate(req({ prompt: 'x', count: 1 }), ctx);
    await until(() => fake.running !== undefined && ctx.progressLog.some((p) => p.percent !== undefined));
    const id = fake.running!.id;
    ac.abort();
    await caught(() => running);
    expect(fake.server.requests.find((r) => r.path === '/interrupt')?.body).toEqual({ prompt_id: id });
    await until(() => fake.history.has(id));
    expect(fake.history.get(id)!.status).toMatchObject({ status_str: 'error' });
  });

  it("someone else's running prompt is never interrupted: ours leaves the queue instead", async () => {
    fake.mode = 'hold';
    await rawPrompt(defaultWorkflow('sd_xl_base_1.0.safetensors').workflow);
    await until(() => fake.running !== undefined);
    const ac = new AbortController();
    const running = comfy.generate(req({ prompt: 'mine', count: 1 }), makeCtx({ signal: ac.signal }));
    await until(() => fake.pending.length === 1);
    ac.abort();
    await caught(() => running);
    expect(fake.server.count('POST /interrupt')).toBe(0);
    expect(fake.running).toBeDefined();
    expect(fake.pending).toHaveLength(0);
  });
});

describe('ComfyUI restart mid-job', () => {
  it('resumes by prompt id without queueing again', async () => {
    const first = await comfy.generate(req({ prompt: 'x', count: 1, seed: 9 }), makeCtx());
    const again = await comfy.generate(req({ prompt: 'x', count: 1, seed: 9 }), makeCtx({ resume: { providerJobId: first.providerJobId! } }));
    expect(again.images).toHaveLength(1);
    expect(fake.submissions).toBe(1);
  });

  it('an intent with no prompt id: the prompt is found by its client id and followed, not queued again', async () => {
    fake.mode = 'paused';
    // The process dies after sending and before recording the id: only the intent survived.
    const ctx = makeCtx({
      recordSubmitted: async () => {
        throw new Error('killed');
      },
    });
    await caught(() => comfy.generate(req({ prompt: 'x', count: 1, seed: 5 }), ctx));
    expect(fake.pending).toHaveLength(1);
    const resumed = makeCtx({ resume: { intent: ctx.intents[0]! } });
    const result = comfy.generate(req({ prompt: 'x', count: 1, seed: 5 }), resumed);
    await until(() => resumed.submitted.length === 1);
    fake.release();
    expect((await result).seed).toBe(5);
    expect(fake.submissions).toBe(1);
    expect(resumed.submitted).toEqual([(await result).providerJobId]);
  });

  it('a prompt the server lost in its own restart fails visibly and retryably', async () => {
    fake.mode = 'hold';
    const ctx = makeCtx();
    const running = comfy.generate(req({ prompt: 'x', count: 1 }), ctx);
    await until(() => ctx.submitted.length === 1 && fake.running !== undefined);
    fake.restart();
    const err = await caught(() => running);
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { retryable: true } });
    expect(err.message).toMatch(/no longer knows prompt .* restarted/);
    expect(fake.submissions).toBe(1);
  });
});

