/**
 * The app as a separate process for the contract drivers, so a scenario can SIGKILL it and start it again
 * on the same DATA_DIR. Configuration comes from the environment like production; the contract
 * providers and a small `local` (256 px, so two shared cores stay responsive) are added.
 */
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import { contractProviders } from './providers.ts';

const app = await createApp(loadConfig(), { providers: [createLocalProvider({ longSide: 256, previewSide: 96 }), ...contractProviders] });
await app.start({ listen: true, platforms: true });
process.stdout.write(`READY ${app.server.url}\n`);
const stop = () => {
  void app.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
