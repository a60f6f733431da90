// Client benchmarks (`cargo xtask bench-client`): the browser tests' configuration with
// long timeouts, a fixed viewport and precise memory figures (`performance.memory` is
// otherwise bucketed).
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './bench',
  timeout: 20 * 60_000,
  expect: { timeout: 60_000 },
  use: {
    ...base.use,
    viewport: { width: 1280, height: 900 },
    launchOptions: {
      ...base.use?.launchOptions,
      args: [...(base.use?.launchOptions?.args ?? []), '--enable-precise-memory-info'],
    },
  },
});
