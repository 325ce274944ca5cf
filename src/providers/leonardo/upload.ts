import { FormData, request, type Dispatcher } from 'undici';
import { createGuardedAgent, policyForBaseUrl } from '../net-guard.ts';
import { ProviderHttpError } from '../provider-error.ts';
import { backoffDelay, sleep } from '../timing.ts';

/**
 * The second half of Leonardo's image upload: `POST /init-image` answers a presigned S3-style form (a URL
 * and `fields`), and the file is POSTed there as multipart/form-data, fields first and the file last, with
 * no API key (the policy in the fields is the authorisation). S3 answers 204 by default.
 */
export interface PresignedUploader {
  upload(url: string, fields: Record<string, string>, file: { bytes: Uint8Array; mime: string; name: string }, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export interface PresignedUploaderOptions {
  provider: string;
  /** The provider's base URL decides whether plain http and a private origin are allowed (tests). */
  baseUrl: string;
  timeoutMs?: number;
  maxAttempts?: number;
  dispatcher?: Dispatcher;
}

const MAX_ERROR_BYTES = 16 * 1024;

export function createPresignedUploader(o: PresignedUploaderOptions): PresignedUploader {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const maxAttempts = o.maxAttempts ?? 3;
  const owns = !o.dispatcher;
  const dispatcher = o.dispatcher ?? createGuardedAgent(policyForBaseUrl(o.baseUrl), { headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs });
  const base = new URL(o.baseUrl);

  function vet(raw: string): URL {
    const url = new URL(raw);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && base.protocol === 'http:')) {
      throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${o.provider} gave an upload address that is not https.`, o.provider, { phase: 'not-sent' });
    }
    return url;
  }

  async function once(url: URL, fields: Record<string, string>, file: { bytes: Uint8Array; mime: string; name: string }, signal: AbortSignal): Promise<'ok' | 'retry'> {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob([Buffer.from(file.bytes)], { type: file.mime }), file.name);
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { method: 'POST', body: form, dispatcher, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
    } catch (err) {
      if (signal.aborted) throw err;
      return 'retry';
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      res.body.resume();
      return 'ok';
    }
    const text = await readBounded(res.body);
    if (res.statusCode >= 500 || res.statusCode === 429) return 'retry';
    // S3 explains a refusal as <Error><Code>…</Code><Message>…</Message></Error>.
    const why = /<Message>([^<]{1,200})<\/Message>/.exec(text)?.[1] ?? /<Code>([^<]{1,80})<\/Code>/.exec(text)?.[1] ?? `HTTP ${res.statusCode}`;
    throw new ProviderHttpError('PROVIDER_REJECTED', `${o.provider} refused the picture upload: ${why}.`, o.provider, { status: res.statusCode, phase: 'answered' });
  }

  return {
    async upload(raw, fields, file, signal) {
      const url = vet(raw);
      for (let attempt = 1; ; attempt++) {
        // The same presigned key is overwritten by a repeat, so retrying cannot make a second image.
        if ((await once(url, fields, file, signal)) === 'ok') return;
        if (attempt >= maxAttempts) {
          throw new ProviderHttpError('PROVIDER_UNAVAILABLE', `${o.provider}'s upload storage did not take the picture after ${maxAttempts} tries. Try again later.`, o.provider, { phase: 'maybe-sent' });
        }
        await sleep(backoffDelay(attempt, 250, 4_000), signal);
      }
    },
    async close() {
      if (owns) await dispatcher.close();
    },
  };
}

async function readBounded(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ERROR_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
