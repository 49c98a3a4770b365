import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/temp-root.ts'],
    testTimeout: 30_000,
    pool: 'forks',
    // Most end-to-end tests wait on processes, servers and timers: two files at a time roughly halve
    // the wall time on a 2-core machine (8 min against 14 measured), and every file still passes.
    maxWorkers: 2,
  },
});
