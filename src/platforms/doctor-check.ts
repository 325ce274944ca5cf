/** One line of `atelier doctor`. */
export interface DoctorCheck {
  /** 'fail': something configured does not work (doctor exits non-zero); 'todo': something is missing. */
  status: 'ok' | 'fail' | 'todo';
  line: string;
  /** The one thing to do about it, when this is what the operator is missing. */
  next?: string;
}

/** Answers of at most this size are read; a bigger one is not the API we expect. */
const MAX_ANSWER_BYTES = 256 * 1024;

/** One bounded call to a platform's API: a timeout, no retries (doctor is run by hand), a size cap. */
export async function callApi(url: string, init: RequestInit): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (text.length > MAX_ANSWER_BYTES) throw new Error(`answer of ${text.length} bytes from ${new URL(url).host}`);
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = {};
  }
  return { status: res.status, headers: res.headers, body };
}

export const reason = (err: unknown): string => (err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err));
