import type { Job } from './job.ts';

/** Every job change as a snapshot: renderers need only the job to draw its message. */
export interface JobEvent {
  type: 'job.updated' | 'job.deleted';
  job: Job;
}

export type JobListener = (event: JobEvent) => void;

/** In-process fan-out; at scale the queue bridges events across processes into the same bus. */
export class JobEvents {
  private readonly listeners = new Set<JobListener>();

  subscribe(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: JobEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A broken renderer must not stop the others or the job.
      }
    }
  }
}
