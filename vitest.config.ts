import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Run by `npm run test:cluster` (vitest.cluster.config.ts), against a Redis Cluster it starts.
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    // Redis for the run: the one that answers, else a private redis-server (see the file).
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
