import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { Browser, Locator, Page } from 'playwright-core';
import { ARTIFACTS, CHROMIUM, hasChromium, launchChromium, openPerson } from './browser.ts';
import { startPlayground, type Playground } from './harness.ts';

if (!hasChromium) {
  console.warn(`\n⚠ Playground picture browser tests SKIPPED: ${CHROMIUM} is missing. Install it with: apt-get install -y chromium\n`);
}

const DONE = 60_000;

const jobCard = (page: Page, prompt: string, attribution: RegExp = /./): Locator =>
  page.locator('article.job').filter({ has: page.locator('.prompt', { hasText: prompt }) }).filter({ has: page.locator('.attribution', { hasText: attribution }) });

const succeeded = (card: Locator): Locator => card.and(card.page().locator('[data-state="succeeded"]'));

const loaded = (img: Locator) => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0);

/** A small PNG of one colour, as the page would get it from a file or the clipboard. */
const png = async (r: number, g: number, b: number): Promise<number[]> => [...(await sharp({ create: { width: 60, height: 40, channels: 3, background: { r, g, b } } }).png().toBuffer())];

/** Drops files on the page the way a browser does: dragenter, dragover, drop, with a DataTransfer holding them. */
async function dropFiles(page: Page, target: string, files: { name: string; bytes: number[]; type: string }[]): Promise<void> {
  const transfer = await page.evaluateHandle((fs) => {
    const dt = new DataTransfer();
    for (const f of fs) dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
    return dt;
  }, files);
  for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent(target, type, { dataTransfer: transfer });
}

/** Pastes a picture as a clipboard image arrives (a screenshot, "Copy image"): a paste event whose data holds a file. */
async function pasteImage(page: Page, bytes: number[]): Promise<void> {
  await page.getByRole('combobox', { name: 'Message #playground' }).evaluate((input, b) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(b)], 'image.png', { type: 'image/png' }));
    input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, bytes);
}

describe.skipIf(!hasChromium)('playground in the browser: pictures', () => {
  let pg: Playground;
  let browser: Browser;
  let ann: Page;
  let bob: Page;

  beforeAll(async () => {
    pg = await startPlayground();
    browser = await launchChromium();
    ann = await openPerson(browser, `${pg.url}/`, 'Ann');
    bob = await openPerson(browser, `${pg.url}/`, 'Bob');
  });

  afterAll(async () => {
    await browser?.close();
    await pg?.stop();
  });

  it('a dropped and a pasted picture show as thumbnails, one is removed by keyboard, and the sent job shows its picture and result', async () => {
    const tray = ann.getByRole('list', { name: 'Pictures to send' });
    await dropFiles(ann, '#messages', [{ name: 'harbour.png', bytes: await png(20, 90, 200), type: 'image/png' }]);
    await pasteImage(ann, await png(240, 120, 20));
    const thumbs = tray.getByRole('img');
    await expect.poll(() => thumbs.count()).toBe(2);
    expect(await thumbs.nth(0).getAttribute('alt')).toBe('Picture 1 to send: harbour.png');
    expect(await thumbs.nth(1).getAttribute('alt')).toBe('Picture 2 to send: image.png');
    await expect.poll(() => loaded(thumbs.nth(1))).toBe(true);
    // A file that is no picture is refused at once, with what to send.
    await dropFiles(ann, '#messages', [{ name: 'notes.txt', bytes: [104, 105], type: 'text/plain' }]);
    await expect.poll(() => ann.locator('#composer-error').textContent()).toMatch(/notes\.txt is not a PNG, JPEG, WebP or GIF/);
    expect(await thumbs.count()).toBe(2);
    await ann.screenshot({ path: `${ARTIFACTS}playground-pictures-tray.png` });

    expect(await ann.getByRole('status').filter({ hasText: 'to send' }).textContent()).toBe('2 pictures to send: harbour.png, image.png');
    await ann.getByRole('button', { name: 'Remove image.png' }).focus();
    await ann.keyboard.press('Enter');
    await expect.poll(() => thumbs.count()).toBe(1);
    expect(await ann.getByRole('status').filter({ hasText: 'to send' }).textContent()).toBe('1 picture to send: harbour.png');
    // Focus stays in the tray, on what is left to remove.
    expect(await ann.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Remove harbour.png');

    const prompt = 'a watercolour of this harbour';
    const input = ann.getByRole('combobox', { name: 'Message #playground' });
    await input.fill(`/imagine ${prompt} --count 1`);
    await input.press('Escape');
    await input.press('Enter');
    await tray.waitFor({ state: 'hidden' });

    for (const page of [ann, bob]) {
      const card = succeeded(jobCard(page, prompt, /^by Ann$/));
      await card.waitFor({ timeout: DONE });
      expect(await card.locator('.inputs-text').textContent()).toBe('Started from 1 picture: harbour.png');
      const inputThumb = card.getByRole('link', { name: 'Open picture 1 it started from: harbour.png' }).locator('img');
      await expect.poll(() => loaded(inputThumb)).toBe(true);
      await expect.poll(() => loaded(card.locator('img.grid'))).toBe(true);
    }
    await ann.screenshot({ path: `${ARTIFACTS}playground-pictures-job.png` });
  }, 120_000);

  it('📎 picks two pictures for /blend', async () => {
    await ann.locator('#file-input').setInputFiles([
      { name: 'sea.png', mimeType: 'image/png', buffer: Buffer.from(await png(20, 90, 200)) },
      { name: 'sun.png', mimeType: 'image/png', buffer: Buffer.from(await png(240, 120, 20)) },
    ]);
    await expect.poll(() => ann.getByRole('list', { name: 'Pictures to send' }).getByRole('img').count()).toBe(2);
    const input = ann.getByRole('combobox', { name: 'Message #playground' });
    await input.fill('/blend --dimensions landscape');
    await input.press('Escape');
    await input.press('Enter');
    const card = succeeded(ann.locator('article.job').filter({ has: ann.locator('.attribution', { hasText: /^Blend by Ann$/ }) }));
    await card.waitFor({ timeout: DONE });
    expect(await card.locator('.inputs-text').textContent()).toBe('Started from 2 pictures: sea.png, sun.png');
  }, 120_000);

  it('Vary (Region): the area is drawn over the picture and sent as fractions of it', async () => {
    const prompt = 'a quiet harbour at dawn';
    const input = ann.getByRole('combobox', { name: 'Message #playground' });
    await input.fill(`/imagine ${prompt} --count 1`);
    await input.press('Escape');
    await input.press('Enter');
    const grid = succeeded(jobCard(ann, prompt, /^by Ann$/));
    await grid.waitFor({ timeout: DONE });
    await grid.getByRole('button', { name: 'U1', exact: true }).click();
    const up = succeeded(jobCard(bob, prompt, /Upscale of image 1 by Ann/));
    await up.waitFor({ timeout: DONE });

    // Bob, another member, draws the region on Ann's upscale.
    await up.getByRole('button', { name: 'Vary (Region)', exact: true }).click();
    const dialog = bob.getByRole('dialog', { name: 'Vary (Region)' });
    await dialog.waitFor();
    const img = dialog.locator('#region-image');
    await expect.poll(() => loaded(img)).toBe(true);
    // Typed from the keyboard (focus starts in the first field), the area shows on the picture too.
    expect(await dialog.locator('#region-box').isVisible()).toBe(false);
    for (const v of ['10', '10', '30', '30']) {
      await bob.keyboard.type(v);
      await bob.keyboard.press('Tab');
    }
    expect(await dialog.locator('#region-box').isVisible()).toBe(true);
    const box = (await img.boundingBox())!;
    await bob.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.2);
    await bob.mouse.down();
    await bob.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.4, { steps: 4 });
    await bob.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.6, { steps: 4 });
    await bob.mouse.up();
    // The drawn area shows, and the percent fields follow it (for keyboard users they are the way in).
    expect(await dialog.locator('#region-box').isVisible()).toBe(true);
    expect(Number(await dialog.getByLabel('Left').inputValue())).toBeCloseTo(25, 0);
    expect(Number(await dialog.getByLabel('Width').inputValue())).toBeCloseTo(50, 0);
    expect(Number(await dialog.getByLabel('Height').inputValue())).toBeCloseTo(40, 0);
    await dialog.getByLabel(/New prompt/).fill('a red boat');
    await bob.screenshot({ path: `${ARTIFACTS}playground-region.png` });
    await dialog.getByRole('button', { name: 'Vary (Region)' }).click();
    await dialog.waitFor({ state: 'hidden' });

    // The new prompt is the child's: its message shows it.
    const card = succeeded(jobCard(ann, 'a red boat', /Vary \(Region\) by Bob/));
    await card.waitFor({ timeout: DONE });
    const job = (await pg.atelier.getJob((await card.getAttribute('data-job'))!))!;
    if (job.action.kind !== 'region') throw new Error(`expected a region job, got ${job.action.kind}`);
    expect(job.action.prompt).toBe('a red boat');
    expect(job.action.region.x).toBeCloseTo(0.25, 1);
    expect(job.action.region.y).toBeCloseTo(0.2, 1);
    expect(job.action.region.width).toBeCloseTo(0.5, 1);
    expect(job.action.region.height).toBeCloseTo(0.4, 1);
  }, 180_000);

  it('Custom Zoom asks for the factor and says what is wrong with one out of range', async () => {
    const up = succeeded(jobCard(ann, 'a quiet harbour at dawn', /Upscale of image 1 by Ann/));
    await up.getByRole('button', { name: 'Custom Zoom', exact: true }).click();
    const dialog = ann.getByRole('dialog', { name: 'Custom Zoom' });
    const factor = dialog.getByLabel(/Zoom out by/);
    expect(await factor.inputValue()).toBe('2');
    await factor.fill('3');
    await factor.press('Enter');
    await expect.poll(() => dialog.getByRole('alert').textContent()).toMatch(/1\.1 to 2/);
    await factor.fill('1.8');
    await factor.press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    await succeeded(jobCard(ann, 'a quiet harbour at dawn', /Zoom Out 1\.8× by Ann/)).waitFor({ timeout: DONE });
  }, 120_000);
});
