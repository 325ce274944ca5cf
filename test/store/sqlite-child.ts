// Run by sqlite-store.test.ts in other processes. "migrate": opens the store, waits for "go" on stdin so
// every process migrates at the same moment, migrates and reports. "crash": writes a job and updates it,
// then dies by SIGKILL without closing anything.
import { createInterface } from 'node:readline';
import { createSqliteStore } from '../../src/store/sqlite-store.ts';
import { makeJob } from './fixtures.ts';

const [mode, path] = process.argv.slice(2);
if (!path || (mode !== 'migrate' && mode !== 'crash')) throw new Error('usage: sqlite-child.ts migrate|crash <db path>');
const store = createSqliteStore(path);

if (mode === 'crash') {
  await store.migrate();
  const job = makeJob({ id: 'survivor' });
  await store.createJob(job);
  await store.updateJob({ ...job, state: 'running' });
  process.kill(process.pid, 'SIGKILL');
} else {
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
}
