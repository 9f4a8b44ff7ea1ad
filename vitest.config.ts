import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Run by `npm run test:cluster` (vitest.cluster.config.ts), against a Redis Cluster it starts.
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
