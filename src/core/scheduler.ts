/** One waiting job as the scheduler sees it. */
export interface SchedulerEntry {
  jobId: string;
  userKey: string;
  channelKey: string;
}

export interface SchedulerLimits {
  global: number;
  perUser: number;
  perChannel: number;
}

/**
 * Fair order without I/O: round-robin across users (each user has a FIFO lane; the next start goes
 * to the next user in the ring who has work and room), within per-user, per-channel and global
 * concurrency limits. One user's twenty queued jobs never starve another's one.
 */
export class FairScheduler {
  private readonly lanes = new Map<string, SchedulerEntry[]>();
  /** Users in the order they will next be served. */
  private ring: string[] = [];
  private readonly running = new Map<string, SchedulerEntry>();

  constructor(private readonly limits: SchedulerLimits) {}

  add(entry: SchedulerEntry): void {
    const lane = this.lanes.get(entry.userKey);
    if (lane) lane.push(entry);
    else {
      this.lanes.set(entry.userKey, [entry]);
      this.ring.push(entry.userKey);
    }
  }

  /** Removes a queued entry; returns false if it was not waiting. */
  remove(jobId: string): boolean {
    for (const [user, lane] of this.lanes) {
      const i = lane.findIndex((e) => e.jobId === jobId);
      if (i >= 0) {
        lane.splice(i, 1);
        if (lane.length === 0) this.dropUser(user);
        return true;
      }
    }
    return false;
  }

  /** Marks a job finished so its user and channel get their slot back. */
  finish(jobId: string): void {
    this.running.delete(jobId);
  }

  /** Takes the next job that may start now, or undefined. */
  next(): SchedulerEntry | undefined {
    if (this.running.size >= this.limits.global) return undefined;
    for (let i = 0; i < this.ring.length; i++) {
      const user = this.ring[i]!;
      if (this.count('userKey', user) >= this.limits.perUser) continue;
      const lane = this.lanes.get(user)!;
      const idx = lane.findIndex((e) => this.count('channelKey', e.channelKey) < this.limits.perChannel);
      if (idx < 0) continue;
      const [entry] = lane.splice(idx, 1) as [SchedulerEntry];
      // The served user goes to the back of the ring: that is the round-robin.
      this.ring.splice(i, 1);
      if (lane.length > 0) this.ring.push(user);
      else this.lanes.delete(user);
      this.running.set(entry.jobId, entry);
      return entry;
    }
    return undefined;
  }

  /** Marks a job as running without taking it from a lane (a job resumed after a restart). */
  markRunning(entry: SchedulerEntry): void {
    this.running.set(entry.jobId, entry);
  }

  isRunning(jobId: string): boolean {
    return this.running.has(jobId);
  }

  runningCount(): number {
    return this.running.size;
  }

  waitingCount(userKey?: string): number {
    if (userKey) return this.lanes.get(userKey)?.length ?? 0;
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.length;
    return n;
  }

  /**
   * The order jobs would start in if no limit bound: a simulation of round-robin over the lanes.
   * Positions are 1-based.
   */
  positions(): Map<string, number> {
    const out = new Map<string, number>();
    const cursors = this.ring.map((u) => ({ lane: this.lanes.get(u)!, at: 0 }));
    let pos = 1;
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const c of cursors) {
        const e = c.lane[c.at];
        if (!e) continue;
        out.set(e.jobId, pos++);
        c.at++;
        progressed = true;
      }
    }
    return out;
  }

  private count(key: 'userKey' | 'channelKey', value: string): number {
    let n = 0;
    for (const e of this.running.values()) if (e[key] === value) n++;
    return n;
  }

  private dropUser(user: string): void {
    this.lanes.delete(user);
    this.ring = this.ring.filter((u) => u !== user);
  }
}
