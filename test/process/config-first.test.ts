import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopback } from '../../src/platforms/web/access.ts';
import { accepts, exitWithin, freePort, spawnCli } from './cli-process.ts';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('configuration is validated before listening', () => {
  it('HOST=0.0.0.0 without PLAYGROUND_TOKEN is refused with one line, and the port is never opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atelier-host-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const app = spawnCli(['start'], { HOST: '0.0.0.0', PORT: String(port), DATA_DIR: dir, LOG_LEVEL: 'warn' });
    cleanup.push(() => app.kill());
    let opened = 0;
    let done = false;
    void app.exited.then(() => (done = true));
    // Knock on the port for as long as the process lives.
    while (!done) {
      if (await accepts(port)) opened++;
      await new Promise((r) => setTimeout(r, 5));
    }
    const code = await exitWithin(app, 1_000, 'exit');
    expect(opened).toBe(0);
    expect(code).toBe(78);
    expect(app.stderr().trim().split('\n')).toEqual([expect.stringMatching(/^The playground would be reachable on HOST=0\.0\.0\.0 without an access token: set PLAYGROUND_TOKEN/)]);
  }, 60_000);

  it('treats every spelling of loopback as loopback, and the any-addresses as public', () => {
    for (const h of ['127.0.0.1', '127.5.0.1', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '0:0:0:0:0:ffff:7f00:1', '[::ffff:7f00:1]']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '[::]', '::ffff:0.0.0.0', '::ffff:10.0.0.1', '192.168.1.4', 'example.com', 'localhost.example.com']) expect(isLoopback(h), h).toBe(false);
  });
});
