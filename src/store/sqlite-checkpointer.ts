import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies SQLite's write-ahead log into the database file from a worker thread's own connection.
 *
 * SQLite checkpoints by default on the connection whose commit crosses 1,000 WAL pages, inside that
 * commit: the pages are written back and the file is fsynced. On the event loop that answers Discord
 * within 3 s, that is a stall of milliseconds to a hundred (a job's writes touch about thirty pages, so
 * a burst of /imagine crossed the mark every few dozen jobs). A PASSIVE checkpoint from another
 * connection runs beside the writers and never blocks them, so the loop's connection turns automatic
 * checkpoints off and asks this thread instead. The thread starts on the first request: a process that
 * writes little never runs it, and SQLite checkpoints when the last connection closes.
 */
export class SqliteCheckpointer {
  private worker?: Worker;
  private writes = 0;
  private busy = false;
  private again = false;

  constructor(
    private readonly path: string,
    /** Writes (commits) between two checkpoints; a few hundred are about 1,000 WAL pages. */
    private readonly everyWrites = 250,
  ) {}

  /** Counts one committed write; every `everyWrites` of them, a checkpoint is requested. */
  wrote(): void {
    if (++this.writes < this.everyWrites) return;
    this.writes = 0;
    this.request();
  }

  /** Asks for a checkpoint now (coalesced with one in progress). */
  request(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.start().postMessage('checkpoint');
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, path: this.path } });
    // A checkpoint thread never keeps the process alive.
    w.unref();
    w.on('message', () => {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.request();
      }
    });
    w.on('error', () => {
      // Without the thread the WAL would only grow: the writers' connection checkpoints again by itself.
      this.busy = false;
      this.worker = undefined;
      this.onLost?.();
    });
    this.worker = w;
    return w;
  }

  /** Called when the thread fails; the store turns automatic checkpoints back on. */
  onLost?: () => void;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 10000');
parentPort.on('message', () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or locked: the next request tries again.
  }
  parentPort.postMessage('done');
});
`;
