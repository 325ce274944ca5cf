import { randomUUID } from 'node:crypto';
import { UserError } from '../../core/errors.ts';
import { MAX_INPUT_IMAGES } from '../../core/request.ts';

/**
 * Pictures a page uploaded for the command it is about to send. The page sends each picture as its own raw
 * body (a picture content type needs a CORS preflight, so no other site can post one here, where a form could),
 * then the command naming them. They wait here briefly, in memory, for the session that sent them only; the
 * command takes them, whatever then happens to it, and the core checks and stores them with the job.
 */
export interface UploadLimits {
  /** Pictures one session may have waiting; the oldest goes when more arrive (a page re-sends on retry). */
  perSession: number;
  /** Bytes waiting across every session: sessions cost nothing to make, so this is what bounds memory. */
  totalBytes: number;
  /** How long a picture waits for its command. */
  ttlMs: number;
}

export const UPLOAD_LIMITS: UploadLimits = { perSession: MAX_INPUT_IMAGES * 2, totalBytes: 256 * 1024 * 1024, ttlMs: 10 * 60_000 };

interface Upload {
  id: string;
  owner: string;
  name: string;
  bytes: Uint8Array;
  at: number;
}

export class UploadShelf {
  /** Insertion-ordered, so the first entries are the oldest. */
  private readonly waiting = new Map<string, Upload>();
  private bytes = 0;

  constructor(
    private readonly limits: UploadLimits = UPLOAD_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps a picture for `owner`; returns its id, or a reason to refuse when the whole shelf is full. */
  put(owner: string, name: string, bytes: Uint8Array): { id: string } | { busy: string } {
    this.expire();
    const mine = [...this.waiting.values()].filter((u) => u.owner === owner);
    for (const old of mine.slice(0, Math.max(0, mine.length - this.limits.perSession + 1))) this.drop(old.id);
    if (this.bytes + bytes.byteLength > this.limits.totalBytes) return { busy: 'Too many pictures are being sent right now: try again in a minute.' };
    const upload: Upload = { id: randomUUID(), owner, name, bytes, at: this.now() };
    this.waiting.set(upload.id, upload);
    this.bytes += bytes.byteLength;
    return { id: upload.id };
  }

  /**
   * The pictures `ids` names, in that order, taken off the shelf. Another session's id answers like an unknown
   * one, so ids reveal nothing.
   */
  take(owner: string, ids: readonly string[]): { bytes: Uint8Array; name: string }[] {
    this.expire();
    const found = ids.map((id) => this.waiting.get(id));
    for (const u of found) if (u?.owner === owner) this.drop(u.id);
    if (found.some((u) => u?.owner !== owner)) {
      throw new UserError('INVALID_OPTIONS', 'Some of your pictures did not arrive or waited too long: add them again and send.');
    }
    return found.map((u) => ({ bytes: u!.bytes, name: u!.name }));
  }

  /** Bytes waiting now (for tests and metrics). */
  get size(): number {
    return this.bytes;
  }

  private drop(id: string): void {
    const u = this.waiting.get(id);
    if (!u) return;
    this.waiting.delete(id);
    this.bytes -= u.bytes.byteLength;
  }

  private expire(): void {
    const cutoff = this.now() - this.limits.ttlMs;
    for (const u of this.waiting.values()) {
      if (u.at > cutoff) break;
      this.drop(u.id);
    }
  }
}

/** A file name as shown in "Started from 1 picture: harbour.png": no folders, no control characters, short. */
export function cleanName(raw: string | null, n: number): string {
  const base = (raw ?? '').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim().slice(0, 120);
  return clean || `picture ${n}`;
}
