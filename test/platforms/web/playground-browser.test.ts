import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { ARTIFACTS, CHROMIUM, hasChromium, launchChromium, openPerson, seenIn } from './browser.ts';
import { startPlayground, type Playground } from './harness.ts';
import { previewingProvider } from './previewing-provider.ts';

if (!hasChromium) {
  console.warn(`\n⚠ Playground browser tests SKIPPED: ${CHROMIUM} is missing. Install it with: apt-get install -y chromium\n`);
}

const DONE = 60_000;

/** The job message whose prompt line contains `prompt` and whose attribution matches. */
const jobCard = (page: Page, prompt: string, attribution: RegExp = /./): Locator =>
  page.locator('article.job').filter({ has: page.locator('.prompt', { hasText: prompt }) }).filter({ has: page.locator('.attribution', { hasText: attribution }) });

const succeeded = (card: Locator): Locator => card.and(card.page().locator('[data-state="succeeded"]'));

describe.skipIf(!hasChromium)('playground in the browser: two people, one channel', () => {
  let pg: Playground;
  let browser: Browser;
  let ann: Page;
  let bob: Page;
  const jobCount = async () => (await pg.atelier.store.listJobs({})).length;

  beforeAll(async () => {
    pg = await startPlayground({}, [previewingProvider]);
    browser = await launchChromium();
    ann = await openPerson(browser, `${pg.url}/`, 'Ann');
    bob = await openPerson(browser, `${pg.url}/`, 'Bob');
  });

  afterAll(async () => {
    await browser?.close();
    await pg?.stop();
  });

  it('completes commands and options from the keyboard', async () => {
    const input = ann.getByRole('combobox', { name: 'Message #playground' });
    await input.fill('/ima');
    await expect.poll(() => ann.getByRole('option').allTextContents()).toEqual([expect.stringContaining('/imagine')]);
    await input.press('Tab');
    expect(await input.inputValue()).toBe('/imagine ');
    await input.pressSequentially('a lighthouse at dusk --c');
    // --chaos, --count, --camera … : arrows choose, Enter takes the choice instead of sending.
    const options = await ann.getByRole('option').allTextContents();
    expect(options.some((o) => o.startsWith('--count'))).toBe(true);
    const index = options.findIndex((o) => o.startsWith('--count'));
    for (let i = 0; i < index; i++) await input.press('ArrowDown');
    await input.press('Enter');
    expect(await input.inputValue()).toBe('/imagine a lighthouse at dusk --count ');
    await input.press('Escape');
    await input.fill('');
  });

  it('bad input gets an inline error and nothing is queued', async () => {
    const before = await jobCount();
    const input = ann.getByRole('combobox', { name: 'Message #playground' });
    const error = ann.locator('#composer-error');

    await input.fill('/paint a cat');
    await input.press('Escape');
    await input.press('Enter');
    await expect.poll(() => error.textContent()).toMatch(/Unknown command "\/paint"/);
    expect(await input.inputValue()).toBe('/paint a cat');

    await input.fill('/imagine a cat --count 99');
    await input.press('Escape');
    await input.press('Enter');
    await expect.poll(() => error.textContent()).toMatch(/count/);
    expect(await error.isVisible()).toBe(true);

    await input.fill('/imagine a cat --bogus 3');
    await input.press('Escape');
    await input.press('Enter');
    await expect.poll(() => error.textContent()).toMatch(/--bogus/);
    await ann.screenshot({ path: `${ARTIFACTS}playground-error.png` });

    expect(await jobCount()).toBe(before);
    expect(await ann.locator('article.job').count()).toBe(0);
    expect(await bob.locator('article.job').count()).toBe(0);
  });

  it('one runs /imagine: both see progress and the grid; the other presses 🔄 and V2, both see the new jobs, attributed', async () => {
    const prompt = 'a lighthouse at dusk';
    const input = ann.getByRole('combobox', { name: 'Message #playground' });
    await input.fill(`/imagine ${prompt} --ar 3:2 --seed 7`);
    await input.press('Escape');
    await input.press('Enter');

    // Whatever it shows at this moment (queued, or running with its bar): for a person to look at.
    await jobCard(bob, prompt).waitFor();
    await bob.screenshot({ path: `${ARTIFACTS}playground-bob-progress.png` });
    for (const page of [ann, bob]) await succeeded(jobCard(page, prompt, /^by Ann$/)).waitFor({ timeout: DONE });
    const jobId = (await jobCard(ann, prompt).getAttribute('data-job'))!;
    for (const page of [ann, bob]) {
      const seen = (await seenIn(page, jobId))!;
      expect(seen.states).toContain('running');
      expect(seen.states.at(-1)).toBe('succeeded');
      expect(seen.progress).toBe(true);
      const card = jobCard(page, prompt);
      expect(await card.locator('img.grid').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
      expect(await card.locator('.thumbs li').count()).toBe(4);
      for (const label of ['U1', 'U2', 'U3', 'U4', 'V1', 'V2', 'V3', 'V4', 'Reroll', 'Remix', 'Details', 'Delete']) {
        expect(await card.getByRole('button', { name: label, exact: true }).count()).toBe(1);
      }
      expect(await card.locator('.footer').textContent()).toBe('local · seed 7');
    }
    await ann.screenshot({ path: `${ARTIFACTS}playground-ann-grid.png` });

    const bobsView = jobCard(bob, prompt, /^by Ann$/);
    await bobsView.getByRole('button', { name: 'Reroll', exact: true }).click();
    await bobsView.getByRole('button', { name: 'V2', exact: true }).click();

    for (const page of [ann, bob]) {
      await succeeded(jobCard(page, prompt, /^🔄 Reroll by Bob$/)).waitFor({ timeout: DONE });
      await succeeded(jobCard(page, prompt, /^🎨 Variation of image 2 by Bob$/)).waitFor({ timeout: DONE });
    }
    // Bob's jobs show Bob's own ⏹️ while running and the full grid of buttons when done, in Ann's tab too.
    const variation = jobCard(ann, prompt, /Variation of image 2 by Bob/);
    expect(await variation.getByRole('button', { name: 'U1', exact: true }).count()).toBe(1);
    const rerollId = (await jobCard(ann, prompt, /Reroll by Bob/).getAttribute('data-job'))!;
    expect((await seenIn(ann, rerollId))?.states).toContain('running');
    await ann.screenshot({ path: `${ARTIFACTS}playground-ann.png`, fullPage: false });
    await bob.screenshot({ path: `${ARTIFACTS}playground-bob.png`, fullPage: false });
  }, 180_000);

  it('⏹️ shows while a job runs and cancels it for everyone', async () => {
    // This provider shows a preview and then runs until it is canceled, so the click always lands in time.
    const prompt = 'an endless staircase';
    const input = bob.getByRole('combobox', { name: 'Message #playground' });
    await input.fill(`/imagine ${prompt} --provider previewing`);
    await input.press('Escape');
    await input.press('Enter');
    const card = jobCard(bob, prompt).and(bob.locator('[data-state="running"]'));
    await card.locator('progress').waitFor();
    for (const page of [ann, bob]) {
      const preview = jobCard(page, prompt).locator('img.preview');
      await expect.poll(() => preview.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth === 96)).toBe(true);
      expect(await jobCard(page, prompt).locator('.status').textContent()).toBe('Sketching · 40%');
      expect(await jobCard(page, prompt).locator('progress').getAttribute('value')).toBe('40');
    }
    await bob.screenshot({ path: `${ARTIFACTS}playground-running.png` });
    await card.getByRole('button', { name: 'Cancel', exact: true }).click();
    for (const page of [ann, bob]) {
      const canceled = jobCard(page, prompt).and(page.locator('[data-state="canceled"]'));
      await canceled.waitFor({ timeout: DONE });
      expect(await canceled.locator('.status').textContent()).toBe('Canceled');
      expect(await canceled.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    }
  }, 120_000);

  it('ℹ️ details are private to the presser; the viewer shows and downloads each image full size', async () => {
    const prompt = 'a lighthouse at dusk';
    const card = jobCard(bob, prompt, /^by Ann$/);
    await card.getByRole('button', { name: 'Details', exact: true }).click();
    const details = bob.locator('article.ephemeral').filter({ hasText: 'Seed: 7' });
    await details.waitFor();
    expect(await details.textContent()).toMatch(/Only you can see this/);
    expect(await ann.locator('article.ephemeral').filter({ hasText: 'Seed: 7' }).count()).toBe(0);

    await card.getByRole('button', { name: 'Open image 2 full size' }).click();
    const viewer = bob.getByRole('dialog', { name: 'Image 2 of 4' });
    await viewer.waitFor();
    const img = viewer.locator('img');
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);
    const href = (await viewer.getByRole('link', { name: 'Download image 2' }).getAttribute('href'))!;
    expect(href).toMatch(/download=1/);
    const res = await bob.request.get(`${pg.url}${href}`);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-disposition']).toMatch(/^attachment; filename="atelier-.+-2\.(png|jpg|webp)"$/);
    expect((await res.body()).length).toBeGreaterThan(1000);
    await bob.screenshot({ path: `${ARTIFACTS}playground-viewer.png` });
    await bob.keyboard.press('ArrowRight');
    await bob.getByRole('dialog', { name: 'Image 3 of 4' }).waitFor();
    await bob.keyboard.press('Escape');
    await viewer.waitFor({ state: 'hidden' });
  });

  it('✏️ opens the remix dialog with the prompt; the edited prompt runs for everyone', async () => {
    const card = jobCard(ann, 'a lighthouse at dusk', /^by Ann$/);
    await card.getByRole('button', { name: 'Remix', exact: true }).click();
    const dialog = ann.getByRole('dialog', { name: 'Remix' });
    await dialog.waitFor();
    const field = dialog.getByLabel(/New prompt/);
    expect(await field.inputValue()).toBe('a lighthouse at dusk --ar 3:2 --seed 7');
    await field.fill('a lighthouse at dawn --ar 3:2');
    await ann.screenshot({ path: `${ARTIFACTS}playground-remix.png` });
    await dialog.getByRole('button', { name: 'Remix' }).click();
    await dialog.waitFor({ state: 'hidden' });
    for (const page of [ann, bob]) await succeeded(jobCard(page, 'a lighthouse at dawn', /^✏️ Remix by Ann$/)).waitFor({ timeout: DONE });
  }, 120_000);

  it('🗑️ by its owner removes the message from every tab; /settings answers privately', async () => {
    const card = jobCard(ann, 'a lighthouse at dawn');
    const id = (await card.getAttribute('data-job'))!;
    await card.getByRole('button', { name: 'Delete', exact: true }).click();
    for (const page of [ann, bob]) await page.locator(`article[data-job="${id}"]`).waitFor({ state: 'detached' });

    const input = bob.getByRole('combobox', { name: 'Message #playground' });
    await input.fill('/settings --format 16:9');
    await input.press('Escape');
    await input.press('Enter');
    await bob.locator('article.ephemeral').filter({ hasText: 'format: 16:9' }).waitFor();
    expect(await ann.locator('article.ephemeral').filter({ hasText: 'format: 16:9' }).count()).toBe(0);
  });

  it('messages show their place in the queue while they wait', async () => {
    // Two jobs per person run at once (MAX_CONCURRENT_PER_USER); two that run until canceled make the third wait.
    const input = ann.getByRole('combobox', { name: 'Message #playground' });
    const send = async (text: string) => {
      await input.fill(text);
      await input.press('Escape');
      await input.press('Enter');
    };
    await send('/imagine a queue of ducks one --provider previewing');
    await send('/imagine a queue of ducks two --provider previewing');
    await send('/imagine a queue of ducks three --count 2');
    for (const page of [ann, bob]) {
      const waiting = jobCard(page, 'a queue of ducks three').and(page.locator('[data-state="queued"]'));
      await expect.poll(() => waiting.locator('.status').textContent()).toBe('Waiting to start — #1 in queue');
    }
    await ann.screenshot({ path: `${ARTIFACTS}playground-queue.png` });
    for (const p of ['a queue of ducks one', 'a queue of ducks two']) await jobCard(ann, p).getByRole('button', { name: 'Cancel', exact: true }).click();
    for (const page of [ann, bob]) await succeeded(jobCard(page, 'a queue of ducks three')).waitFor({ timeout: DONE });
  }, 180_000);

  it('a private job shows in its owner\'s tab only; its image is refused to the other person\'s session', async () => {
    const input = ann.getByRole('combobox', { name: 'Message #playground' });
    await input.fill('/imagine a private sketchbook --private --count 1');
    await input.press('Escape');
    await input.press('Enter');
    const card = succeeded(jobCard(ann, 'a private sketchbook'));
    await card.waitFor({ timeout: DONE });
    expect(await card.locator('.private-note').count()).toBe(1);
    const src = (await card.locator('img.grid').getAttribute('src'))!;
    expect((await ann.request.get(`${pg.url}${src}`)).status()).toBe(200);
    expect((await bob.request.get(`${pg.url}${src}`)).status()).toBe(404);
    // Bob's tab got every public event up to now (the reroll above), and nothing of this job.
    await bob.reload();
    await bob.locator('body[data-ready="true"]').waitFor();
    expect(await jobCard(bob, 'a private sketchbook').count()).toBe(0);
    expect(await jobCard(bob, 'a lighthouse at dusk', /^by Ann$/).count()).toBe(1);
  }, 120_000);

  it('a tab opened later gets the channel so far', async () => {
    const carol = await openPerson(browser, `${pg.url}/`, 'Carol');
    expect(await jobCard(carol, 'a lighthouse at dusk', /^by Ann$/).getAttribute('data-state')).toBe('succeeded');
    expect(await jobCard(carol, 'a lighthouse at dusk', /Reroll by Bob/).count()).toBe(1);
    await carol.context().close();
  });
});

describe.skipIf(!hasChromium)('playground in the browser: with an access token', () => {
  let pg: Playground;
  let browser: Browser;
  beforeAll(async () => {
    pg = await startPlayground({ PLAYGROUND_TOKEN: 'tok-3b1f9e' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await pg?.stop();
  });

  it('works when opened with ?token= and explains itself when opened without', async () => {
    const page = await openPerson(browser, `${pg.url}/?token=tok-3b1f9e`, 'Dee');
    const input = page.getByRole('combobox', { name: 'Message #playground' });
    await input.fill('/help');
    await input.press('Escape');
    await input.press('Enter');
    await page.locator('article.ephemeral').filter({ hasText: '/imagine <prompt>' }).waitFor();

    const context = await browser.newContext();
    const stranger = await context.newPage();
    await stranger.goto(`${pg.url}/`);
    await expect.poll(() => stranger.locator('#composer-error').textContent()).toMatch(/access token/);
    await expect.poll(() => stranger.locator('#status').textContent()).toMatch(/offline/);
    await stranger.screenshot({ path: `${ARTIFACTS}playground-no-token.png` });
    await context.close();
  });
});
