#!/usr/bin/env node
// The installed `atelier` command: run the TypeScript CLI through tsx, so there is no build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');
