import { expect, it } from 'vitest';
import { contractSuite } from './suite.ts';
import { createSlackDriver } from './slack-driver.ts';

const driver = createSlackDriver();
contractSuite(() => driver);

// Runs after the scenarios: every Web API call the bot made had its required arguments and no unknown ones.
it('sent Slack only calls its method specs allow', () => {
  expect(driver.fake.proxy.calls.length).toBeGreaterThan(0);
  expect(driver.fake.proxy.violations).toEqual([]);
});
