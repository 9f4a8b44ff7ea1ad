import { defineConfig } from 'vitest/config';

/** `npm run test:cluster`: the tests of `test/cluster/` against a real Redis Cluster started for the run. */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    globalSetup: ['test/cluster/global-setup.ts'],
    pool: 'forks',
    // One file at a time: the crash scenario runs worker processes and is sensitive to CPU load.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
