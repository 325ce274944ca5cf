/**
 * Runs the work behind interactions a few at a time. Answers are cheap and have a 3-second deadline;
 * the work after them has 15 minutes. Under a burst, letting every answered interaction start its work
 * at once would starve the event loop of the next requests' answers, so work waits its turn here.
 *
 * At most one task starts per turn of the event loop: a task's synchronous part (validation, store
 * writes, the queue) costs about as much as several answers, and between two starts the loop reads
 * every request that has arrived and answers it. With nothing arriving a turn is a few microseconds,
 * so the work still runs at full speed once a burst is over.
 */
export class WorkQueue {
  private readonly waiting: (() => Promise<void>)[] = [];
  private active = 0;
  private scheduled = false;

  constructor(
    private readonly concurrency: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  push(task: () => Promise<void>): void {
    this.waiting.push(task);
    this.schedule();
  }

  get pending(): number {
    return this.waiting.length + this.active;
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0 || this.active >= this.concurrency) return;
    this.scheduled = true;
    // setImmediate runs after the poll phase: the requests waiting to be read are answered first.
    setImmediate(() => {
      this.scheduled = false;
      this.startOne();
      this.schedule();
    });
  }

  private startOne(): void {
    if (this.active >= this.concurrency) return;
    const task = this.waiting.shift();
    if (!task) return;
    this.active++;
    Promise.resolve()
      .then(task)
      .catch(this.onError)
      .finally(() => {
        this.active--;
        this.schedule();
      });
  }
}
