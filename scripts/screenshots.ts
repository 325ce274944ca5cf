/**
 * Regenerates the README's "What it looks like" pictures: the playground driven in headless Chromium
 * (a job in progress, the grid with its buttons, the remix dialog), and the Discord and Slack messages
 * of the same job rendered from the very payloads the adapters send (labelled as renders: nothing here
 * can reach Discord or Slack). `npm run screenshots [-- --out DIR]`; CI runs it so it cannot rot.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { ImageProvider } from '../src/core/provider.ts';
import { createLocalProvider } from '../src/providers/local/index.ts';
import { discordHtml, slackHtml } from './message-html.ts';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs/images' }, chromium: { type: 'string', default: '/usr/bin/chromium' } } });
const out = resolve(values.out!);
const PROMPT = 'a lighthouse at dusk, oil painting';

/** The local renderer, except that a job waits at its last preview until the progress shot is taken. */
function heldLocal(): { provider: ImageProvider; release(): void; reachedHold: Promise<void> } {
  const local = createLocalProvider();
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let reached!: () => void;
  const reachedHold = new Promise<void>((r) => (reached = r));
  const provider: ImageProvider = {
    ...local,
    async generate(request, ctx) {
      const result = await local.generate(request, ctx);
      reached();
      await released;
      return result;
    },
  };
  return { provider, release, reachedHold };
}

async function main(): Promise<void> {
  await mkdir(out, { recursive: true });
  const dataDir = await mkdtemp(join(tmpdir(), 'atelier-shots-'));
  const held = heldLocal();
  const app = await createApp(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', PLAYGROUND: 'on' }), { providers: [held.provider] });
  const browser = await chromium.launch({ executablePath: values.chromium, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    await app.start({ listen: true, platforms: true });
    const page = await (await browser.newContext({ viewport: { width: 1000, height: 760 }, deviceScaleFactor: 1 })).newPage();
    await page.goto(`${app.server.url}/`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.getByLabel('Your name').fill('Ann');
    const input = page.getByRole('combobox', { name: 'Message #playground' });
    await input.fill(`/imagine ${PROMPT} --ar 3:2 --seed 7`);
    await input.press('Escape');
    await input.press('Enter');

    const card = page.locator('article.job').first();
    await held.reachedHold;
    await card.locator('img.preview').waitFor();
    await shot(page, 'playground-progress.png');

    held.release();
    await page.locator('article.job[data-state="succeeded"]').first().waitFor({ timeout: 60_000 });
    await page.locator('article.job img.grid').first().evaluate((img: HTMLImageElement) => img.decode());
    await shot(page, 'playground-grid.png');

    await card.getByRole('button', { name: 'Remix', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Remix' });
    await dialog.waitFor();
    await dialog.getByLabel(/New prompt/).fill(`${PROMPT.replace('dusk', 'dawn')} --ar 3:2`);
    await shot(page, 'playground-remix.png');

    // The same job as the Discord and Slack adapters would send it.
    const jobId = (await card.getAttribute('data-job'))!;
    const job = (await app.atelier.getJob(jobId))!;
    const caps = app.atelier.providers.capabilities(job.provider);
    const images = await app.atelier.images(jobId);
    const grid = images.find((i) => i.meta.kind === 'grid')!;
    const gridFile = { name: `grid.${grid.meta.mime.split('/')[1]}`, data: await grid.bytes(), contentType: grid.meta.mime };
    const imageCount = images.filter((i) => i.meta.kind === 'image').length;
    for (const [file, html] of [
      ['discord-render.png', await discordHtml(job, gridFile, caps, imageCount)],
      ['slack-render.png', slackHtml(job, gridFile, caps, imageCount)],
    ] as const) {
      const render = await (await browser.newContext({ viewport: { width: 760, height: 640 } })).newPage();
      await render.setContent(html);
      await render.locator('img').first().evaluate((img: HTMLImageElement) => img.decode());
      await render.screenshot({ path: join(out, file), fullPage: true });
      await render.close();
    }
    await writeFile(join(out, 'README.txt'), 'Made by `npm run screenshots` (scripts/screenshots.ts); do not edit by hand.\n');
    process.stdout.write(`screenshots written to ${out}\n`);
  } finally {
    await browser.close();
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function shot(page: Page, file: string): Promise<void> {
  await page.screenshot({ path: join(out, file) });
}

await main();
