import { mkdir, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createApp, platformsToStart, stopWithin, type App } from './app.ts';
import { classifyError, UserError } from './core/errors.ts';
import { imagineOptionsSchema } from './core/imagine-options.ts';
import type { Job } from './core/job.ts';
import { isFinal } from './core/job.ts';
import { progressBar, statusText } from './core/present.ts';
import { ConfigError, loadConfig, loadDotEnv, platformsConfigured, type Config } from './config.ts';
import { createLogger } from './logger.ts';
import type { DoctorCheck } from './platforms/doctor-check.ts';

export const USAGE = `Usage: atelier <command>
  start                     serve every configured platform (the playground when none is)
  imagine "<prompt>" [--provider P] [--mode simple|advanced] [--count N] [--upscale N [--paid-upscale]] [--out DIR] [--json]
  doctor                    what is configured, and what is missing
  register [--guild ID]     register slash commands on Discord; print the Slack manifest
  invite                    print the URL that adds the Discord bot to a server, and why each permission
  worker                    run jobs from Redis without a chat connection (needs REDIS_URL)`;

/** CLI flags of `imagine`; everything else on the line is the prompt, Midjourney flags included. */
const IMAGINE_FLAGS = new Set(['--provider', '--mode', '--count', '--upscale', '--paid-upscale', '--out', '--json']);

interface ImagineArgs {
  provider?: string;
  mode?: string;
  count?: number;
  /** Press U on this image once the job is done. */
  upscale?: number;
  /** Let that U spend provider credits (all-images.ai's purchase of the full resolution). */
  paidUpscale: boolean;
  out: string;
  json: boolean;
}

export function splitImagineArgs(args: readonly string[]): { prompt: string } & ImagineArgs {
  const words: string[] = [];
  const out: ImagineArgs = { out: 'out', json: false, paidUpscale: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!IMAGINE_FLAGS.has(a)) {
      words.push(a);
      continue;
    }
    if (a === '--json' || a === '--paid-upscale') {
      if (a === '--json') out.json = true;
      else out.paidUpscale = true;
      continue;
    }
    const v = args[++i];
    if (v === undefined) throw new UserError('INVALID_OPTIONS', `${a} needs a value.`);
    if (a === '--provider') out.provider = v;
    else if (a === '--mode') out.mode = v;
    else if (a === '--out') out.out = v;
    else {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new UserError('INVALID_OPTIONS', `${a} takes a whole number, not "${v}".`);
      if (a === '--upscale') out.upscale = n;
      else out.count = n;
    }
  }
  return { prompt: words.join(' '), ...out };
}

const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48) || 'image';

function waitForFinal(app: App, jobId: string, onUpdate: (job: Job) => void): Promise<Job> {
  return new Promise((resolveJob) => {
    const stop = app.atelier.events.subscribe(({ job }) => {
      if (job.id !== jobId) return;
      onUpdate(job);
      if (isFinal(job.state)) {
        stop();
        resolveJob(job);
      }
    });
    // The job may have finished before we subscribed.
    void app.atelier.getJob(jobId).then((job) => {
      if (job && isFinal(job.state)) {
        stop();
        resolveJob(job);
      }
    });
  });
}

/** Copies a job's live preview out of the blob store; a preview superseded before it was read is skipped. */
async function savePreview(app: App, key: string, dir: string, name: string): Promise<string | undefined> {
  const bytes = await app.atelier.blobs.get(key).catch(() => undefined);
  if (!bytes) return undefined;
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}${extname(key)}`);
  await writeFile(file, bytes);
  return file;
}

async function imagineCommand(config: Config, args: string[]): Promise<number> {
  const opts = splitImagineArgs(args);
  const app = await createApp(config, { logger: createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL) });
  try {
    await app.start();
    const user = userInfo().username || 'cli';
    // The same schema as every platform's /imagine: a bad --mode or --count is named like a bad option.
    const options = imagineOptionsSchema.parse({ prompt: opts.prompt, provider: opts.provider, mode: opts.mode, count: opts.count });
    const where = { platform: 'cli' as const, channelId: 'cli' };
    // The operator at the CLI owns the keys: the flag decides, for this run, whether U may spend credits.
    // Whoever runs the CLI runs this machine: the CLI's own channel is theirs to set.
    const operator = { platform: 'cli' as const, userId: user, displayName: user, canManage: true, canManageChannel: true, canManageServer: true };
    if (opts.upscale !== undefined || opts.paidUpscale) await app.atelier.setSettings({ kind: 'channel', platform: 'cli', id: 'cli' }, { paidUpscale: opts.paidUpscale }, operator);
    const job = await app.atelier.imagine(options, { platform: 'cli', userId: user, displayName: user }, where);
    const tty = process.stderr.isTTY && !opts.json;
    const outDir = resolve(opts.out);
    // Progress goes to stderr: a bar on a terminal, one line per change otherwise; each live preview is saved and named.
    let lastLine = '';
    let lastPreview: string | undefined;
    let previews = 0;
    const writes: Promise<void>[] = [];
    const final = await waitForFinal(app, job.id, (j) => {
      if (tty) process.stderr.write(`\r${j.state === 'running' && j.progress.percent !== undefined ? progressBar(j.progress.percent, 20) : statusText(j)}`.padEnd(60));
      else if (j.state === 'running' && statusText(j) !== lastLine) {
        lastLine = statusText(j);
        process.stderr.write(`${lastLine}\n`);
      }
      const key = j.progress.previewKey;
      if (key && key !== lastPreview) {
        lastPreview = key;
        const n = ++previews;
        writes.push(savePreview(app, key, outDir, `${slug(j.request.prompt)}-preview`).then((file) => {
          if (file) process.stderr.write(`${tty ? '\n' : ''}preview ${n}: ${file}\n`);
        }));
      }
    });
    await Promise.all(writes);
    if (tty) process.stderr.write('\n');
    if (final.state !== 'succeeded') {
      process.stderr.write(`${statusText(final)}\n`);
      return 1;
    }
    await mkdir(outDir, { recursive: true });
    const paths: string[] = [];
    let grid: string | undefined;
    // Named by prompt and seed, so the same command writes the same files again.
    const base = `${slug(final.request.prompt)}-seed${final.result?.seed ?? 'x'}`;
    for (const img of await app.atelier.images(final.id)) {
      const ext = img.meta.mime.split('/')[1] ?? 'bin';
      const file = join(outDir, img.meta.kind === 'grid' ? `${base}-grid.${ext}` : `${base}-${img.meta.index}.${ext}`);
      await writeFile(file, await img.bytes());
      if (img.meta.kind === 'grid') grid = file;
      else paths.push(file);
    }
    let upscaled: string | undefined;
    if (opts.upscale !== undefined) {
      const child = await app.atelier.act(final.id, { kind: 'upscale', index: opts.upscale }, operator, where);
      const done = await waitForFinal(app, child.id, () => {});
      if (done.state !== 'succeeded') {
        process.stderr.write(`${statusText(done)}\n`);
        return 1;
      }
      const img = (await app.atelier.images(done.id)).find((i) => i.meta.kind === 'image')!;
      upscaled = join(outDir, `${base}-U${opts.upscale}.${img.meta.mime.split('/')[1] ?? 'bin'}`);
      await writeFile(upscaled, await img.bytes());
    }
    const note = final.result?.note;
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ jobId: final.id, provider: final.provider, seed: final.result?.seed, request: final.request, images: paths, grid: grid ?? null, upscaled: upscaled ?? null, note: note ?? null })}\n`);
    } else {
      process.stdout.write(`${paths.length} image${paths.length === 1 ? '' : 's'} (seed ${final.result?.seed ?? '?'}) in ${outDir}\n${[...paths, ...(grid ? [grid] : []), ...(upscaled ? [upscaled] : [])].join('\n')}\n${note ? `${note}\n` : ''}`);
    }
    return 0;
  } finally {
    await app.stop();
  }
}

async function doctorCommand(config: Config): Promise<number> {
  const p = platformsConfigured(config);
  const lines = [
    `Data: ${config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `SQLite in ${config.DATA_DIR}`}; queue: ${config.REDIS_URL ? 'Redis (REDIS_URL)' : 'in-process'}`,
    `Discord: ${p.discordHttp ? 'HTTP interactions (DISCORD_PUBLIC_KEY)' : p.discordGateway ? 'gateway (DISCORD_TOKEN)' : 'not configured — set DISCORD_TOKEN (gateway) or DISCORD_PUBLIC_KEY + DISCORD_APPLICATION_ID (HTTP)'}`,
  ];
  const { checkDiscord } = await import('./platforms/discord/doctor.ts');
  const { checkSlack } = await import('./platforms/slack/doctor.ts');
  const checks: DoctorCheck[] = [];
  const show = (found: DoctorCheck[]) => {
    checks.push(...found);
    for (const c of found) lines.push(`  ${c.status === 'ok' ? 'ok  ' : c.status === 'fail' ? 'FAIL' : 'todo'} ${c.line}`);
  };
  show(await checkDiscord(config));
  lines.push(`Slack: ${p.slack ? (config.SLACK_APP_TOKEN ? 'Socket Mode (SLACK_APP_TOKEN)' : 'HTTP events (SLACK_SIGNING_SECRET)') : 'not configured — set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)'}`);
  show(await checkSlack(config));
  lines.push(`Playground: ${platformsToStart(config).includes('web') ? `on at http://${config.HOST}:${config.PORT}/` : 'off'}`);
  const app = await createApp(config);
  try {
    lines.push(`Providers: ${app.atelier.providers.ids().join(', ')} (default ${config.DEFAULT_PROVIDER})`);
    show((await app.providersDoctor()).map((c) => (c.ok ? { status: 'ok', line: `${c.provider}: ${c.detail}` } : { status: 'fail', line: `${c.provider}: ${c.detail}`, next: `fix ${c.provider}: ${c.detail}` })));
    if (!config.ALLIMAGES_API_KEY) lines.push('  all-images.ai: not configured (ALLIMAGES_API_KEY)');
    if (!config.LEONARDO_API_KEY) lines.push('  Leonardo.ai: not configured (LEONARDO_API_KEY)');
    if (!config.POMELO_API_KEY || !config.POMELO_API_URL) lines.push('  Midjourney/Flux gateway: not configured (POMELO_API_KEY and POMELO_API_URL)');
    if (!config.COMFYUI_URL) lines.push('  ComfyUI: not configured (COMFYUI_URL)');
    if (!config.A1111_URL) lines.push('  AUTOMATIC1111 / Forge: not configured (A1111_URL)');
  } finally {
    await app.stop();
  }
  // One next step: what is broken first, then what is missing, else how to begin.
  const next =
    checks.find((c) => c.status === 'fail')?.next ??
    checks.find((c) => c.status === 'todo')?.next ??
    (p.discordHttp || p.discordGateway || p.slack ? 'none: everything checked works; try /imagine' : 'connect a chat: follow docs/discord.md or docs/slack.md (the playground needs nothing)');
  lines.push(`Next step: ${next}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}

/** How long a stop may take before the process exits anyway; under the 10 s orchestrators give a SIGTERM. */
export const STOP_DEADLINE_MS = 8_000;

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (sig: NodeJS.Signals) => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(sig);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
}

/** A listen error as one line naming the setting to change; anything else unchanged. */
export function listenFailure(err: unknown, host: string, port: number, setting: 'PORT' | 'METRICS_PORT'): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return new UserError('NOT_CONFIGURED', `Port ${port} on ${host} is already in use: stop the other process or set ${setting} to a free port.`);
  if (code === 'EACCES') return new UserError('NOT_CONFIGURED', `Not allowed to listen on ${host}:${port}: choose a ${setting} above 1024 or another HOST.`);
  if (code === 'EADDRNOTAVAIL') return new UserError('NOT_CONFIGURED', `HOST=${host} is not an address of this machine: set HOST to one of its addresses (or 127.0.0.1).`);
  return err;
}

/** What each running platform is, in words: the platform names carry the mode ('discord-http'). */
function describePlatform(name: string, url: string, config: Config): string {
  switch (name) {
    case 'discord-http':
      return `Discord: HTTP interactions at ${url}/discord/interactions`;
    case 'discord-gateway':
      return 'Discord: gateway connection';
    case 'slack':
      return config.SLACK_APP_TOKEN ? 'Slack: Socket Mode' : `Slack: HTTP events at ${url}/slack/events`;
    case 'web':
      return `Playground: ${url.replace('127.0.0.1', 'localhost')}/`;
    default:
      return name;
  }
}

async function startCommand(config: Config): Promise<number> {
  const logger = createLogger(config.LOG_LEVEL);
  const app = await createApp(config, { logger });
  try {
    await app.start({ listen: true, platforms: true });
  } catch (err) {
    await app.stop().catch(() => undefined);
    throw listenFailure(err, config.HOST, config.PORT, 'PORT');
  }
  const names = app.platforms.map((p) => p.name);
  const url = app.server.url;
  process.stdout.write(`Atelier is listening on ${url}\n`);
  for (const name of names) {
    let line = describePlatform(name, url, config);
    // The token itself is a secret and is not printed; say where it goes.
    if (name === 'web' && config.PLAYGROUND_TOKEN) line += ' (add ?token=<PLAYGROUND_TOKEN> to open it)';
    process.stdout.write(`${line}\n`);
  }
  const notConfigured = (['discord', 'slack'] as const).filter((family) => !names.some((n) => n === family || n.startsWith(`${family}-`)));
  if (notConfigured.length) process.stdout.write(`Not configured: ${notConfigured.join(', ')} (run "npm run atelier -- doctor" for what to set)\n`);
  const sig = await stopSignal();
  logger.info({ signal: sig }, 'stopping: no new work; running jobs are handed back');
  await stopWithin(app, STOP_DEADLINE_MS);
  return 0;
}

async function registerCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { guild: { type: 'string' } } });
  const { registerCommands } = await import('./platforms/discord/register.ts');
  const { createRest } = await import('./platforms/discord/rest.ts');
  const { commands } = await import('../commands/index.ts');
  const { renderManifest } = await import('./platforms/slack/manifest.ts');
  if (config.DISCORD_TOKEN && config.DISCORD_APPLICATION_ID) {
    const rest = createRest({ api: config.DISCORD_API_URL, token: config.DISCORD_TOKEN });
    const result = await registerCommands({ rest, applicationId: config.DISCORD_APPLICATION_ID, guildId: values.guild, commands });
    process.stdout.write(`${result.summary}\n`);
    // After a first registration the next step is adding the bot to a server.
    if (result.added.length) process.stdout.write(`${await inviteLines(config.DISCORD_APPLICATION_ID)}\n`);
  } else {
    process.stdout.write('Discord: skipped (set DISCORD_TOKEN and DISCORD_APPLICATION_ID to register commands)\n');
  }
  process.stdout.write(`Slack app manifest (paste into https://api.slack.com/apps → Create New App → From a manifest):\n${JSON.stringify(renderManifest(commands, config), null, 2)}\n`);
  return 0;
}

async function inviteLines(applicationId: string): Promise<string> {
  const { inviteText } = await import('./platforms/discord/permissions.ts');
  return inviteText(applicationId);
}

async function inviteCommand(config: Config): Promise<number> {
  if (!config.DISCORD_APPLICATION_ID) {
    throw new UserError('NOT_CONFIGURED', 'Set DISCORD_APPLICATION_ID first: Discord Developer Portal → your application → General Information → Application ID.');
  }
  process.stdout.write(`${await inviteLines(config.DISCORD_APPLICATION_ID)}\n`);
  return 0;
}

async function workerCommand(config: Config): Promise<number> {
  if (!config.REDIS_URL) throw new UserError('NOT_CONFIGURED', 'The worker takes jobs from Redis: set REDIS_URL.');
  // Loaded by name: the Redis worker is optional, and so is its code path on a machine without Redis.
  const workerModule = './queue/worker.ts';
  const { runWorker } = (await import(workerModule)) as { runWorker(config: Config, options?: { until?: Promise<unknown> }): Promise<unknown> };
  try {
    await runWorker(config, { until: stopSignal() });
  } catch (err) {
    throw listenFailure(err, config.HOST, config.METRICS_PORT ?? 0, 'METRICS_PORT');
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 1;
  }
  try {
    loadDotEnv();
    const config = loadConfig();
    switch (command) {
      case 'start':
        return await startCommand(config);
      case 'imagine':
        return await imagineCommand(config, rest);
      case 'doctor':
        return await doctorCommand(config);
      case 'register':
        return await registerCommand(config, rest);
      case 'worker':
        return await workerCommand(config);
      case 'invite':
        return await inviteCommand(config);
      default:
        process.stderr.write(`Unknown command "${command}".\n${USAGE}\n`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 78;
    }
    const shown = classifyError(err, (id, e) => process.stderr.write(`incident ${id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`));
    process.stderr.write(`${shown.message}\n`);
    return 1;
  }
}

// Run when executed directly (tsx src/cli.ts …, or the bin wrapper), not when imported by tests.
const invoked = process.argv[1] ?? '';
if (invoked.endsWith('cli.ts') || invoked.endsWith('atelier') || invoked.endsWith('atelier.js')) {
  process.exitCode = await main(process.argv.slice(2));
  // Done means done: a socket or timer left open somewhere must not keep the process alive (output still flushes first).
  setTimeout(() => process.exit(), 1_000).unref();
}
