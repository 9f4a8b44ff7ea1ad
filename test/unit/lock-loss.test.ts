/**
 * Which BullMQ worker errors mean "this worker no longer holds the job" (logged as info: the job runs again and its
 * writes are guarded) rather than a failure (logged as an error). The messages are BullMQ's own, as this version
 * words them (lock-manager.js, scripts.js `finishedErrors`): a BullMQ upgrade that rewords them fails here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLockLoss } from '../../src/pipeline/workers.js';

const bullmqDir = join(dirname(createRequire(import.meta.url).resolve('bullmq')), '..', 'esm', 'classes');

describe('isLockLoss', () => {
  it.each([
    'could not renew lock for job fx-1.b5',
    'Missing key for job fx-1.b17. moveToFinished',
    'Missing lock for job fx-1.b17. moveToDelayed',
    'Job fx-1.b17 is not in the active state. moveToFinished',
  ])('%s: the job was taken over', (message) => {
    expect(isLockLoss(new Error(message))).toBe(true);
  });

  it.each(['Connection is closed.', 'ERR unknown command', 'Job fx-1.b17 has pending dependencies. moveToFinished', 'something could not renew lock for job x'])('%s: not a lock loss', (message) => {
    expect(isLockLoss(new Error(message))).toBe(false);
  });

  it('matches the words of the installed BullMQ', () => {
    expect(readFileSync(join(bullmqDir, 'lock-manager.js'), 'utf8')).toContain('could not renew lock for job ${jobId}');
    const scripts = readFileSync(join(bullmqDir, 'scripts.js'), 'utf8');
    expect(scripts).toContain('Missing key for job ${jobId}. ${command}');
    expect(scripts).toContain('Missing lock for job ${jobId}. ${command}');
    expect(scripts).toContain('Job ${jobId} is not in the ${state} state. ${command}');
  });
});
