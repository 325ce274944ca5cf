/**
 * Runs the work behind interactions a few at a time. Answers are cheap and have a 3-second deadline;
 * the work after them has 15 minutes. Under a burst, letting every answered interaction start its work
 * at once would starve the event loop of the next requests' answers, so work waits its turn here.
 */
export class WorkQueue {
  private readonly waiting: (() => Promise<void>)[] = [];
  private active = 0;

  constructor(
    private readonly concurrency: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  push(task: () => Promise<void>): void {
    this.waiting.push(task);
    this.pump();
  }

  get pending(): number {
    return this.waiting.length + this.active;
  }

  private pump(): void {
    while (this.active < this.concurrency && this.waiting.length) {
      const task = this.waiting.shift()!;
      this.active++;
      // setImmediate: pending I/O (new requests to answer) is served before the work starts.
      setImmediate(() => {
        task()
          .catch(this.onError)
          .finally(() => {
            this.active--;
            this.pump();
          });
      });
    }
  }
}
