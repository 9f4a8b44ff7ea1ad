import { configDefaults, defineConfig } from 'vitest/config';
import { PROCESS_FAULT_TESTS } from './vitest.faults.config.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Run by `npm run test:cluster` (vitest.cluster.config.ts), against a Redis Cluster it starts, and by
    // `npm run test:faults` (vitest.faults.config.ts): minutes of worker processes and Redis restarts.
    exclude: [...configDefaults.exclude, 'test/cluster/**', ...PROCESS_FAULT_TESTS],
    // Redis for the run: the one that answers, else a private redis-server (see the file).
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
