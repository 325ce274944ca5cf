/**
 * Wakes a waiting poller when a webhook says its job changed. A webhook is only a hint: the poller
 * re-fetches the job by id before it believes anything.
 */
export class Notifier {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Resolves when `notify(key)` is called, or never; `cancel` forgets the waiter. */
  wait(key: string): { promise: Promise<void>; cancel: () => void } {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => (wake = resolve));
    const set = this.waiters.get(key) ?? new Set();
    set.add(wake);
    this.waiters.set(key, set);
    const cancel = () => {
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
    };
    return { promise, cancel };
  }

  /** Returns whether anyone was waiting for this key. */
  notify(key: string): boolean {
    const set = this.waiters.get(key);
    if (!set) return false;
    this.waiters.delete(key);
    for (const wake of set) wake();
    return true;
  }
}
