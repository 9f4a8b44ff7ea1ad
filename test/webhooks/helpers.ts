/**
 * Shared setup of the webhook tests: a small simulated world, list files, the settings that point
 * webhooks at loopback receivers with fast retries.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListView } from '../../src/pipeline/list-view.js';
import type { WebhookAttempt } from '../../src/webhooks/index.js';
import type { SimWorldSpec } from '../../src/world/index.js';
import { QUICK_SLOW_WORLD } from '../helpers/quick-slow-world.js';

/** The webhook tests' world: see `QUICK_SLOW_WORLD`. */
export const WEBHOOK_WORLD: SimWorldSpec = QUICK_SLOW_WORLD;

/** ann and ben exist, zed does not, one row is not an address: 2 deliverable, 2 undeliverable. */
export const QUICK_ROWS = ['ann@quick.test', 'ben@quick.test', 'zed@quick.test', 'not an address'];

export const slowRows = (n: number): string[] => Array.from({ length: n }, (_, i) => `u${i}@slow.test`);

/** Write `email` + rows as `<dir>/<name>.csv`; returns its path. */
export async function writeList(dir: string, name: string, rows: string[]): Promise<string> {
  const path = join(dir, `${name}.csv`);
  await writeFile(path, ['email', ...rows].join('\n') + '\n');
  return path;
}

/** Settings for webhooks to loopback receivers, signed with `secret`, retried after 200 ms, 400 ms, … */
export function webhookEnv(secret: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LISTWASH_WEBHOOK_SECRET: secret,
    LISTWASH_WEBHOOK_ALLOWED_TARGETS: 'loopback',
    LISTWASH_WEBHOOK_RETRY_DELAY_MS: '200',
    LISTWASH_WEBHOOK_RETRY_WINDOW_SEC: '120',
    LISTWASH_WEBHOOK_TIMEOUT_MS: '3000',
    LISTWASH_CATCH_ALL_PROBE: 'false',
    ...extra,
  };
}

/** The webhook attempts recorded in a list's status. */
export function attemptsOf(view: ListView | null): WebhookAttempt[] {
  return view?.webhook ?? [];
}
