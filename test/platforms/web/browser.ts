import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const ARTIFACTS = new URL('../../../test-artifacts/', import.meta.url).pathname;

/**
 * Debian's Chromium, headless. `launch` gives every run a fresh temporary profile (user-data-dir),
 * and each person gets an isolated context: their own localStorage, so their own identity.
 */
export async function launchChromium(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

/**
 * Records every state each job message passes through, and whether it showed a progress bar, as the
 * DOM changes: the test then asserts on what the person saw without racing a fast job.
 */
const RECORDER = `
window.__seen = {};
new MutationObserver(() => {
  for (const a of document.querySelectorAll('article.job')) {
    const s = (window.__seen[a.dataset.job] ??= { states: [], progress: false });
    if (s.states.at(-1) !== a.dataset.state) s.states.push(a.dataset.state);
    if (a.querySelector('progress')) s.progress = true;
  }
}).observe(document, { subtree: true, childList: true, attributes: true });
`;

export interface Seen {
  states: string[];
  progress: boolean;
}

/** A person in the channel: a fresh context with the chosen display name. */
export async function openPerson(browser: Browser, url: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
  await context.addInitScript(RECORDER);
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    throw new Error(`page error in ${name}'s tab: ${err.message}`);
  });
  await page.goto(url);
  await page.locator('body[data-ready="true"]').waitFor();
  await page.getByLabel('Your name').fill(name);
  return page;
}

export const seenIn = (page: Page, jobId: string): Promise<Seen | undefined> =>
  page.evaluate((id) => (window as unknown as { __seen: Record<string, Seen> }).__seen[id], jobId);
