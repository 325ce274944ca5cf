import { z } from 'zod';
import type { VendorError } from '../http.ts';

/** POST /prompt → `{ prompt_id, number, node_errors }` (ComfyUI `server.py` post_prompt). */
export const queuedSchema = z.object({ prompt_id: z.string().min(1), number: z.number().optional() }).passthrough();

const imageRefSchema = z.object({ filename: z.string().min(1), subfolder: z.string().default(''), type: z.string().default('output') }).passthrough();
export type ImageRef = z.output<typeof imageRefSchema>;

/**
 * GET /history/{id} → `{ [id]: { prompt, outputs: { [node]: { images: [...] } }, status? } }`, or `{}` while it
 * is queued or running (`execution.py` PromptQueue.get_history; `status` in newer servers).
 */
export const historySchema = z.record(
  z.string(),
  z
    .object({
      outputs: z.record(z.string(), z.object({ images: z.array(imageRefSchema).optional() }).passthrough()).default({}),
      status: z
        .object({ status_str: z.string().optional(), completed: z.boolean().optional(), messages: z.array(z.unknown()).optional() })
        .passthrough()
        .optional(),
    })
    .passthrough(),
);
export type HistoryEntry = z.output<typeof historySchema>[string];

/** GET /queue → `{ queue_running: [[number, prompt_id, prompt, extra_data, outputs]...], queue_pending: [...] }`. */
const queueItem = z.array(z.unknown()).min(2);
export const queueSchema = z.object({ queue_running: z.array(queueItem).default([]), queue_pending: z.array(queueItem).default([]) }).passthrough();
export type QueueState = z.output<typeof queueSchema>;

/** POST /upload/image → `{ name, subfolder, type }`. */
export const uploadSchema = z.object({ name: z.string().min(1), subfolder: z.string().default(''), type: z.string().default('input') }).passthrough();

/** Where a prompt stands in GET /queue: running, waiting behind `ahead` others, or not there. */
export function queueStanding(q: QueueState, promptId: string): { state: 'running' } | { state: 'pending'; ahead: number } | { state: 'absent' } {
  if (q.queue_running.some((item) => item[1] === promptId)) return { state: 'running' };
  const pending = q.queue_pending.map((item) => ({ number: Number(item[0]), id: item[1] }));
  const mine = pending.find((p) => p.id === promptId);
  if (!mine) return { state: 'absent' };
  return { state: 'pending', ahead: q.queue_running.length + pending.filter((p) => p.number < mine.number).length };
}

/** The client_id a queue or history item was submitted with (its extra_data), to find a lost submission. */
export function clientIdOf(item: unknown[]): string | undefined {
  const extra = item[3] as { client_id?: unknown } | undefined;
  return typeof extra?.client_id === 'string' ? extra.client_id : undefined;
}

interface NodeError {
  errors?: { message?: string; details?: string }[];
  class_type?: string;
}

/**
 * ComfyUI refuses a prompt with `{ error: { type, message, details }, node_errors: { [id]: { errors[], class_type } } }`
 * (`execution.py` validate_prompt); the message names each node and what is wrong with it.
 */
export function readComfyError(_status: number, body: unknown, text: string): VendorError {
  const b = (body ?? {}) as { error?: unknown; node_errors?: Record<string, NodeError> };
  const parts: string[] = [];
  if (typeof b.error === 'string') parts.push(b.error);
  else if (b.error && typeof b.error === 'object') {
    const e = b.error as { message?: unknown; details?: unknown };
    if (typeof e.message === 'string') parts.push(e.message);
  }
  for (const [id, ne] of Object.entries(b.node_errors ?? {})) {
    for (const err of ne.errors ?? []) parts.push(`node "${id}" (${ne.class_type ?? '?'}): ${err.message ?? 'invalid'}${err.details ? ` — ${err.details}` : ''}`);
  }
  return { message: parts.join('; ') || text.replace(/\s+/g, ' ').trim().slice(0, 200) };
}
