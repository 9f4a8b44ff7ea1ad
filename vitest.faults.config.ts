import { defineConfig } from 'vitest/config';

/**
 * The process and Redis fault tests (`npm run test:faults`, also run by `.ci/run`): worker processes SIGKILLed
 * while they clean a 20,000-row list, private redis-servers killed and restarted, connections killed. They take
 * minutes and many processes, so `npm test` leaves them out (see vitest.config.ts).
 */
export const PROCESS_FAULT_TESTS = ['test/faults/worker-kills.test.ts', 'test/faults/redis-faults.test.ts'];

export default defineConfig({
  test: {
    include: PROCESS_FAULT_TESTS,
    // Redis for the run: the one that answers, else a private redis-server (see the file).
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // One file at a time: each runs several worker processes and is about crashes, not about load.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
