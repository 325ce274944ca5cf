import { expect, it } from 'vitest';
import { contractSuite } from './suite.ts';
import { createSlackDriver } from './slack-driver.ts';

const driver = createSlackDriver('socket');
contractSuite(() => driver);

it('sent Slack only calls its method specs allow, over Socket Mode too', () => {
  expect(driver.fake.proxy.callsOf('apps.connections.open').length).toBeGreaterThanOrEqual(2);
  expect(driver.fake.proxy.violations).toEqual([]);
});
