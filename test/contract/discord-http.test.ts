import { expect, it } from 'vitest';
import { contractSuite } from './suite.ts';
import { createDiscordDriver } from './discord-driver.ts';

const driver = createDiscordDriver('http');
contractSuite(() => driver);

// Runs after the scenarios: everything the bot sent passed the spec, the documented limits and the multipart rules.
it('sent Discord only requests it accepts', () => {
  expect(driver.fake.requests.length).toBeGreaterThan(0);
  expect(driver.fake.violations).toEqual([]);
  // Nothing was left at the deferred "thinking…" state.
  expect(driver.messages().filter((m) => m.text === 'Atelier is thinking…')).toEqual([]);
});
