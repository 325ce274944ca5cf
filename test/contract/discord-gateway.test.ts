import { expect, it } from 'vitest';
import { contractSuite } from './suite.ts';
import { createDiscordDriver } from './discord-driver.ts';

// The same scenarios with a real discord.js Client on the fake gateway: answers go out as REST callbacks.
const driver = createDiscordDriver('gateway');
contractSuite(() => driver);

it('sent Discord only requests it accepts, and identified on the gateway', () => {
  expect(driver.fake.gateway.identified.length).toBeGreaterThan(0);
  expect(driver.fake.requests.some((r) => r.route === '/interactions/{interaction_id}/{interaction_token}/callback' && r.status === 204)).toBe(true);
  expect(driver.fake.violations).toEqual([]);
  // Nothing was left at the deferred "thinking…" state.
  expect(driver.messages().filter((m) => m.text === 'Atelier is thinking…')).toEqual([]);
});
