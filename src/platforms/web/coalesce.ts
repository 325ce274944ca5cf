import type { Job } from '../../core/job.ts';
import { isFinal } from '../../core/job.ts';

/**
 * Per-job edit throttle: the first change of a window goes out at once, later ones in the window
 * collapse into the newest snapshot at its end, and a final state always goes out immediately.
 * Snapshots older than one already sent are dropped, so an out-of-order event never rolls a message back.
 */
export class JobCoalescer {
  private readonly pending = new Map<string, Job>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly sent = new Map<string, number>();

  constructor(
    private readonly send: (job: Job) => void,
    private readonly windowMs = 150,
  ) {}

  push(job: Job): void {
    if ((this.sent.get(job.id) ?? -1) > job.version) return;
    if (isFinal(job.state)) {
      this.clear(job.id);
      this.emit(job);
      return;
    }
    if (this.timers.has(job.id)) {
      this.pending.set(job.id, job);
      return;
    }
    this.emit(job);
    this.timers.set(job.id, setTimeout(() => this.flush(job.id), this.windowMs));
  }

  /** Forget a job (deleted): nothing more goes out for it. */
  forget(jobId: string): void {
    this.clear(jobId);
    this.sent.delete(jobId);
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
  }

  private flush(jobId: string): void {
    this.timers.delete(jobId);
    const job = this.pending.get(jobId);
    this.pending.delete(jobId);
    if (job) this.push(job);
  }

  private clear(jobId: string): void {
    const t = this.timers.get(jobId);
    if (t) clearTimeout(t);
    this.timers.delete(jobId);
    this.pending.delete(jobId);
  }

  private emit(job: Job): void {
    if ((this.sent.get(job.id) ?? -1) > job.version) return;
    this.sent.set(job.id, job.version);
    this.send(job);
  }
}
