import { z } from 'zod';
import type { RequestField } from '../../core/request.ts';

/**
 * A ComfyUI workflow in API format: node id -> { class_type, inputs }, where an input is a literal or a
 * link `[nodeId, outputIndex]` (ComfyUI `execution.py` validate_inputs: "a length-2 list").
 */
export type ApiWorkflow = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: unknown }>;

export const apiWorkflowSchema = z.record(
  z.string(),
  z.object({ class_type: z.string().min(1), inputs: z.record(z.string(), z.unknown()), _meta: z.unknown().optional() }).passthrough(),
);

/** The request values a workflow can take, and the node input each one goes to. */
export const MAP_KEYS = ['prompt', 'negative', 'seed', 'steps', 'cfg', 'width', 'height', 'batch', 'checkpoint'] as const;
export type MapKey = (typeof MAP_KEYS)[number];
export interface InputRef {
  node: string;
  input: string;
}
export type WorkflowMap = Partial<Record<MapKey, InputRef>> & { prompt: InputRef };

/** The value type ComfyUI's object_info declares for each mapped input; checked at start and by doctor. */
export const MAP_TYPES: Record<MapKey, 'STRING' | 'INT' | 'FLOAT' | 'LIST'> = {
  prompt: 'STRING',
  negative: 'STRING',
  seed: 'INT',
  steps: 'INT',
  cfg: 'FLOAT',
  width: 'INT',
  height: 'INT',
  batch: 'INT',
  checkpoint: 'LIST',
};

/** The mapping file: `{ "prompt": "6.text", "seed": "3.seed", ... }` — node id, a dot, the input name. */
export const mapFileSchema = z
  .object(Object.fromEntries(MAP_KEYS.map((k) => [k, z.string().regex(/^.+\.[A-Za-z_][\w]*$/, 'expects "<node id>.<input name>", e.g. "6.text"').optional()])))
  .strict();

export function parseRef(ref: string): InputRef {
  const dot = ref.lastIndexOf('.');
  return { node: ref.slice(0, dot), input: ref.slice(dot + 1) };
}

/** Request fields a mapping lets the workflow express; nothing else may be asked of it. */
export function fieldsFor(map: WorkflowMap): RequestField[] {
  const f: RequestField[] = [];
  if (map.negative) f.push('negativePrompt');
  if (map.seed) f.push('seed');
  if (map.steps) f.push('steps');
  if (map.cfg) f.push('guidance');
  if (map.width && map.height) f.push('aspectRatio', 'width', 'height');
  if (map.batch) f.push('count');
  if (map.checkpoint) f.push('model');
  return f;
}

export const DEFAULT_CHECKPOINT = 'sd_xl_base_1.0.safetensors';

/**
 * The shipped text-to-image workflow, written for this project from ComfyUI's node definitions
 * (`nodes.py`: CheckpointLoaderSimple, CLIPTextEncode, EmptyLatentImage, KSampler, VAEDecode, SaveImage).
 * Sampler settings suit an SDXL-class checkpoint.
 */
export function defaultWorkflow(checkpoint: string): { workflow: ApiWorkflow; map: WorkflowMap } {
  const workflow: ApiWorkflow = {
    '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: checkpoint } },
    '2': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['1', 1] } },
    '3': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['1', 1] } },
    '4': { class_type: 'EmptyLatentImage', inputs: { width: 1024, height: 1024, batch_size: 1 } },
    '5': {
      class_type: 'KSampler',
      inputs: { seed: 0, steps: 25, cfg: 6.5, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 1, model: ['1', 0], positive: ['2', 0], negative: ['3', 0], latent_image: ['4', 0] },
    },
    '6': { class_type: 'VAEDecode', inputs: { samples: ['5', 0], vae: ['1', 2] } },
    '7': { class_type: 'SaveImage', inputs: { filename_prefix: 'atelier', images: ['6', 0] } },
  };
  const map: WorkflowMap = {
    prompt: { node: '2', input: 'text' },
    negative: { node: '3', input: 'text' },
    seed: { node: '5', input: 'seed' },
    steps: { node: '5', input: 'steps' },
    cfg: { node: '5', input: 'cfg' },
    width: { node: '4', input: 'width' },
    height: { node: '4', input: 'height' },
    batch: { node: '4', input: 'batch_size' },
    checkpoint: { node: '1', input: 'ckpt_name' },
  };
  return { workflow, map };
}

/** Checks a mapping against its own workflow (no server needed): every target node and input exists. */
export function checkMapAgainstWorkflow(workflow: ApiWorkflow, map: WorkflowMap, setting: string): string[] {
  const problems: string[] = [];
  for (const key of MAP_KEYS) {
    const ref = map[key];
    if (!ref) continue;
    const node = workflow[ref.node];
    if (!node) {
      problems.push(`${setting}: "${key}" points at node "${ref.node}", which the workflow does not have (its nodes: ${Object.keys(workflow).join(', ')})`);
      continue;
    }
    const value = node.inputs[ref.input];
    if (!(ref.input in node.inputs)) {
      problems.push(`${setting}: "${key}" points at input "${ref.input}" of node "${ref.node}" (${node.class_type}), which it does not have; it has ${Object.keys(node.inputs).join(', ')}`);
    } else if (Array.isArray(value)) {
      problems.push(`${setting}: "${key}" points at input "${ref.input}" of node "${ref.node}" (${node.class_type}), which is linked to node "${String(value[0])}"; map a literal input instead`);
    }
  }
  return problems;
}

/** One node class as GET /object_info describes it (ComfyUI `server.py` node_info). */
export interface NodeInfo {
  input: { required?: Record<string, unknown[]>; optional?: Record<string, unknown[]> };
  output?: unknown[];
  output_node?: boolean;
}
export type ObjectInfo = Record<string, NodeInfo>;

/** Limits the server declares for the mapped inputs: min/max of numbers, the allowed checkpoints. */
export interface InputLimits {
  min?: number;
  max?: number;
  choices?: string[];
}
export type WorkflowLimits = Partial<Record<MapKey, InputLimits>>;

/** The choices of a combo input spec: `[[choices...], {...}]`, or in newer servers `["COMBO", { options: [...] }]`. */
export function comboChoices(spec: unknown): string[] | undefined {
  if (!Array.isArray(spec)) return undefined;
  const [type, options] = spec as [unknown, Record<string, unknown> | undefined];
  const choices = Array.isArray(type) ? type : type === 'COMBO' && Array.isArray(options?.options) ? (options.options as unknown[]) : undefined;
  return choices?.map(String);
}

/**
 * Checks each node of a workflow against the server's node definitions: its class exists and it has every
 * required input (`execution.py` validate_prompt refuses both). Names the node in each problem.
 */
export function checkNodes(workflow: ApiWorkflow, info: ObjectInfo): string[] {
  const problems: string[] = [];
  let outputs = 0;
  for (const [id, node] of Object.entries(workflow)) {
    const def = info[node.class_type];
    if (!def) {
      problems.push(`node "${id}" uses ${node.class_type}, which this ComfyUI server does not have (a missing custom node?)`);
      continue;
    }
    if (def.output_node) outputs++;
    for (const name of Object.keys(def.input.required ?? {})) {
      if (!(name in node.inputs)) problems.push(`node "${id}" (${node.class_type}) lacks its required input "${name}"`);
    }
  }
  if (outputs === 0 && problems.length === 0) problems.push('the workflow has no output node (such as SaveImage), so ComfyUI would refuse it');
  return problems;
}

export function checkAgainstObjectInfo(workflow: ApiWorkflow, map: WorkflowMap, info: ObjectInfo): { problems: string[]; limits: WorkflowLimits } {
  const problems = checkNodes(workflow, info);
  const limits: WorkflowLimits = {};
  for (const key of MAP_KEYS) {
    const ref = map[key];
    if (!ref) continue;
    const node = workflow[ref.node];
    const def = node ? info[node.class_type] : undefined;
    if (!node || !def) continue;
    const spec = def.input.required?.[ref.input] ?? def.input.optional?.[ref.input];
    if (!spec) {
      problems.push(`"${key}" maps to input "${ref.input}" of node "${ref.node}" (${node.class_type}), which ${node.class_type} does not define`);
      continue;
    }
    const [type, options] = spec as [unknown, Record<string, unknown> | undefined];
    const want = MAP_TYPES[key];
    const choices = comboChoices(spec);
    const actual = choices ? 'LIST' : String(type);
    if (actual !== want) {
      problems.push(`"${key}" maps to input "${ref.input}" of node "${ref.node}" (${node.class_type}), which takes ${actual === 'LIST' ? 'a choice' : actual}, not ${want === 'LIST' ? 'a choice' : want}`);
      continue;
    }
    const l: InputLimits = {};
    if (typeof options?.min === 'number') l.min = options.min;
    if (typeof options?.max === 'number') l.max = options.max;
    if (choices) l.choices = choices;
    limits[key] = l;
  }
  return { problems, limits };
}
