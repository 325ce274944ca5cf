/** One waiting job as the scheduler sees it. */
export interface SchedulerEntry {
  jobId: string;
  userKey: string;
  channelKey: string;
  /** The job's provider, for its concurrency cap. */
  providerKey?: string;
}

export interface SchedulerLimits {
  global: number;
  perUser: number;
  perChannel: number;
  /** A provider's own concurrency (jobs at it at once), when it has one. */
  perProvider?: (providerKey: string) => number | undefined;
}

/**
 * Fair order without I/O: round-robin across users (each user has a FIFO lane; the next start goes
 * to the next user in the ring who has work and room), within per-user, per-channel, per-provider and
 * global concurrency limits. One user's twenty queued jobs never starve another's one.
 *
 * It is on the path of every submission, so nothing here walks every waiting job per call: running
 * counts are kept per user and per channel, a scheduler that found nothing to start remembers it until a
 * slot frees (or a job arrives that fits), and one job's place in line is computed from the lane lengths.
 */
export class FairScheduler {
  private readonly lanes = new Map<string, SchedulerEntry[]>();
  /** Users in the order they will next be served. */
  private ring: string[] = [];
  private readonly running = new Map<string, SchedulerEntry>();
  private readonly runningPerUser = new Map<string, number>();
  private readonly runningPerChannel = new Map<string, number>();
  private readonly runningPerProvider = new Map<string, number>();
  /** The user whose lane holds each waiting job. */
  private readonly laneOf = new Map<string, string>();
  /** Running jobs past their provider (see `leaveProvider`). */
  private readonly leftProvider = new Set<string>();
  /** True when the last `next()` found nothing that may start and no slot has freed since. */
  private stuck = false;

  constructor(private readonly limits: SchedulerLimits) {}

  add(entry: SchedulerEntry): void {
    const lane = this.lanes.get(entry.userKey);
    if (lane) lane.push(entry);
    else {
      this.lanes.set(entry.userKey, [entry]);
      this.ring.push(entry.userKey);
    }
    this.laneOf.set(entry.jobId, entry.userKey);
    // Nothing else could start before; now only this entry might.
    if (this.stuck && this.fits(entry)) this.stuck = false;
  }

  /** Removes a queued entry; returns false if it was not waiting. */
  remove(jobId: string): boolean {
    const user = this.laneOf.get(jobId);
    const lane = user === undefined ? undefined : this.lanes.get(user);
    const i = lane ? lane.findIndex((e) => e.jobId === jobId) : -1;
    if (!lane || i < 0) return false;
    lane.splice(i, 1);
    this.laneOf.delete(jobId);
    if (lane.length === 0) this.dropUser(user!);
    return true;
  }

  /** Marks a job finished so its user and channel get their slot back. */
  finish(jobId: string): void {
    const entry = this.running.get(jobId);
    if (!entry) return;
    this.running.delete(jobId);
    if (!this.leftProvider.delete(jobId)) this.freeSlots(entry);
    this.stuck = false;
  }

  /**
   * The job's provider has answered; it is composing and storing its result. The per-user, per-channel and
   * per-provider limits share the provider's time, so the next job may take its place there now; the global limit
   * still counts it until `finish`, which bounds how many results are composed at once.
   */
  leaveProvider(jobId: string): void {
    const entry = this.running.get(jobId);
    if (!entry || this.leftProvider.has(jobId)) return;
    this.leftProvider.add(jobId);
    this.freeSlots(entry);
    this.stuck = false;
  }

  private freeSlots(entry: SchedulerEntry): void {
    bump(this.runningPerUser, entry.userKey, -1);
    bump(this.runningPerChannel, entry.channelKey, -1);
    if (entry.providerKey !== undefined) bump(this.runningPerProvider, entry.providerKey, -1);
  }

  /** The entry's provider runs as many jobs as it can take. */
  private providerFull(entry: SchedulerEntry): boolean {
    if (entry.providerKey === undefined) return false;
    const cap = this.limits.perProvider?.(entry.providerKey);
    return cap !== undefined && (this.runningPerProvider.get(entry.providerKey) ?? 0) >= cap;
  }

  /** Takes the next job that may start now, or undefined. */
  next(): SchedulerEntry | undefined {
    if (this.stuck) return undefined;
    if (this.running.size < this.limits.global) {
      for (let i = 0; i < this.ring.length; i++) {
        const user = this.ring[i]!;
        if ((this.runningPerUser.get(user) ?? 0) >= this.limits.perUser) continue;
        const lane = this.lanes.get(user)!;
        const idx = lane.findIndex((e) => (this.runningPerChannel.get(e.channelKey) ?? 0) < this.limits.perChannel && !this.providerFull(e));
        if (idx < 0) continue;
        const [entry] = lane.splice(idx, 1) as [SchedulerEntry];
        this.laneOf.delete(entry.jobId);
        // The served user goes to the back of the ring: that is the round-robin.
        this.ring.splice(i, 1);
        if (lane.length > 0) this.ring.push(user);
        else this.lanes.delete(user);
        this.markRunning(entry);
        return entry;
      }
    }
    this.stuck = true;
    return undefined;
  }

  /** Marks a job as running without taking it from a lane (a job resumed after a restart). */
  markRunning(entry: SchedulerEntry): void {
    if (this.running.has(entry.jobId)) return;
    this.running.set(entry.jobId, entry);
    bump(this.runningPerUser, entry.userKey, 1);
    bump(this.runningPerChannel, entry.channelKey, 1);
    if (entry.providerKey !== undefined) bump(this.runningPerProvider, entry.providerKey, 1);
  }

  isRunning(jobId: string): boolean {
    return this.running.has(jobId);
  }

  runningCount(): number {
    return this.running.size;
  }

  waitingCount(userKey?: string): number {
    if (userKey) return this.lanes.get(userKey)?.length ?? 0;
    return this.laneOf.size;
  }

  /**
   * The order jobs would start in if no limit bound: a simulation of round-robin over the lanes.
   * Positions are 1-based. `limit` stops after that many places.
   */
  positions(limit = Infinity): Map<string, number> {
    const out = new Map<string, number>();
    const lanes = this.ring.map((u) => this.lanes.get(u)!);
    for (let round = 0; out.size < limit; round++) {
      let progressed = false;
      for (const lane of lanes) {
        const e = lane[round];
        if (!e) continue;
        out.set(e.jobId, out.size + 1);
        progressed = true;
        if (out.size >= limit) break;
      }
      if (!progressed) break;
    }
    return out;
  }

  /**
   * One waiting job's place in `positions()`, without computing the others: every lane gives one job per
   * round, so a job k-th in its lane comes after min(length, k) jobs of every lane, and after the k-th job of
   * each lane ahead of its own in the ring.
   */
  positionOf(jobId: string): number | undefined {
    const user = this.laneOf.get(jobId);
    if (user === undefined) return undefined;
    const k = this.lanes.get(user)!.findIndex((e) => e.jobId === jobId);
    let before = 0;
    let ahead = true;
    for (const u of this.ring) {
      if (u === user) ahead = false;
      const n = this.lanes.get(u)!.length;
      before += Math.min(n, k) + (ahead && n > k ? 1 : 0);
    }
    return before + 1;
  }

  /** Whether `entry` may start now, by every limit. */
  private fits(entry: SchedulerEntry): boolean {
    return (
      this.running.size < this.limits.global &&
      (this.runningPerUser.get(entry.userKey) ?? 0) < this.limits.perUser &&
      (this.runningPerChannel.get(entry.channelKey) ?? 0) < this.limits.perChannel &&
      !this.providerFull(entry)
    );
  }

  private dropUser(user: string): void {
    this.lanes.delete(user);
    this.ring = this.ring.filter((u) => u !== user);
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}
