import { contractSuite } from './suite.ts';
import { createWebDriver } from './web-driver.ts';

// The playground runs the same scenarios as Discord and Slack, over its own HTTP API and event stream.
contractSuite(createWebDriver);
