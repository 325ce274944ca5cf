// Run by sqlite-store.test.ts in several processes at once: opens the store, waits for "go" on stdin so
// every process migrates at the same moment, migrates, and reports.
import { createInterface } from 'node:readline';
import { createSqliteStore } from '../../src/store/sqlite-store.ts';

const path = process.argv[2];
if (!path) throw new Error('usage: sqlite-migrate-child.ts <db path>');
const store = createSqliteStore(path);
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line !== 'go') continue;
  await store.migrate();
  await store.close();
  process.stdout.write('migrated\n');
  break;
}
lines.close();
