/** Bounded POSTs outside the Web API: upload URLs and response_url. */
export interface PostOptions {
  timeoutMs: number;
  attempts: number;
  /** Bytes of the answer kept for error messages; the rest is discarded. */
  maxAnswerBytes?: number;
}

export class PostError extends Error {
  override readonly name = 'PostError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * POSTs once per attempt with a timeout; retries network errors, 429 and 5xx with a short backoff, and
 * returns the first part of the answer. 4xx other than 429 fails at once: sending it again cannot help.
 */
export async function boundedPost(url: string, body: Uint8Array | string, headers: Record<string, string>, opts: PostOptions): Promise<string> {
  let last: unknown;
  for (let i = 1; i <= opts.attempts; i++) {
    try {
      const res = await fetch(url, { method: 'POST', body: body as BodyInit, headers, redirect: 'error', signal: AbortSignal.timeout(opts.timeoutMs) });
      const answer = await readSome(res, opts.maxAnswerBytes ?? 16 * 1024);
      if (res.ok) return answer;
      last = new PostError(`POST answered ${res.status}: ${answer.slice(0, 200)}`, res.status);
      if (res.status < 500 && res.status !== 429) throw last;
    } catch (err) {
      if (err instanceof PostError && err.status !== undefined && err.status < 500 && err.status !== 429) throw err;
      last = err;
    }
    if (i < opts.attempts) await new Promise((r) => setTimeout(r, 200 * 2 ** (i - 1)));
  }
  throw last instanceof Error ? last : new PostError(String(last));
}

async function readSome(res: Response, max: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= max) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}
