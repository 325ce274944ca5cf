import type { z } from 'zod';
import type { RawRequest, RawResponse } from '../server.ts';

/** A webhook's JSON body checked against its schema, or the 400 that says what was expected. */
export function readWebhookBody<T>(req: RawRequest, schema: z.ZodType<T>, expected: string): { data: T } | { refusal: RawResponse } {
  let payload: unknown;
  try {
    payload = JSON.parse(req.body.toString('utf8'));
  } catch {
    return { refusal: { status: 400, body: { error: 'expected a JSON body' } } };
  }
  const parsed = schema.safeParse(payload);
  return parsed.success ? { data: parsed.data } : { refusal: { status: 400, body: { error: `expected ${expected}` } } };
}
